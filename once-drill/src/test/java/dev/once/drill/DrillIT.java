package dev.once.drill;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The drill against services on the JDK's HTTP server: it passes one that keeps its keys, and fails
 * a naive one, naming the checks that catch it.
 */
class DrillIT {
  @TempDir Path dir;

  static List<DrillRequest> orders(int n) {
    List<DrillRequest> requests = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      requests.add(
          new DrillRequest(
              "POST",
              "/orders",
              List.of(new DrillRequest.Header("Content-Type", "application/json")),
              "{\"item\":" + i + "}"));
    }
    return requests;
  }

  private static Drill.Builder drill(TestService service, int n) {
    return Drill.builder(service.uri(), orders(n))
        .slowRetries(2, Duration.ofMillis(300))
        .fraction(Injection.SLOW_RETRY, 0.2)
        .oracle(Oracle.http(service.uri(), "/effects?key={key}"));
  }

  @Test
  void aServiceThatKeepsItsKeysPassesEveryCheck() throws Exception {
    try (TestService service = TestService.idempotent()) {
      DrillReport report = drill(service, 20).build().run();

      assertThat(report.passed()).as(report.table()).isTrue();
      assertThat(report.checks())
          .filteredOn(c -> !c.id().equals("replay-latency"))
          .as("every check was exercised: %s", report.table())
          .allMatch(c -> c.status() == Check.Status.PASS && c.passed() > 0);
      assertThat(report.check("replay-latency").orElseThrow().status())
          .isEqualTo(Check.Status.INFO);
      assertThat(report.attempts()).extracting(Attempt::kind).contains(Attempt.Kind.values());
    }
  }

  @Test
  void aNaiveServiceFailsWithTheChecksThatCatchIt() throws Exception {
    try (TestService service = TestService.naive()) {
      DrillReport report = drill(service, 20).build().run();

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
      assertThat(report.check("effects-exactly-once").orElseThrow().detail())
          .contains("took effect 2 times");
    }
  }

  @Test
  void aServiceThatNeverAnswersIsCutOffAtTheBound() throws Exception {
    try (TestService service = TestService.hanging()) {
      DrillReport report =
          Drill.builder(service.uri(), orders(2)).maxDuration(Duration.ofSeconds(1)).build().run();

      assertThat(report.failedChecks()).contains("within-bounds");
      assertThat(report.check("within-bounds").orElseThrow().detail()).contains("tasks cut off");
    }
  }

  @Test
  void theCommandLineWritesTheReportsAndExitsWithTheVerdict() throws Exception {
    Path jsonl = dir.resolve("orders.jsonl");
    Files.writeString(
        jsonl,
        "{\"method\":\"POST\",\"url\":\"/orders\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":{\"item\":1}}\n"
            + "{\"method\":\"POST\",\"url\":\"/orders\",\"body\":{\"item\":2}}\n"
            + "{\"method\":\"POST\",\"url\":\"/orders\",\"body\":{\"item\":3}}\n",
        StandardCharsets.UTF_8);
    Path json = dir.resolve("report.json");
    Path html = dir.resolve("report.html");
    for (boolean idempotent : new boolean[] {true, false}) {
      try (TestService service = idempotent ? TestService.idempotent() : TestService.naive()) {
        StringWriter out = new StringWriter();
        int code =
            DrillCommand.execute(
                new String[] {
                  "--target", service.uri().toString(), "--jsonl", jsonl.toString(),
                  "--oracle-http", "/effects?key={key}", "--slow-window", "PT0.2S",
                  "--json", json.toString(), "--html", html.toString()
                },
                new PrintWriter(out, true),
                new PrintWriter(new StringWriter(), true));

        assertThat(code).as(out.toString()).isEqualTo(idempotent ? 0 : DrillCommand.FAILED);
        assertThat(out.toString()).contains(idempotent ? "\nPASS\n" : "\nFAIL: replays-identical");
        JsonNode report = JsonMapper.builder().build().readTree(Files.readString(json));
        assertThat(report.path("passed").asBoolean()).isEqualTo(idempotent);
        assertThat(report.path("checks").size()).isEqualTo(9);
        assertThat(report.path("attempts").size()).isGreaterThan(3);
        String page = Files.readString(html);
        assertThat(page)
            .startsWith("<!DOCTYPE html>")
            .contains("<svg", "<circle", idempotent ? "<h1>PASS" : "<h1>FAIL")
            .doesNotContain("<script", "src=\"http", "href=\"http");
      }
    }
  }
}
