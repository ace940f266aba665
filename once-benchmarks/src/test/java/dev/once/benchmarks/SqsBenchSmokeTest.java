package dev.once.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.benchmarks.SqsBench.Kind;
import dev.once.benchmarks.SqsBench.Rep;
import org.junit.jupiter.api.Test;

/**
 * Keeps the SQS scenario from rotting: a few hundred messages through both variants against the
 * local (or embedded) PostgreSQL and ElasticMQ in this JVM. Checks what each variant applied, never
 * how fast.
 */
class SqsBenchSmokeTest {

  private static final int MESSAGES = 300;

  @Test
  void bothVariantsReadTheWholeQueueAndApplyEachIdAsTheyShould() throws Exception {
    SqsBench.Result result = SqsBench.run(new SqsBench.Config(MESSAGES, 20, 1));

    assertThat(result.distinctIds).isBetween(MESSAGES / 2, MESSAGES - 1);
    assertThat(result.reps).hasSize(2);
    for (Rep rep : result.reps) {
      assertThat(rep.received()).as("%s received", rep.kind()).isEqualTo(MESSAGES);
      // No dedupe applies every message, duplicates again; Once applies each distinct id once.
      assertThat(rep.ledgerRows())
          .as("%s ledger rows", rep.kind())
          .isEqualTo(rep.kind() == Kind.PLAIN ? MESSAGES : result.distinctIds);
    }
    double[] ratios = SqsBench.ratios(result.reps);
    assertThat(ratios).hasSize(1);
    assertThat(ratios[0]).isPositive();
    assertThat(SqsBench.render(result, "smoke test"))
        .contains("msg/s, Once ÷ plain", "## Every round", Kind.ONCE.label);
  }
}
