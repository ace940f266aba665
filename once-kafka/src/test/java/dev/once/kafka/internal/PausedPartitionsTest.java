package dev.once.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PausedPartitionsTest {

  private static final TopicPartition P0 = new TopicPartition("t", 0);
  private static final TopicPartition P1 = new TopicPartition("t", 1);
  private static final TopicPartition P2 = new TopicPartition("t", 2);

  /** A poll while paused: how long it could block, and what was paused then. */
  record Poll(Duration timeout, Set<TopicPartition> paused) {}

  /** Blocks in poll like a real consumer with nothing to return, and records each poll. */
  static final class BlockingConsumer extends MockConsumer<String, String> {
    final List<Poll> polls = new ArrayList<>();
    Runnable onPoll = () -> {};

    BlockingConsumer() {
      super("earliest");
    }

    @Override
    public synchronized ConsumerRecords<String, String> poll(Duration timeout) {
      polls.add(new Poll(timeout, Set.copyOf(paused())));
      onPoll.run();
      ConsumerRecords<String, String> records = super.poll(timeout);
      if (records.isEmpty()) {
        LockSupport.parkNanos(timeout.toNanos());
      }
      return records;
    }
  }

  private final BlockingConsumer consumer = new BlockingConsumer();
  private final PausedPartitions paused = new PausedPartitions(consumer);

  @BeforeEach
  void assign() {
    consumer.assign(List.of(P0, P1));
    consumer.updateBeginningOffsets(Map.of(P0, 0L, P1, 0L, P2, 0L));
  }

  @Test
  void aPartitionStoppedAtARecordIsSoughtBackAndPausedUntilItsWaitIsOver() {
    consumer.seek(P0, 8);
    paused.pauseAt(P0, 5, TimeUnit.HOURS.toNanos(1));

    assertThat(consumer.position(P0)).isEqualTo(5);
    assertThat(consumer.paused()).containsExactly(P0);
    Duration poll = paused.resumeDue(Duration.ofSeconds(5));
    assertThat(consumer.paused()).as("not due yet").containsExactly(P0);
    assertThat(poll)
        .as("a short poll, so a due partition is resumed promptly")
        .isEqualTo(Duration.ofMillis(100));

    paused.pauseAt(P1, 0, 0);
    paused.resumeDue(Duration.ofSeconds(5));
    assertThat(consumer.paused()).as("P1 was due at once").containsExactly(P0);
  }

  @Test
  void withNothingWaitingThePollTimeoutIsTheCallers() {
    assertThat(paused.resumeDue(Duration.ofSeconds(5))).isEqualTo(Duration.ofSeconds(5));
    paused.pauseAt(P0, 0, 0);
    assertThat(paused.resumeDue(Duration.ofSeconds(5))).isEqualTo(Duration.ofSeconds(5));
    assertThat(consumer.paused()).isEmpty();
  }

  @Test
  void aPollNeverOutlastsTheFirstDuePartitionNorTheCallersTimeout() {
    paused.pauseAt(P0, 0, TimeUnit.HOURS.toNanos(1));
    assertThat(paused.resumeDue(Duration.ofMillis(20))).isEqualTo(Duration.ofMillis(20));
    paused.pauseAt(P1, 0, TimeUnit.MILLISECONDS.toNanos(50));
    assertThat(paused.resumeDue(Duration.ofSeconds(5))).isLessThanOrEqualTo(Duration.ofMillis(50));
  }

  @Test
  void aHeldPartitionStaysPausedUntilReleased() {
    paused.hold(List.of(P0, P1));
    assertThat(consumer.paused()).containsExactlyInAnyOrder(P0, P1);
    assertThat(paused.resumeDue(Duration.ofSeconds(5)))
        .as("no deadline resumes a held partition")
        .isEqualTo(Duration.ofSeconds(5));
    assertThat(consumer.paused()).containsExactlyInAnyOrder(P0, P1);

    consumer.assign(List.of(P0));
    assertThat(paused.heldAndAssigned())
        .as("P1 is no longer assigned: forgotten")
        .containsExactly(P0);

    paused.release(Set.of(P0));
    assertThat(consumer.paused()).doesNotContain(P0);
    assertThat(paused.heldAndAssigned()).isEmpty();
  }

  @Test
  void revokedPartitionsAreForgotten() {
    paused.hold(List.of(P0));
    paused.pauseAt(P1, 0, TimeUnit.HOURS.toNanos(1));

    paused.forget(List.of(P0, P1));

    assertThat(paused.heldAndAssigned()).isEmpty();
    assertThat(paused.resumeDue(Duration.ofSeconds(5)))
        .as("nothing waits any more")
        .isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void waitingOutPausesEveryPartitionKeepsPollingAndThenResumesAllButTheHeld() {
    paused.hold(List.of(P1));
    consumer.addRecord(new ConsumerRecord<>("t", 0, 0, "k", "v"));

    paused.waitOut(TimeUnit.MILLISECONDS.toNanos(250), () -> false);

    assertThat(consumer.polls).as("kept polling, in steps of at most 100 ms").hasSizeGreaterThan(2);
    assertThat(consumer.polls)
        .allSatisfy(
            poll -> {
              assertThat(poll.timeout()).isLessThanOrEqualTo(Duration.ofMillis(100));
              assertThat(poll.paused()).containsExactlyInAnyOrder(P0, P1);
            });
    assertThat(consumer.paused()).as("the held one stays paused").containsExactly(P1);
    assertThat(consumer.poll(Duration.ZERO).count())
        .as("the record was not read while paused, and is now")
        .isEqualTo(1);
  }

  @Test
  void aPartitionAssignedDuringTheWaitIsPausedToo() {
    consumer.onPoll = () -> consumer.assign(List.of(P0, P1, P2));

    paused.waitOut(TimeUnit.MILLISECONDS.toNanos(150), () -> false);

    assertThat(consumer.polls.get(consumer.polls.size() - 1).paused())
        .containsExactlyInAnyOrder(P0, P1, P2);
    assertThat(consumer.paused()).isEmpty();
  }

  @Test
  void waitingOutEndsAsSoonAsTheConsumerCloses() {
    long start = System.nanoTime();
    paused.waitOut(TimeUnit.HOURS.toNanos(1), () -> true);
    assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(10));
    assertThat(consumer.paused()).isEmpty();
  }
}
