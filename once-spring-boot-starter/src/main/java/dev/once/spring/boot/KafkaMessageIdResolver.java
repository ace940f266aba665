package dev.once.spring.boot;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;

/**
 * The message id of a Kafka record for the idempotent listeners of {@link
 * OnceKafkaListenerContainerFactory}: the key under which "already applied" is remembered. Declare
 * one bean to replace the default (the UTF-8 value of the last {@code once.kafka.message-id-header}
 * header, default {@value OnceKafkaListenerContainerFactory#MESSAGE_ID_HEADER}, or the SpEL {@code
 * once.kafka.message-id-expression} evaluated on the record).
 *
 * <pre>{@code
 * @Bean
 * KafkaMessageIdResolver paymentIds() {
 *   return record -> record.key() == null ? null : "payment-" + record.key();
 * }
 * }</pre>
 *
 * <p>It sees the raw record, before any payload conversion. It must be deterministic: a redelivery
 * must get the same id. Thread-safe: it is called from every consumer thread.
 */
@FunctionalInterface
public interface KafkaMessageIdResolver {

  /**
   * The record's id.
   *
   * @param record the raw record, before payload conversion
   * @return the id, or {@code null} (or blank) if it has none; then {@code once.kafka.no-id-policy}
   *     applies
   */
  @Nullable String messageId(ConsumerRecord<?, ?> record);
}
