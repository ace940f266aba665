package dev.once.kafka.internal;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Where each partition of a polled batch goes next, for both consumers: after the batch, its next
 * offsets are committed to Kafka; after a failure, each partition is sought back to its first
 * record that is not settled, so the next poll reads it again and nothing is skipped.
 */
public final class BatchOffsets {

  private BatchOffsets() {}

  /** Per partition of {@code records}, the offset after its last record. */
  public static Map<TopicPartition, Long> next(ConsumerRecords<?, ?> records) {
    Map<TopicPartition, Long> next = new HashMap<>();
    for (TopicPartition tp : records.partitions()) {
      List<? extends ConsumerRecord<?, ?>> inPartition = records.records(tp);
      next.put(tp, inPartition.get(inPartition.size() - 1).offset() + 1);
    }
    return next;
  }

  /** Commits these next offsets to Kafka ({@code commitSync}); nothing when there are none. */
  public static void commit(Consumer<?, ?> consumer, Map<TopicPartition, Long> next) {
    if (next.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
    next.forEach((tp, offset) -> commit.put(tp, new OffsetAndMetadata(offset)));
    consumer.commitSync(commit);
  }

  /**
   * Seeks every partition of {@code records} that is still assigned back to its first record not in
   * {@code settledUpTo} (the offset after a partition's last settled record), or to its first
   * record in the batch.
   */
  public static void rewind(
      Consumer<?, ?> consumer,
      ConsumerRecords<?, ?> records,
      Map<TopicPartition, Long> settledUpTo) {
    Set<TopicPartition> assigned = consumer.assignment();
    for (TopicPartition tp : records.partitions()) {
      if (assigned.contains(tp)) {
        consumer.seek(tp, settledUpTo.getOrDefault(tp, records.records(tp).get(0).offset()));
      }
    }
  }

  /**
   * {@link #rewind} after {@code failure} ended the batch; a failure of the seeks is added to it as
   * suppressed, so the caller rethrows the cause.
   */
  public static void rewindAfter(
      RuntimeException failure,
      Consumer<?, ?> consumer,
      ConsumerRecords<?, ?> records,
      Map<TopicPartition, Long> settledUpTo) {
    try {
      rewind(consumer, records, settledUpTo);
    } catch (RuntimeException seek) {
      failure.addSuppressed(seek);
    }
  }
}
