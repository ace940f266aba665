package dev.once.drill;

import dev.once.drill.internal.DrillRun;
import dev.once.drill.internal.Settings;
import dev.once.drill.internal.Target;
import java.net.URI;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * A replay drill against one target: each recorded request is sent with its idempotency key
 * (generated when it has none), a chosen fraction of them gets each {@link Injection}, and {@link
 * #run()} returns the verdict.
 *
 * <pre>{@code
 * DrillReport report =
 *     Drill.builder(URI.create("http://localhost:8080"), DrillInputs.paymentsScenario(20, "demo"))
 *         .oracle(Oracle.jdbc("jdbc:sqlite:data/payments.db", null, null,
 *             "select count(*) from payments where customer_id = {body.customerId}"))
 *         .build()
 *         .run();
 * System.out.print(report.table());
 * }</pre>
 *
 * <p>Safe by design: it sends only to the target (a request's own host is ignored), at most {@link
 * Builder#maxRequests} logical requests, and stops at {@link Builder#maxDuration}.
 */
public final class Drill {

  private final Settings settings;

  private Drill(Settings settings) {
    this.settings = settings;
  }

  /**
   * {@return a builder for a drill of {@code requests} against {@code target}}
   *
   * @param target the service's origin, {@code http://host:port}; every request goes there
   * @param requests the logical requests, such as {@link DrillInputs#jsonLines}
   */
  public static Builder builder(URI target, List<DrillRequest> requests) {
    return new Builder(target, requests);
  }

  /**
   * Runs the drill: sends, waits for every answer (or the time bound), counts effects with the
   * oracle and checks.
   *
   * @return the verdict
   */
  public DrillReport run() {
    return new DrillRun(settings).run();
  }

  /** Builds a {@link Drill}; every setter checks its value at once. */
  public static final class Builder {
    private final URI target;
    private final List<DrillRequest> requests;
    private String keyHeader = "Idempotency-Key";
    private String replayHeader = "Idempotent-Replayed";
    private String replayValue = "true";
    private final Map<Injection, Double> fractions = new EnumMap<>(Injection.class);
    private int concurrency = 5;
    private int slowRetries = 2;
    private Duration slowWindow = Duration.ofSeconds(10);
    private int workers = 4;
    private Duration requestTimeout = Duration.ofSeconds(30);
    private int maxRequests = 1000;
    private Duration maxDuration = Duration.ofMinutes(5);
    private long seed = 1;
    private String runId = UUID.randomUUID().toString().substring(0, 8);
    private @Nullable Oracle oracle;
    private Set<Integer> inFlightStatuses = Set.of(409);
    private Set<Integer> mismatchStatuses = Set.of(422);
    private @Nullable Double maxReplaySlowdown;
    private DrillProgress progress = DrillProgress.NONE;

    private Builder(URI target, List<DrillRequest> requests) {
      this.target = Target.check(target);
      if (requests.isEmpty()) {
        throw new DrillInputException("no requests to drill with");
      }
      this.requests = List.copyOf(requests);
      fractions.put(Injection.DUPLICATE, 0.5);
      fractions.put(Injection.CONCURRENT, 0.2);
      fractions.put(Injection.ABORTED, 0.2);
      fractions.put(Injection.MISMATCH, 0.2);
      fractions.put(Injection.SLOW_RETRY, 0.1);
      fractions.put(Injection.BURST, 0.2);
    }

    /**
     * The header that carries the key; default {@code Idempotency-Key}.
     *
     * @param name the header's name
     * @return this builder
     */
    public Builder keyHeader(String name) {
      this.keyHeader = header(name, "keyHeader");
      return this;
    }

    /**
     * The header and value that mark a replayed answer; default {@code Idempotent-Replayed: true}.
     *
     * @param name the header's name
     * @param value its value (compared case-insensitively)
     * @return this builder
     */
    public Builder replayMarker(String name, String value) {
      this.replayHeader = header(name, "replay header");
      this.replayValue = value;
      return this;
    }

    /**
     * The fraction of requests that get {@code injection}, from 0 to 1. Defaults: duplicate 0.5,
     * concurrent, aborted, mismatch and burst 0.2, slow retry 0.1. Any fraction above 0 reaches at
     * least one request.
     *
     * @param injection the injection
     * @param fraction the fraction
     * @return this builder
     * @throws IllegalArgumentException if {@code fraction} is outside [0, 1]
     */
    public Builder fraction(Injection injection, double fraction) {
      if (!(fraction >= 0 && fraction <= 1)) {
        throw new IllegalArgumentException(
            "fraction of " + injection + " must be in [0, 1], but was " + fraction);
      }
      fractions.put(injection, fraction);
      return this;
    }

    /**
     * How many copies {@link Injection#CONCURRENT} sends at once; default 5, from 2 to 64.
     *
     * @param n the count
     * @return this builder
     */
    public Builder concurrency(int n) {
      this.concurrency = range(n, 2, 64, "concurrency");
      return this;
    }

    /**
     * {@link Injection#SLOW_RETRY}: how many retries, spread at random over {@code window} after
     * the first answer; default 2 over 10 seconds.
     *
     * @param retries the retries per request, from 1 to 10
     * @param window the window, positive
     * @return this builder
     */
    public Builder slowRetries(int retries, Duration window) {
      this.slowRetries = range(retries, 1, 10, "slow retries");
      this.slowWindow = positive(window, "slow retry window");
      return this;
    }

    /**
     * How many requests are worked on at a time; default 4, from 1 to 64.
     *
     * @param n the count
     * @return this builder
     */
    public Builder workers(int n) {
      this.workers = range(n, 1, 64, "workers");
      return this;
    }

    /**
     * How long one request may take; default 30 seconds.
     *
     * @param timeout the timeout, positive
     * @return this builder
     */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = positive(timeout, "request timeout");
      return this;
    }

    /**
     * The most logical requests the drill accepts; default 1000, at most 100000. More input is
     * refused, not cut.
     *
     * @param n the bound
     * @return this builder
     */
    public Builder maxRequests(int n) {
      this.maxRequests = range(n, 1, 100_000, "max requests");
      return this;
    }

    /**
     * The longest the drill runs; default 5 minutes. What is unfinished then is cancelled and the
     * check {@code within-bounds} fails.
     *
     * @param duration the bound, positive
     * @return this builder
     */
    public Builder maxDuration(Duration duration) {
      this.maxDuration = positive(duration, "max duration");
      return this;
    }

    /**
     * The seed that chooses the requests for each injection and the slow retries' times; default 1.
     *
     * @param seed the seed
     * @return this builder
     */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * The tag in generated keys ({@code <runId>-<n>}); default random, so two runs never share a
     * key.
     *
     * @param runId letters, digits and {@code -}, 1 to 40
     * @return this builder
     */
    public Builder runId(String runId) {
      if (!runId.matches("[A-Za-z0-9-]{1,40}")) {
        throw new IllegalArgumentException(
            "runId must be 1 to 40 letters, digits or '-', but was '" + runId + "'");
      }
      this.runId = runId;
      return this;
    }

    /**
     * Counts each request's effects for the check {@code effects-exactly-once}; without one that
     * check is skipped.
     *
     * @param oracle the oracle
     * @return this builder
     */
    public Builder oracle(Oracle oracle) {
      this.oracle = oracle;
      return this;
    }

    /**
     * The statuses that mean "still in flight, retry later"; default 409.
     *
     * @param statuses HTTP statuses
     * @return this builder
     */
    public Builder inFlightStatuses(Set<Integer> statuses) {
      this.inFlightStatuses = statuses(statuses, "in-flight statuses");
      return this;
    }

    /**
     * The statuses that refuse a key reused with another body; default 422.
     *
     * @param statuses HTTP statuses
     * @return this builder
     */
    public Builder mismatchStatuses(Set<Integer> statuses) {
      this.mismatchStatuses = statuses(statuses, "mismatch statuses");
      return this;
    }

    /**
     * Makes {@code replay-latency} a check: replays' median latency at most {@code factor} times
     * the first tries'. Without it the figures are reported only.
     *
     * @param factor the factor, positive
     * @return this builder
     */
    public Builder maxReplaySlowdown(double factor) {
      if (!(factor > 0)) {
        throw new IllegalArgumentException(
            "max replay slowdown must be positive, but was " + factor);
      }
      this.maxReplaySlowdown = factor;
      return this;
    }

    /**
     * Told as answers arrive; default nothing.
     *
     * @param progress the listener
     * @return this builder
     */
    public Builder progress(DrillProgress progress) {
      this.progress = progress;
      return this;
    }

    /**
     * {@return the drill}
     *
     * @throws DrillInputException if there are more requests than {@link #maxRequests}
     */
    public Drill build() {
      if (requests.size() > maxRequests) {
        throw new DrillInputException(
            requests.size()
                + " requests, more than the bound of "
                + maxRequests
                + ": raise --max-requests or drill with fewer");
      }
      return new Drill(
          new Settings(
              target,
              requests,
              keyHeader,
              replayHeader,
              replayValue,
              Map.copyOf(fractions),
              concurrency,
              slowRetries,
              slowWindow,
              workers,
              requestTimeout,
              maxDuration,
              seed,
              runId,
              oracle,
              inFlightStatuses,
              mismatchStatuses,
              maxReplaySlowdown,
              progress));
    }

    private static String header(String name, String what) {
      if (!name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
        throw new IllegalArgumentException(what + " must be a header name, but was '" + name + "'");
      }
      return name;
    }

    private static int range(int n, int min, int max, String what) {
      if (n < min || n > max) {
        throw new IllegalArgumentException(
            what + " must be in [" + min + ", " + max + "], but was " + n);
      }
      return n;
    }

    private static Duration positive(Duration d, String what) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, but was " + d);
      }
      return d;
    }

    private static Set<Integer> statuses(Set<Integer> statuses, String what) {
      if (statuses.isEmpty() || statuses.stream().anyMatch(s -> s < 100 || s > 599)) {
        throw new IllegalArgumentException(
            what + " must be HTTP statuses (100 to 599), but were " + statuses);
      }
      return Set.copyOf(statuses);
    }
  }
}
