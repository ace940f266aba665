/**
 * A RabbitMQ inbox consumer on amqp-client: {@link dev.once.rabbitmq.RabbitInboxConsumer} claims
 * and applies each delivered batch in one database transaction and acknowledges it after the
 * commit.
 */
@NullMarked
package dev.once.rabbitmq;

import org.jspecify.annotations.NullMarked;
