package dev.once.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BatchTickerTest {

  private static final Duration EVERY = Duration.ofMillis(20);

  private final BlockingQueue<List<String>> ticks = new LinkedBlockingQueue<>();
  private final BatchTicker<String> ticker = new BatchTicker<>(EVERY, "ticker-test", ticks::add);

  @AfterEach
  void close() {
    ticker.close();
  }

  private List<String> nextTick() throws InterruptedException {
    List<String> tick = ticks.poll(10, TimeUnit.SECONDS);
    assertThat(tick).as("a tick came").isNotNull();
    return tick;
  }

  @Test
  void ticksTheBatchAgainAndAgainWhileItRuns() throws Exception {
    List<String> batch = new ArrayList<>(List.of("a", "b"));
    ticker.start(batch);
    batch.clear(); // the ticker keeps its own snapshot
    for (int i = 0; i < 3; i++) {
      assertThat(nextTick()).containsExactly("a", "b");
    }
  }

  @Test
  void anUpdateNarrowsTheBatchForEveryLaterTick() throws Exception {
    ticker.start(List.of("a", "b"));
    assertThat(nextTick()).containsExactly("a", "b");
    ticker.update(List.of("b"));
    // A tick holds the ticker while it runs, so every tick of the old batch is in the queue now.
    ticks.clear();
    assertThat(nextTick()).containsExactly("b");
    assertThat(nextTick()).containsExactly("b");
  }

  @Test
  void noTickOfAStoppedBatchComesAfterStop() throws Exception {
    ticker.start(List.of("old"));
    assertThat(nextTick()).containsExactly("old");
    ticker.stop();
    ticks.clear();
    // The timer runs its ticks in order: a late tick of the old batch would come before the new
    // batch's first.
    ticker.start(List.of("new"));
    assertThat(nextTick()).containsExactly("new");
  }

  @Test
  void anUpdateAfterStopDoesNotRestartTicking() throws Exception {
    ticker.start(List.of("old"));
    ticker.stop();
    ticker.update(List.of("late"));
    ticker.start(List.of("new"));
    assertThat(nextTick()).containsExactly("new");
  }

  @Test
  void aFailingTickDoesNotStopTheNextOnes() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    try (BatchTicker<String> failing =
        new BatchTicker<>(
            EVERY,
            "failing-ticker-test",
            messages -> {
              if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("broker down (test)");
              }
              ticks.add(messages);
            })) {
      failing.start(List.of("a"));
      assertThat(nextTick()).containsExactly("a");
      assertThat(calls.get()).isGreaterThanOrEqualTo(2);
    }
  }

  @Test
  void aPeriodThatIsNotPositiveIsRefused() {
    assertThatThrownBy(() -> new BatchTicker<String>(Duration.ZERO, "t", m -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the tick period must be positive, but was PT0S");
  }
}
