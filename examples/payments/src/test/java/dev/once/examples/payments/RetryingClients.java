package dev.once.examples.payments;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Careful clients of the payments API, for the crash and partition drills: each sends charges with
 * fresh keys, one key at a time, and retries a key with the same request until it gets a final
 * answer, through refused connections, 5xx and 409 alike, as a client must across a crash or an
 * outage. Each key is also its charge's customer id, so the payments table tells how many times
 * each key charged. Thread-safe.
 */
final class RetryingClients implements AutoCloseable {

  /**
   * A key's final answer: its status, for a 201 the payment's {@code Location}, and when it came
   * ({@link System#nanoTime()}, to tell a lost key's place among the drill's crashes).
   */
  record Answer(int status, String location, long answeredAt) {}

  /**
   * How long a client waits before it sends a key again; the server's Retry-After is whole seconds,
   * too coarse.
   */
  private static final Duration RETRY_PAUSE = Duration.ofMillis(50);

  private final String prefix;
  private final Supplier<URI> base;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final ExecutorService threads;
  private final Map<String, Answer> answers = new ConcurrentHashMap<>();

  /** The keys sent and not finally answered yet, each with the last answer it got. */
  private final Map<String, String> unanswered = new ConcurrentHashMap<>();

  private final List<RuntimeException> failures = new CopyOnWriteArrayList<>();
  private volatile boolean stopping;

  private RetryingClients(String prefix, int clients, Supplier<URI> base) {
    this.prefix = prefix;
    this.base = base;
    this.threads = Executors.newFixedThreadPool(clients);
    for (int i = 0; i < clients; i++) {
      int client = i;
      threads.execute(() -> run(client));
    }
  }

  /**
   * Starts {@code clients} clients, each sending keys {@code prefix-<client>-<n>} to the service at
   * {@code base} (asked again for every request, so a restarted service may listen elsewhere).
   */
  static RetryingClients start(String prefix, int clients, Supplier<URI> base) {
    return new RetryingClients(prefix, clients, base);
  }

  /** The keys answered 201 so far. */
  int acknowledged() {
    return (int) answers.values().stream().filter(a -> a.status() == 201).count();
  }

  /** Every key with a final answer, and that answer. */
  Map<String, Answer> answers() {
    return Map.copyOf(answers);
  }

  /**
   * The keys sent and not finally answered yet with the last answer each got (a status, an
   * exception, or "sending" before the first), and why a client stopped, if one did.
   */
  String unanswered() {
    return unanswered + (failures.isEmpty() ? "" : ", clients failed: " + failures);
  }

  /** What stopped a client other than {@link #stopSendingNewKeys()}: nothing, when all is well. */
  List<RuntimeException> failures() {
    return List.copyOf(failures);
  }

  /**
   * Each client finishes the key it is on (retrying it until it has its final answer) and takes no
   * new one.
   */
  void stopSendingNewKeys() {
    stopping = true;
  }

  /** Whether every client has stopped, after {@link #stopSendingNewKeys()}. */
  boolean finished() {
    threads.shutdown();
    return threads.isTerminated();
  }

  private void run(int client) {
    for (int n = 0; !stopping; n++) {
      String key = prefix + "-" + client + "-" + n;
      unanswered.put(key, "sending");
      try {
        answers.put(key, untilFinal(key));
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        failures.add(e);
        return;
      }
      unanswered.remove(key);
    }
  }

  private Answer untilFinal(String key) throws InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(base.get().resolve("/payments"))
            .timeout(Duration.ofSeconds(30))
            .header(
                "Authorization",
                "Basic "
                    + Base64.getEncoder()
                        .encodeToString("alice:alice".getBytes(StandardCharsets.UTF_8)))
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", key)
            .POST(HttpRequest.BodyPublishers.ofString(PaymentsApiContract.charge(key, 1250)))
            .build();
    while (true) {
      try {
        HttpResponse<Void> r = http.send(request, HttpResponse.BodyHandlers.discarding());
        unanswered.put(key, r.statusCode() + " at " + Instant.now());
        if (r.statusCode() != 409 && r.statusCode() != 429 && r.statusCode() < 500) {
          return new Answer(
              r.statusCode(), r.headers().firstValue("Location").orElse(null), System.nanoTime());
        }
      } catch (IOException e) {
        unanswered.put(key, e + " at " + Instant.now());
        // Refused, reset or timed out: the service is down or restarting. Send the same request
        // again.
        request =
            HttpRequest.newBuilder(request, (name, value) -> true)
                .uri(base.get().resolve("/payments"))
                .build();
      }
      TimeUnit.MILLISECONDS.sleep(RETRY_PAUSE.toMillis());
    }
  }

  /** Every key answered 201, in no particular order. */
  List<String> acknowledgedKeys() {
    List<String> keys = new ArrayList<>();
    answers.forEach(
        (key, answer) -> {
          if (answer.status() == 201) {
            keys.add(key);
          }
        });
    return keys;
  }

  @Override
  public void close() {
    threads.shutdownNow();
  }
}
