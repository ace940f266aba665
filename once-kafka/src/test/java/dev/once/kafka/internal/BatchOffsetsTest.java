package dev.once.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class BatchOffsetsTest {

  private static final TopicPartition P0 = new TopicPartition("t", 0);
  private static final TopicPartition P1 = new TopicPartition("t", 1);

  private final MockConsumer<String, String> consumer = new MockConsumer<>("earliest");

  private static ConsumerRecords<String, String> batch() {
    return new ConsumerRecords<>(
        Map.of(
            P0, List.of(record(P0, 10), record(P0, 11), record(P0, 12)),
            P1, List.of(record(P1, 3), record(P1, 4))),
        Map.of());
  }

  private static ConsumerRecord<String, String> record(TopicPartition tp, long offset) {
    return new ConsumerRecord<>(tp.topic(), tp.partition(), offset, "k", "v");
  }

  @Test
  void theNextOffsetOfAPartitionIsAfterItsLastRecord() {
    assertThat(BatchOffsets.next(batch())).isEqualTo(Map.of(P0, 13L, P1, 5L));
  }

  @Test
  void commitsTheNextOffsetsToKafkaAndNothingWhenThereAreNone() {
    consumer.assign(List.of(P0, P1));
    BatchOffsets.commit(consumer, Map.of());
    assertThat(consumer.committed(Set.of(P0, P1))).isEmpty();

    BatchOffsets.commit(consumer, Map.of(P0, 13L, P1, 5L));
    assertThat(consumer.committed(Set.of(P0, P1)))
        .isEqualTo(Map.of(P0, new OffsetAndMetadata(13), P1, new OffsetAndMetadata(5)));
  }

  @Test
  void rewindSeeksEachAssignedPartitionToItsFirstUnsettledRecord() {
    consumer.assign(List.of(P0, P1));
    consumer.seek(P0, 13);
    consumer.seek(P1, 5);

    BatchOffsets.rewind(consumer, batch(), Map.of(P0, 12L));

    assertThat(consumer.position(P0)).as("settled up to 12").isEqualTo(12);
    assertThat(consumer.position(P1)).as("nothing settled: the batch's first").isEqualTo(3);
  }

  @Test
  void rewindLeavesARevokedPartitionAlone() {
    consumer.assign(List.of(P1));
    consumer.seek(P1, 5);

    BatchOffsets.rewind(consumer, batch(), Map.of());

    assertThat(consumer.assignment()).containsExactly(P1);
    assertThat(consumer.position(P1)).isEqualTo(3);
  }

  @Test
  void aSeekFailingAfterAFailureIsKeptAsSuppressed() {
    consumer.assign(List.of(P0));
    consumer.close(); // every seek now fails
    RuntimeException failure = new IllegalStateException("the batch failed");

    BatchOffsets.rewindAfter(failure, consumer, batch(), Map.of());

    assertThat(failure.getSuppressed()).hasSize(1);
  }
}
