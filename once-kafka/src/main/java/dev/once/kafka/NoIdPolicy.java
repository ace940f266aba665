package dev.once.kafka;

/**
 * What {@link KafkaInboxConsumer} does with a record whose message id is missing (null or blank).
 */
public enum NoIdPolicy {
  /**
   * Send the record to the dead-letter topic with reason {@code no message id}; it is never
   * applied. The default: a record without an id cannot be told apart from its own re-publication.
   */
  REJECT,
  /**
   * Use {@code "<topic>-<partition>-<offset>"} as the id. A redelivery of the same record is
   * skipped, but the same message produced twice (a producer retry) has two offsets and is applied
   * twice.
   */
  TOPIC_PARTITION_OFFSET
}
