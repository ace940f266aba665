package dev.once.examples.payments;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.examples.payments.PaymentsApp.Reply;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What an operator sees: /actuator/prometheus after a charge, its replay and a duplicate in flight
 * (409), and the JSON log lines, which never carry the raw key. On H2 in memory: SQLite lets one
 * transaction write at a time, so there a duplicate waits for the first commit instead of being
 * answered 409 (see SqlitePaymentsIT). The console output is captured by teeing System.out, which
 * Logback's console appender writes to at each line. (Spring Boot 4.1's OutputCaptureExtension
 * needs JUnit 6; the build runs JUnit 5.)
 */
class ObservabilityIT {

  private static final Pattern SAMPLE =
      Pattern.compile("^(once_claims_total)\\{([^}]*)\\} ([0-9.eE+-]+)$", Pattern.MULTILINE);

  @Test
  void prometheusCountsTheChargeTheReplayAndTheConflictAndTheLogsNeverShowTheKey()
      throws Exception {
    PrintStream original = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(
        new PrintStream(
            new OutputStream() {
              @Override
              public void write(int b) {
                original.write(b);
                synchronized (captured) {
                  captured.write(b);
                }
              }

              @Override
              public void write(byte[] b, int off, int len) {
                original.write(b, off, len);
                synchronized (captured) {
                  captured.write(b, off, len);
                }
              }
            },
            true,
            StandardCharsets.UTF_8));
    try {
      chargeReplayConflictAndScrape();
    } finally {
      System.setOut(original);
    }
    String logs;
    synchronized (captured) {
      logs = captured.toString(StandardCharsets.UTF_8);
    }
    assertThat(logs).doesNotContain(KEY);
    assertThat(logs.lines().filter(l -> l.contains("\"logger\":\"dev.once.outcome\"")))
        .as("one JSON line per outcome: acquired, in_progress, completed, replayed")
        .hasSize(4)
        .allSatisfy(
            l ->
                assertThat(l)
                    .startsWith("{")
                    .contains("\"operation\":\"POST /payments\"")
                    .containsPattern("\"key_digest\":\"[0-9a-f]{64}\""));
    // The trace id reaches Once's lines (Micrometer Tracing puts it in the MDC): the charge's
    // claim and completion share one trace, the 409 and the replay are requests of their own.
    Map<String, String> traceByOutcome = new LinkedHashMap<>();
    logs.lines()
        .filter(l -> l.contains("\"logger\":\"dev.once.outcome\""))
        .forEach(
            l -> {
              Matcher outcome = Pattern.compile("\"outcome\":\"([a-z_]+)\"").matcher(l);
              Matcher trace = TRACE_ID.matcher(l);
              assertThat(outcome.find()).as(l).isTrue();
              assertThat(trace.find()).as("a trace id in %s", l).isTrue();
              traceByOutcome.put(outcome.group(1), trace.group(1));
            });
    assertThat(traceByOutcome).containsOnlyKeys("acquired", "in_progress", "completed", "replayed");
    assertThat(traceByOutcome.get("completed")).isEqualTo(traceByOutcome.get("acquired"));
    assertThat(Set.copyOf(traceByOutcome.values()))
        .as("three requests, three traces: %s", traceByOutcome)
        .hasSize(3);
  }

  private static final Pattern TRACE_ID = Pattern.compile("\"traceId\":\"([0-9a-f]{16,32})\"");

  private static final String KEY = "raw-key-" + UUID.randomUUID();

  private void chargeReplayConflictAndScrape() throws Exception {
    ScriptedProcessor processor = new ScriptedProcessor();
    Map<String, String> properties =
        new LinkedHashMap<>(PaymentsApp.h2("observability-" + UUID.randomUUID()));
    properties.put("logging.level.dev.once.outcome", "DEBUG");
    String key = KEY;
    String customer = PaymentsApiContract.customer();
    String body = PaymentsApiContract.charge(customer, 1250);
    try (PaymentsApp app = PaymentsApp.start(processor, properties)) {
      ScriptedProcessor.Gate gate = processor.hold(customer);
      CompletableFuture<Reply> first =
          CompletableFuture.supplyAsync(() -> app.post("alice", "/payments", key, body));
      assertThat(gate.awaitEntered()).isTrue();
      Reply conflict = app.post("alice", "/payments", key, body);
      gate.open();
      Reply charged = first.get(30, TimeUnit.SECONDS);
      Reply replay = app.post("alice", "/payments", key, body);

      assertThat(charged.status()).isEqualTo(201);
      assertThat(conflict.status()).isEqualTo(409);
      assertThat(replay.replayed()).isTrue();

      assertThat(app.get(null, "/actuator/prometheus").status())
          .as("behind the API's login")
          .isEqualTo(401);
      Reply scrape = app.get("alice", "/actuator/prometheus");
      assertThat(scrape.status()).isEqualTo(200);
      Map<String, Double> claims = claimsByOutcome(scrape.text());
      assertThat(claims)
          .containsEntry("acquired", 1.0)
          .containsEntry("replayed", 1.0)
          .containsEntry("in_progress", 1.0);
      assertThat(scrape.text())
          .contains("once_store_latency_seconds_bucket")
          .contains("once_executions_total{")
          .doesNotContain(key)
          .doesNotContain("alice\"");
    }
  }

  /** once_claims_total per outcome, summed over the other tags. */
  private static Map<String, Double> claimsByOutcome(String scrape) {
    Map<String, Double> byOutcome = new LinkedHashMap<>();
    Matcher m = SAMPLE.matcher(scrape);
    while (m.find()) {
      Matcher outcome = Pattern.compile("outcome=\"([^\"]*)\"").matcher(m.group(2));
      if (outcome.find()) {
        byOutcome.merge(outcome.group(1), Double.parseDouble(m.group(3)), Double::sum);
      }
    }
    return byOutcome;
  }
}
