package dev.once;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PurgerTest {

  private final TestClock clock = new TestClock();
  private final Scope scope = Scope.of("t", "op");
  private final Fingerprint fp = Fingerprint.of("request");

  /** Answers the scripted batch sizes in turn, then 0, and records the limits it was asked for. */
  private static final class ScriptedTarget implements Purger.Target {
    final Deque<Integer> answers;
    final List<Integer> limits = Collections.synchronizedList(new ArrayList<>());

    ScriptedTarget(Integer... answers) {
      this.answers = new ArrayDeque<>(List.of(answers));
    }

    @Override
    public int purge(int limit) {
      limits.add(limit);
      Integer next = answers.poll();
      return next == null ? 0 : next;
    }
  }

  @Test
  void purgesInBatchesOfTheBatchSizeUntilABatchComesBackShort() throws Exception {
    ScriptedTarget target = new ScriptedTarget(10, 10, 3, 10);
    List<String> events = new ArrayList<>();
    Purger purger =
        Purger.builder("records", target)
            .batchSize(10)
            .pause(Duration.ZERO)
            .clock(clock)
            .listener(
                new Purger.Listener() {
                  @Override
                  public void onBatch(String purger, int deleted) {
                    events.add(purger + " batch " + deleted);
                  }

                  @Override
                  public void onPurge(String purger, int batches, int deleted) {
                    events.add(purger + " purge " + batches + "/" + deleted);
                  }
                })
            .build();

    assertThat(purger.purgeOnce()).isEqualTo(23);

    assertThat(target.limits).containsExactly(10, 10, 10);
    assertThat(events)
        .containsExactly(
            "records batch 10", "records batch 10", "records batch 3", "records purge 3/23");
    assertThat(purger.progress())
        .isEqualTo(new Purger.Progress(1, 3, 23, 0, Instant.parse("2030-01-01T00:00:00Z"), null));
  }

  @Test
  void aFailedBatchIsCountedToldAndRethrownAndTheBatchesBeforeItCount() {
    StoreUnavailableException outage =
        new StoreUnavailableException("database down", "postgresql", null, null);
    int[] calls = {0};
    List<RuntimeException> told = new ArrayList<>();
    Purger purger =
        Purger.builder(
                "records",
                limit -> {
                  if (calls[0]++ == 0) {
                    return limit;
                  }
                  throw outage;
                })
            .batchSize(5)
            .pause(Duration.ZERO)
            .listener(
                new Purger.Listener() {
                  @Override
                  public void onFailure(String purger, RuntimeException failure) {
                    told.add(failure);
                  }
                })
            .clock(clock)
            .build();

    assertThatThrownBy(purger::purgeOnce).isSameAs(outage);

    assertThat(told).containsExactly(outage);
    Purger.Progress p = purger.progress();
    assertThat(p.purges()).isZero();
    assertThat(p.batches()).isEqualTo(1);
    assertThat(p.deleted()).isEqualTo(5);
    assertThat(p.failures()).isEqualTo(1);
    assertThat(p.lastFailure()).isEqualTo(outage.getMessage());
    assertThat(p.lastPurge()).isEqualTo(clock.instant());
  }

  @Test
  void aListenerThatThrowsDoesNotStopThePurge() throws Exception {
    Purger purger =
        Purger.builder("records", new ScriptedTarget(2, 1))
            .batchSize(2)
            .pause(Duration.ZERO)
            .listener(
                new Purger.Listener() {
                  @Override
                  public void onBatch(String purger, int deleted) {
                    throw new IllegalStateException("broken listener");
                  }
                })
            .build();

    assertThat(purger.purgeOnce()).isEqualTo(3);
  }

  @Test
  void closingEndsAPurgeDuringItsPause() throws Exception {
    CountDownLatch firstBatch = new CountDownLatch(1);
    Purger purger =
        Purger.builder(
                "records",
                limit -> {
                  firstBatch.countDown();
                  return limit; // always a full batch: only close() ends this purge
                })
            .batchSize(1)
            .pause(Duration.ofHours(1))
            .build();
    Thread closer =
        new Thread(
            () -> {
              try {
                firstBatch.await();
                purger.close();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    closer.start();

    assertThat(purger.purgeOnce()).isEqualTo(1);
    closer.join();
  }

  @Test
  void theStorePurgerDeletesExpiredRecordsAndNeverALiveLease() throws Exception {
    InMemoryIdempotencyStore store = InMemoryIdempotencyStore.builder().clock(clock).build();
    for (int i = 0; i < 7; i++) {
      IdempotencyKey key = IdempotencyKey.of(scope, "done-" + i);
      long token =
          ((ClaimResult.Acquired) store.claim(request(key, Duration.ofMinutes(1)))).token();
      store.complete(key, token, Outcome.empty(), Duration.ofHours(1));
    }
    // Older than its retention, but its lease (renewed by a heartbeat, say) is live.
    IdempotencyKey held = IdempotencyKey.of(scope, "held");
    store.claim(new ClaimRequest(held, fp, Duration.ofHours(3), Duration.ofHours(1)));
    clock.advance(Duration.ofHours(2));

    Purger purger = Purger.builder(store).batchSize(3).pause(Duration.ZERO).build();

    assertThat(purger.name()).isEqualTo("memory");
    assertThat(purger.purgeOnce()).isEqualTo(7);
    assertThat(purger.progress().batches()).isEqualTo(3);
    assertThat(store.size()).isEqualTo(1);
    assertThat(store.claim(new ClaimRequest(held, fp, Duration.ofHours(3), Duration.ofHours(1))))
        .isInstanceOf(ClaimResult.InProgress.class);
  }

  @Test
  void startPurgesInTheBackgroundUntilClosed() throws Exception {
    CountDownLatch twoPurges = new CountDownLatch(2);
    Purger purger =
        Purger.builder(
                "records",
                limit -> {
                  twoPurges.countDown();
                  return 0;
                })
            .interval(Duration.ofMillis(1))
            .build();

    purger.start();
    assertThat(purger.isRunning()).isTrue();
    assertThat(twoPurges.await(20, TimeUnit.SECONDS)).as("two background purges").isTrue();
    assertThatThrownBy(purger::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("purger records was started already");

    purger.close();
    assertThat(purger.isRunning()).isFalse();
    assertThat(purger.progress().purges()).isGreaterThanOrEqualTo(2);
    purger.close(); // idempotent
    assertThatThrownBy(purger::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("purger records was started already");
  }

  @Test
  void aFailingBackgroundPurgeIsTriedAgain() throws Exception {
    CountDownLatch threeAttempts = new CountDownLatch(3);
    Purger purger =
        Purger.builder(
                "records",
                limit -> {
                  threeAttempts.countDown();
                  throw new StoreException("boom", "test", null, null);
                })
            .interval(Duration.ofMillis(1))
            .build();
    purger.start();
    try {
      assertThat(threeAttempts.await(20, TimeUnit.SECONDS)).isTrue();
    } finally {
      purger.close();
    }
    assertThat(purger.progress().failures()).isGreaterThanOrEqualTo(3);
  }

  @Test
  void aClosedPurgerCannotStart() {
    Purger purger = Purger.builder("records", limit -> 0).build();
    purger.close();
    assertThatThrownBy(purger::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("purger records is closed");
  }

  @Test
  void badSettingsAreRefusedWithTheValue() {
    Purger.Target target = limit -> 0;
    assertThatThrownBy(() -> Purger.builder(" ", target))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("name must not be blank, but was ' '");
    assertThatThrownBy(() -> Purger.builder("p", target).batchSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("batchSize must be positive, but was 0");
    assertThatThrownBy(() -> Purger.builder("p", target).pause(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("pause must not be negative, but was PT-0.001S");
    assertThatThrownBy(() -> Purger.builder("p", target).interval(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("interval must be positive, but was PT0S");
  }

  private ClaimRequest request(IdempotencyKey key, Duration lease) {
    return new ClaimRequest(key, fp, lease, Duration.ofHours(1));
  }
}
