package dev.once.examples.payments;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.testkit.ChildJvm;
import dev.once.testkit.EffectChecker;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The payments service as it ships (its embedded default: a SQLite file in {@code
 * payments.data-dir}) in a child JVM, SIGKILLed again and again under clients that retry every key
 * until it has a final answer: a charge the service answered 201 must still be there, charged once
 * and replayed, after every crash.
 */
class CrashDrillIT {

  private static final int KILLS = 10;
  private static final int CLIENTS = 6;
  private static final Pattern PORT = Pattern.compile("Tomcat started on port (\\d+)");
  private static final Pattern CUSTOMER = Pattern.compile("\"customerId\":\"([^\"]+)\"");

  private final HttpClient http = HttpClient.newHttpClient();
  private Path dataDir;
  private ChildJvm service;
  private volatile URI base;

  @AfterEach
  void stop() throws Exception {
    if (service != null) {
      service.kill();
    }
    if (dataDir != null) {
      try (Stream<Path> files = Files.walk(dataDir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  @Test
  void everyChargeAnswered201SurvivesRepeatedSigkillsOfTheService() throws Exception {
    long seed = Long.getLong("once.chaos.seed", System.nanoTime());
    System.out.println(
        "[payments] crash drill seed " + seed + " (repeat with -Donce.chaos.seed=" + seed + ")");
    Random random = new Random(seed);
    dataDir = Files.createTempDirectory("once-payments-crash");
    start();

    List<Integer> killedAt = new ArrayList<>();
    List<Long> killTimes = new ArrayList<>();
    try (RetryingClients clients = RetryingClients.start("crash", CLIENTS, () -> base)) {
      for (int kill = 0; kill < KILLS; kill++) {
        awaitAcknowledged(clients, clients.acknowledged() + 20 + random.nextInt(100));
        // A service that died by itself would make this kill count for nothing.
        assertThat(service.process().isAlive())
            .as("the service is alive before kill %d", kill + 1)
            .isTrue();
        killTimes.add(System.nanoTime());
        service.kill();
        killedAt.add(clients.acknowledged());
        start();
      }
      awaitAcknowledged(clients, clients.acknowledged() + 50);
      clients.stopSendingNewKeys();
      awaitOrExplain(clients, "every client finished its last key", clients::finished);

      Map<String, RetryingClients.Answer> answers = clients.answers();
      List<String> acknowledged = clients.acknowledgedKeys();
      EffectChecker.Verdict verdict = EffectChecker.check(acknowledged, paymentsPerCustomer());
      System.out.println(
          "[payments] crash drill seed "
              + seed
              + ": "
              + KILLS
              + " SIGKILLs at "
              + killedAt
              + " keys answered 201; "
              + acknowledged.size()
              + " keys answered 201 in all; "
              + verdict);
      for (String lost : verdict.lost()) {
        long at = answers.get(lost).answeredAt();
        System.out.println(
            "[payments] lost "
                + lost
                + ": answered "
                + killTimes.stream().map(k -> (k - at) / 1_000_000 + " ms").toList()
                + " before each kill");
      }
      if (!verdict.lost().isEmpty()) {
        System.out.println("[payments] the database files are kept in " + keepDatabase(seed));
      }
      assertThat(clients.failures()).as("clients that failed").isEmpty();
      assertThat(answers.values()).as("final answers").allMatch(a -> a.status() == 201);
      verdict.assertExactlyOnce("seed " + seed);
      for (String key : acknowledged) {
        HttpResponse<String> replay = post(key);
        assertThat(replay.statusCode()).as("replay of %s", key).isEqualTo(201);
        assertThat(replay.headers().firstValue("Idempotent-Replayed"))
            .as("replay of %s", key)
            .hasValue("true");
        assertThat(replay.headers().firstValue("Location"))
            .as("replay of %s", key)
            .hasValue(answers.get(key).location());
      }
    }
  }

  private void awaitAcknowledged(RetryingClients clients, int target) {
    awaitOrExplain(clients, target + " keys answered 201", () -> clients.acknowledged() >= target);
  }

  /**
   * Waits until {@code condition} holds; if it never does, fails with what is stuck: the keys not
   * answered yet and their last answers, the service's last output and its threads.
   */
  private void awaitOrExplain(RetryingClients clients, String what, Callable<Boolean> condition) {
    try {
      // Generous: on a loaded machine a restarted service takes long to serve again; a key stuck
      // for good (409 forever) still fails here.
      await().atMost(Duration.ofSeconds(90)).until(condition);
    } catch (ConditionTimeoutException e) {
      List<String> out = service.lines();
      throw new AssertionError(
          "not reached: "
              + what
              + "; "
              + clients.acknowledged()
              + " keys answered 201; unanswered "
              + clients.unanswered()
              + "; "
              + service
              + " said last: "
              + out.subList(Math.max(0, out.size() - 40), out.size())
              + "; its threads: "
              + threadDump(service.process()),
          e);
    }
  }

  /** Copies the database files to target/ so that a lost charge can be looked for after the run. */
  private Path keepDatabase(long seed) throws IOException {
    Path kept = Path.of("target", "crash-drill-" + seed).toAbsolutePath();
    try (Stream<Path> files = Files.walk(dataDir)) {
      for (Path p : files.toList()) {
        Files.copy(p, kept.resolve(dataDir.relativize(p).toString()));
      }
    }
    return kept;
  }

  private static String threadDump(Process process) {
    try {
      Process jcmd =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                  Long.toString(process.pid()),
                  "Thread.print")
              .redirectErrorStream(true)
              .start();
      return new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no thread dump: " + e + ")";
    }
  }

  /**
   * Starts the service on a free port with its data in {@link #dataDir}, and waits until it serves.
   */
  private void start() {
    ChildJvm child =
        ChildJvm.start(
            PaymentsApplication.class,
            List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"),
            List.of(
                "--server.port=0",
                "--payments.data-dir=" + dataDir,
                "--spring.main.banner-mode=off"));
    service = child;
    await()
        .atMost(Duration.ofMinutes(3))
        .until(
            () ->
                child.lines().stream().anyMatch(l -> l.contains("Started PaymentsApplication"))
                    || !child.process().isAlive());
    assertThat(child.process().isAlive())
        .as("the service started; its output: %s", child.lines())
        .isTrue();
    child.lines().stream()
        .filter(l -> l.contains("Started PaymentsApplication"))
        .forEach(System.out::println);
    Matcher port =
        child.lines().stream()
            .map(PORT::matcher)
            .filter(Matcher::find)
            .findFirst()
            .orElseThrow(() -> new AssertionError("no port in " + child.lines()));
    base = URI.create("http://127.0.0.1:" + port.group(1));
  }

  /** Payments per customer id (the key that charged them), from the service's own API. */
  private Map<String, Integer> paymentsPerCustomer() throws IOException, InterruptedException {
    HttpResponse<String> all =
        http.send(request("/payments").GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(all.statusCode()).isEqualTo(200);
    Map<String, Integer> counts = new HashMap<>();
    Matcher m = CUSTOMER.matcher(all.body());
    while (m.find()) {
      counts.merge(m.group(1), 1, Integer::sum);
    }
    return counts;
  }

  private HttpResponse<String> post(String key) throws IOException, InterruptedException {
    return http.send(
        request("/payments")
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", key)
            .POST(HttpRequest.BodyPublishers.ofString(PaymentsApiContract.charge(key, 1250)))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(base.resolve(path))
        .timeout(Duration.ofSeconds(30))
        .header(
            "Authorization",
            "Basic "
                + Base64.getEncoder()
                    .encodeToString("alice:alice".getBytes(StandardCharsets.UTF_8)));
  }
}
