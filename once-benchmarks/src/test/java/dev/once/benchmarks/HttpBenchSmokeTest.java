package dev.once.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.benchmarks.HttpBench.Rep;
import dev.once.benchmarks.HttpBench.Scenario;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Keeps the HTTP scenario from rotting: the payments jar the reactor built, with the layer off and
 * on and a key held in flight, a few hundred requests per scenario on the in-memory store, with the
 * Java client (and wrk where it is installed). Checks every answer's status, never how fast.
 */
class HttpBenchSmokeTest {

  @Test
  void everyScenarioAnswersWhatItShouldFromTheServiceJar() throws Exception {
    HttpBench.Result result = HttpBench.run(new HttpBench.Config(200, 2, 1, 1, List.of("memory")));

    List<Rep> java = result.reps.stream().filter(r -> r.client().equals("java")).toList();
    assertThat(java).extracting(Rep::scenario).containsExactly(Scenario.values());
    List<Rep> wrk = result.reps.stream().filter(r -> r.client().equals("wrk")).toList();
    assertThat(wrk).hasSize(result.wrkVersion == null ? 0 : Scenario.values().length);
    for (Rep rep : result.reps) {
      assertThat(rep.unexpected())
          .as("%s %s: answers other than %s", rep.client(), rep.scenario(), rep.scenario().status)
          .isZero();
      assertThat(rep.perSecond()).as("%s %s", rep.client(), rep.scenario()).isPositive();
    }
    assertThat(HttpBench.ratios(result.reps, "memory", "java", Scenario.FRESH)).hasSize(1);
    assertThat(HttpBench.render(result, "smoke test"))
        .contains("requests/s ÷ the layer off", "in-flight conflict", "| memory | java |");
  }
}
