package dev.once.examples.payments;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.drill.Check;
import dev.once.drill.Drill;
import dev.once.drill.DrillInputs;
import dev.once.drill.DrillReport;
import dev.once.drill.Injection;
import dev.once.drill.Oracle;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * once-drill's walk-through (docs/drills.md) as a test: the drill's payments scenario against this
 * service as it ships (a SQLite file, the JDBC store in atomic mode), with the oracle counting each
 * scenario customer's payments in that file. It passes; with the Idempotency-Key layer off ({@code
 * once.http.enabled=false}) the same drill fails and names the checks that caught it.
 */
class PaymentsDrillIT {

  private static Drill.Builder drill(PaymentsApp app, Path dataDir) {
    String runId = UUID.randomUUID().toString().substring(0, 8);
    return Drill.builder(app.base, DrillInputs.paymentsScenario(20, runId))
        .runId(runId)
        .fraction(Injection.SLOW_RETRY, 0.2)
        .slowRetries(2, Duration.ofMillis(500))
        .oracle(
            Oracle.jdbc(
                "jdbc:sqlite:" + dataDir.resolve("payments.db"),
                null,
                null,
                "select count(*) from payments where customer_id = {body.customerId}"));
  }

  private static Map<String, String> sqlite(String name, Map<String, String> more) {
    Map<String, String> properties = new HashMap<>(PaymentsApp.sqlite(name));
    properties.putAll(more);
    return properties;
  }

  @Test
  void theDrillPassesOnThePaymentsService() {
    String name = "drill-" + UUID.randomUUID();
    try (PaymentsApp app = PaymentsApp.start(new ScriptedProcessor(), sqlite(name, Map.of()))) {
      DrillReport report = drill(app, Path.of(dataDir(app))).build().run();
      System.out.print(report.table());

      assertThat(report.passed()).as(report.table()).isTrue();
      assertThat(report.checks())
          .filteredOn(c -> !c.id().equals("replay-latency"))
          .as("every check was exercised: %s", report.table())
          .allMatch(c -> c.status() == Check.Status.PASS && c.passed() > 0);
    }
  }

  @Test
  void theDrillFailsWithTheLayerOffAndNamesTheChecks() {
    String name = "drill-off-" + UUID.randomUUID();
    try (PaymentsApp app =
        PaymentsApp.start(
            new ScriptedProcessor(), sqlite(name, Map.of("once.http.enabled", "false")))) {
      DrillReport report = drill(app, Path.of(dataDir(app))).build().run();
      System.out.print(report.table());

      assertThat(report.passed()).isFalse();
      assertThat(report.failedChecks())
          .as(report.table())
          .contains(
              "replays-identical",
              "replay-marker",
              "in-flight",
              "mismatch-refused",
              "effects-exactly-once");
      assertThat(report.check("no-5xx").orElseThrow().status()).isEqualTo(Check.Status.PASS);
    }
  }

  private static String dataDir(PaymentsApp app) {
    return app.context.getEnvironment().getRequiredProperty("payments.data-dir");
  }
}
