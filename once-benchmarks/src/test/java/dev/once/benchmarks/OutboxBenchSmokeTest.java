package dev.once.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.benchmarks.OutboxBench.Latency;
import dev.once.benchmarks.OutboxBench.RelayKind;
import dev.once.benchmarks.OutboxBench.Rep;
import dev.once.benchmarks.OutboxBench.WriteKind;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Keeps the outbox scenario from rotting: a few hundred messages through every part against the
 * local (or embedded) PostgreSQL and the test kit's broker in this JVM. The run itself checks every
 * row and message count; this checks the report has every row and sane figures, never how fast.
 */
class OutboxBenchSmokeTest {

  @Test
  void everyPartRunsAndTheReportHasEveryRow() throws Exception {
    OutboxBench.Config tiny =
        new OutboxBench.Config(2, 25, 1, 300, 1, 150, List.of(0.5), 2, true, true, 7L);

    OutboxBench.Result result = OutboxBench.run(tiny);

    assertThat(result.writes).hasSize(WriteKind.values().length);
    assertThat(result.writes)
        .allSatisfy(
            r -> {
              assertThat(r.count()).isEqualTo(2 * 25);
              assertThat(r.perSecond()).isPositive().isFinite();
            });
    assertThat(result.relays).hasSize(RelayKind.values().length);
    assertThat(result.relays).extracting(Rep::count).containsOnly(300L);
    assertThat(result.latencies).hasSize(2);
    for (Latency l : result.latencies) {
      assertThat(l.written()).isEqualTo(150);
      assertThat(l.distinct()).isEqualTo(l.written());
      assertThat(l.consumed()).isGreaterThanOrEqualTo(l.distinct());
      assertThat(l.p50()).isPositive();
      assertThat(l.p99()).isGreaterThanOrEqualTo(l.p50());
      assertThat(l.max()).isGreaterThanOrEqualTo(l.p99());
    }
    assertThat(result.ratio(result.writes, "OUTBOX_NOTIFY", "PLAIN")[0]).isPositive().isFinite();
    assertThat(result.ratio(result.relays, "RELAY", "RAW")[0]).isPositive().isFinite();
    assertThat(result.ratio(result.relays, "RELAY_1000", "RAW")[0]).isPositive().isFinite();
    assertThat(result.ratio(result.relays, "RELAY_1000_DELETE", "RAW")[0]).isPositive().isFinite();
    assertThat(result.ratio(result.relays, "DATABASE_CEILING", "RAW")[0]).isPositive().isFinite();
    assertThat(result.ratio(result.writes, "OUTBOX_NOTIFY_EVERY", "PLAIN")[0])
        .isPositive()
        .isFinite();

    String report = OutboxReport.render(result, "smoke test");
    assertThat(report)
        .contains(
            "## 1. Write path",
            "## 2. Relay throughput to Kafka",
            "## 3. Commit-to-publish latency",
            "transactions/s, outbox (notify on, at most every 10 ms, the default) ÷ plain",
            "transactions/s, outbox (notify on every write) ÷ plain",
            "transactions/s, outbox (notify off) ÷ plain",
            "messages/s, relay (batchSize 100) ÷ raw producer",
            "messages/s, relay (batchSize 1000) ÷ raw producer",
            "messages/s, relay (batchSize 1000, retention 0) ÷ raw producer",
            "messages/s, the database's part alone (batchSize 1000) ÷ raw producer",
            "messages/s, relay (batchSize 1000) ÷ the database's part alone",
            "p99, LISTEN/NOTIFY, 50% load",
            "p99, polling ÷ LISTEN/NOTIFY, 50% load")
        .contains(
            java.util.Arrays.stream(WriteKind.values()).map(k -> k.label).toArray(String[]::new))
        .contains(
            java.util.Arrays.stream(RelayKind.values()).map(k -> k.label).toArray(String[]::new))
        .doesNotContain("n/a");
  }
}
