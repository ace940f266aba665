package dev.once.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.IdempotencyKey;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Keeps the harness from rotting: runs it end to end for a fraction of a second per scenario on the
 * stores that need no server (in memory, embedded H2). Measures nothing worth reading.
 */
class BenchmarksSmokeTest {

  @Test
  void runsEveryInProcessScenarioAndRendersTheReport() throws Exception {
    Settings tiny = new Settings(50, 150, 2, 2, List.of(20), List.of(), Path.of("unused.md"), true);

    String report = Benchmarks.run(tiny, List.of("memory", "h2"), "smoke test");

    assertThat(report)
        .doesNotContain(Report.FAILED)
        .contains("## Targets", "## in-memory", "## H2", "## Reading", "## Every repetition")
        .contains(
            "ceiling: MERGE WHEN NOT MATCHED THEN INSERT",
            "Once claimAll + complete each, 1 tx",
            "20.0%");
  }

  @Test
  void duplicatesAreExactPerHundredKeysAndNeverRepeatInsideABatch() {
    KeyStream stream = new KeyStream("test", 0, 99, 1000);
    assertThat(stream.seedKeys()).hasSize(1000);
    List<IdempotencyKey> batch = new ArrayList<>();
    for (int round = 0; round < 3; round++) {
      assertThat(stream.next(1000, batch)).isEqualTo(990);
      Set<IdempotencyKey> distinct = new HashSet<>(batch);
      assertThat(distinct).hasSize(1000);
    }
    KeyStream none = new KeyStream("test", 1, 0, 1);
    assertThat(none.seedKeys()).isEmpty();
    assertThat(none.next(1, batch)).isZero();
  }

  @Test
  void histogramQuantilesAreWithinOnePercent() {
    Histogram h = new Histogram();
    for (long v = 1; v <= 100_000; v++) {
      h.record(v * 1000);
    }
    assertThat(h.count()).isEqualTo(100_000);
    assertThat((double) h.quantile(0.5))
        .isCloseTo(50_000_000, org.assertj.core.data.Percentage.withPercentage(1));
    assertThat((double) h.quantile(0.99))
        .isCloseTo(99_000_000, org.assertj.core.data.Percentage.withPercentage(1));
  }

  @Test
  void readsThisJvmsCpuFromProc() {
    long before = ProcCpu.selfNanos();
    long spin = System.nanoTime() + 50_000_000;
    long x = 0;
    while (System.nanoTime() < spin) {
      x += System.nanoTime() % 7;
    }
    assertThat(x).isNotNegative();
    assertThat(ProcCpu.selfNanos()).isGreaterThanOrEqualTo(before);
  }
}
