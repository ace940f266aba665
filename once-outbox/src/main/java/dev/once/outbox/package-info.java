/**
 * A transactional outbox: a service writes its messages in the same database transaction as the
 * change they announce, and a relay publishes them to a broker after the commit, marking each one
 * sent only once the broker has acknowledged it. Brokers plug in through {@link
 * dev.once.outbox.OutboxPublisher}.
 */
@NullMarked
package dev.once.outbox;

import org.jspecify.annotations.NullMarked;
