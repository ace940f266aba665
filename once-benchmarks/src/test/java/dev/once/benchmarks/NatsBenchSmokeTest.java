package dev.once.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Keeps the NATS scenario from rotting: a few hundred messages through both variants against the
 * local (or embedded) PostgreSQL and the tests' NATS server. The run itself checks every ledger's
 * rows; this checks the report has every row and sane figures, never how fast.
 */
class NatsBenchSmokeTest {

  @Test
  void bothVariantsRunAndTheReportHasEveryRow() throws Exception {
    NatsBench.Result result = NatsBench.run(new NatsBench.Config(400, 50, List.of(0, 20), 1, true));

    assertThat(result.reps).hasSize(6);
    assertThat(result.reps)
        .allSatisfy(
            r -> {
              assertThat(r.messages()).isEqualTo(400);
              assertThat(r.perSecond()).isPositive().isFinite();
            });
    assertThat(result.distinctIds).containsEntry(0, 400);
    assertThat(result.distinctIds.get(20)).isLessThan(400);
    for (NatsBench.Kind once : List.of(NatsBench.Kind.ONCE, NatsBench.Kind.ONCE_BATCH)) {
      assertThat(result.reps)
          .filteredOn(r -> r.kind() == once)
          .extracting(NatsBench.Rep::rows)
          .containsExactlyInAnyOrder(400L, (long) result.distinctIds.get(20));
      assertThat(result.ratios(once, 20)).hasSize(1);
      assertThat(result.ratios(once, 20)[0]).isPositive().isFinite();
    }

    String report = NatsBench.render(result, "smoke test");
    assertThat(report)
        .contains("# Benchmarks: the NATS JetStream inbox", "**This is a `--quick` run")
        .contains("| 0 % | 400 |", "| 20 % | " + result.distinctIds.get(20) + " |");
  }
}
