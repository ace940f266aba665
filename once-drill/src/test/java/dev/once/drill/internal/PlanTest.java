package dev.once.drill.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.drill.DrillInputs;
import dev.once.drill.DrillProgress;
import dev.once.drill.DrillRequest;
import dev.once.drill.Injection;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PlanTest {

  private static Settings settings(List<DrillRequest> requests, Map<Injection, Double> fractions) {
    return new Settings(
        URI.create("http://127.0.0.1:1"),
        requests,
        "Idempotency-Key",
        "Idempotent-Replayed",
        "true",
        fractions,
        3,
        2,
        Duration.ofSeconds(4),
        2,
        Duration.ofSeconds(5),
        Duration.ofSeconds(30),
        7,
        "run",
        null,
        Set.of(409),
        Set.of(422),
        null,
        DrillProgress.NONE);
  }

  @Test
  void eachInjectionReachesItsShareAndTheOpeningsExcludeEachOther() {
    Map<Injection, Double> f = new EnumMap<>(Injection.class);
    f.put(Injection.BURST, 0.2);
    f.put(Injection.CONCURRENT, 0.3);
    f.put(Injection.ABORTED, 0.1);
    f.put(Injection.DUPLICATE, 0.5);
    f.put(Injection.MISMATCH, 0.05);
    f.put(Injection.SLOW_RETRY, 0.1);

    List<Plan> plans = Plan.of(settings(DrillInputs.paymentsScenario(20, "p"), f));

    assertThat(plans).filteredOn(p -> p.opening() == Plan.Opening.BURST).hasSize(4);
    assertThat(plans).filteredOn(p -> p.opening() == Plan.Opening.CONCURRENT).hasSize(6);
    assertThat(plans).filteredOn(p -> p.opening() == Plan.Opening.ABORTED).hasSize(2);
    assertThat(plans).filteredOn(p -> p.opening() == Plan.Opening.PLAIN).hasSize(8);
    assertThat(plans).filteredOn(Plan::duplicate).hasSize(10);
    assertThat(plans).filteredOn(Plan::mismatch).as("ceil: any fraction reaches one").hasSize(1);
    assertThat(plans)
        .filteredOn(p -> !p.slowRetryDelaysMillis().isEmpty())
        .hasSize(2)
        .allSatisfy(
            p ->
                assertThat(p.slowRetryDelaysMillis()).hasSize(2).allMatch(d -> d >= 0 && d < 4000));
  }

  @Test
  void keysAreGeneratedPerLogicalRequestAndAGivenOneIsKept() {
    List<DrillRequest> requests = new ArrayList<>(DrillInputs.paymentsScenario(2, "p"));
    requests.set(1, requests.get(1).withHeader("idempotency-key", "mine"));

    List<Plan> plans = Plan.of(settings(requests, Map.of()));

    assertThat(plans.get(0).key()).isEqualTo("run-1");
    assertThat(plans.get(0).request().header("Idempotency-Key")).contains("run-1");
    assertThat(plans.get(1).key()).isEqualTo("mine");
  }

  @Test
  void aMismatchGoesOnlyToARequestWithABody() {
    List<DrillRequest> requests =
        List.of(
            new DrillRequest("DELETE", "/a/1", List.of(), ""),
            new DrillRequest("POST", "/a", List.of(), "{\"x\":1}"));
    List<Plan> plans = Plan.of(settings(requests, Map.of(Injection.MISMATCH, 1.0)));
    assertThat(plans).extracting(Plan::mismatch).containsExactly(false, true);
  }

  @Test
  void aChangedBodyDiffersForAnyFingerprint() {
    assertThat(DrillRun.changed("{\"a\":1}")).isEqualTo("{\"a\":1,\"drillChanged\":true}");
    assertThat(DrillRun.changed("[1]")).isEqualTo("[1]\ndrill-changed");
    assertThat(DrillRun.changed("text")).isEqualTo("text\ndrill-changed");
  }
}
