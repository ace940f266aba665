package dev.once.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.jdbc.TableLayout;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Keeps the purge scenario from rotting: four tiny simulated days per layout on the local (or
 * embedded) PostgreSQL. The run itself fails when a purge removes nothing or a fresh claim is not
 * acquired; this checks the figures are there and sane, never how fast.
 */
class PurgeBenchSmokeTest {

  @Test
  void bothLayoutsPurgeEveryDayAndTheReportHasTheRatios() throws Exception {
    PurgeBench.Result result =
        PurgeBench.run(new PurgeBench.Config(4, 300, 1, Duration.ofMillis(200)));

    for (PurgeBench.Measured m : new PurgeBench.Measured[] {result.plain(), result.partitioned()}) {
      assertThat(Arrays.stream(m.claimsPerSecond()).boxed())
          .hasSize(2)
          .allSatisfy(r -> assertThat(r).isPositive());
      assertThat(Arrays.stream(m.purged()).boxed())
          .as(m.layout() + ": records purged each day")
          .allSatisfy(n -> assertThat(n).isPositive());
      assertThat(m.bytes()).isPositive();
    }
    assertThat(result.partitioned().layout()).isEqualTo(TableLayout.PARTITIONED);
    assertThat(result.report())
        .contains("plain:", "partitioned:", "partitioned / plain: claims/s x");
  }
}
