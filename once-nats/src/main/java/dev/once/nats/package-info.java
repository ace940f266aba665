/**
 * A NATS JetStream inbox consumer on jnats: {@link dev.once.nats.NatsInboxConsumer} fetches from a
 * durable pull consumer, claims and applies each batch in one database transaction and acknowledges
 * it after the commit.
 */
@NullMarked
package dev.once.nats;

import org.jspecify.annotations.NullMarked;
