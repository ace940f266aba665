package dev.once.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.benchmarks.KafkaBench.Kind;
import dev.once.benchmarks.KafkaBench.Rep;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Keeps the Kafka scenario from rotting: a few hundred records through every variant against the
 * local (or embedded) PostgreSQL and the test kit's broker in this JVM. Checks what each variant
 * applied, never how fast.
 */
class KafkaBenchSmokeTest {

  private static final int MESSAGES = 300;

  @Test
  void everyVariantProcessesTheWholeTopicAndAppliesEachIdAsItShould() throws Exception {
    KafkaBench.Config tiny =
        new KafkaBench.Config(
            MESSAGES, 2, 50, List.of(0, 20), 1, 100, MESSAGES, 120_000, true, true, true);

    KafkaBench.Result result = KafkaBench.run(tiny);

    assertThat(result.distinctIds)
        .containsEntry(0, MESSAGES)
        .containsEntry(20, MESSAGES - MESSAGES / 5 + 1);
    assertThat(result.reps).hasSize(2 * Kind.values().length);
    for (Rep rep : result.reps) {
      int distinct = result.distinctIds.get(rep.dupPercent());
      assertThat(rep.polled()).as("%s polled", rep.kind()).isEqualTo(MESSAGES);
      // No dedupe applies every record, duplicates again; Once and Camel apply each distinct id
      // once.
      assertThat(rep.ledgerRows())
          .as("%s ledger rows at %d%% duplicates", rep.kind(), rep.dupPercent())
          .isEqualTo(rep.kind() == Kind.PLAIN ? MESSAGES : distinct);
    }
    assertThat(result.probes)
        .hasSize(2 * Kind.values().length)
        .allSatisfy(p -> assertThat(p.polls()).isPositive());
    assertThat(KafkaReport.render(result, "smoke test"))
        .contains(
            "## 0% duplicates",
            "## 20% duplicates", "msg/s, Once ÷ plain", "## JDBC work per poll", "## Every round");
  }
}
