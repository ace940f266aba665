/**
 * Kafka consumers that apply each record's effect once: {@link dev.once.kafka.KafkaInboxConsumer}
 * commits database effects and offsets in one transaction, and {@link
 * dev.once.kafka.KafkaLeaseConsumer} runs effects outside the database under a store's lease.
 */
@NullMarked
package dev.once.kafka;

import org.jspecify.annotations.NullMarked;
