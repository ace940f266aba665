package dev.once.micrometer;

import dev.once.ClaimResult;
import dev.once.LeaseLostException;
import dev.once.OnceException;
import dev.once.OnceListener;
import dev.once.Purger;
import dev.once.Scope;
import dev.once.StoreException;
import dev.once.StoreUnavailableException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Every {@link OnceListener} step as a Micrometer meter, under {@code once.}. Tags are
 * low-cardinality only: the scope's operation (a route, a consumer name), the store's name, an
 * outcome or reason from a fixed set, and for the inbox the consumer and its topic or queue; never
 * a key, a tenant or a message id. {@link #METERS} lists every meter and its tags;
 * docs/operations.md documents the same table, and a test holds the two together. Thread-safe.
 *
 * <pre>{@code
 * Once once = Once.builder(store)
 *     .listener(MicrometerOnceListener.of(meterRegistry))
 *     .build();
 * // duplicate hit rate per operation, in PromQL:
 * //   sum by (operation) (rate(once_claims_total{outcome="replayed"}[5m]))
 * //     / sum by (operation) (rate(once_claims_total[5m]))
 * }</pre>
 */
public final class MicrometerOnceListener implements OnceListener, Purger.Listener {

  /** Counter: claims answered, by {@code operation}, {@code store} and {@code outcome}. */
  public static final String CLAIMS = "once.claims";

  /** Timer: how long the store took to answer a claim, by {@code operation} and {@code store}. */
  public static final String STORE_LATENCY = "once.store.latency";

  /**
   * Counter: settled executions, by {@code operation}, {@code store} and {@code outcome} ({@code
   * completed}, {@code failed}: released for a retry, {@code failure_stored}, {@code lease_lost}:
   * fenced, its result not stored).
   */
  public static final String EXECUTIONS = "once.executions";

  /**
   * Timer: from a claim being acquired to its outcome being stored, by {@code operation} and {@code
   * store}.
   */
  public static final String EXECUTION_DURATION = "once.execution.duration";

  /** Counter: store failures, by {@code operation}, {@code store} and {@code reason}. */
  public static final String STORE_ERRORS = "once.store.errors";

  /** Counter: failed lease renewals, by {@code operation}, {@code store} and {@code reason}. */
  public static final String RENEWAL_FAILURES = "once.lease.renewal.failures";

  /**
   * Counter: claims that took over a key in progress under another claim whose lease had expired
   * (the moment an effect may run twice), by {@code operation} and {@code store}.
   */
  public static final String LEASE_TAKEOVERS = "once.lease.takeovers";

  /**
   * Counter: messages an inbox skipped as already applied, by {@code consumer}, {@code source},
   * {@code store}.
   */
  public static final String INBOX_DUPLICATES = "once.inbox.duplicates";

  /**
   * Counter: messages an inbox dead-lettered, by {@code consumer}, {@code source}, {@code reason}.
   */
  public static final String INBOX_DEAD_LETTERED = "once.inbox.dead.lettered";

  /** Counter: records a {@link Purger} deleted, by {@code purger}. */
  public static final String PURGE_DELETED = "once.purge.deleted";

  /** Counter: purges that failed (the store was down, a statement failed), by {@code purger}. */
  public static final String PURGE_FAILURES = "once.purge.failures";

  /** Every meter this listener registers, with its tag keys: the table in docs/operations.md. */
  public static final Map<String, Set<String>> METERS =
      Map.ofEntries(
          Map.entry(CLAIMS, Set.of("operation", "store", "outcome")),
          Map.entry(STORE_LATENCY, Set.of("operation", "store")),
          Map.entry(EXECUTIONS, Set.of("operation", "store", "outcome")),
          Map.entry(EXECUTION_DURATION, Set.of("operation", "store")),
          Map.entry(STORE_ERRORS, Set.of("operation", "store", "reason")),
          Map.entry(RENEWAL_FAILURES, Set.of("operation", "store", "reason")),
          Map.entry(LEASE_TAKEOVERS, Set.of("operation", "store")),
          Map.entry(INBOX_DUPLICATES, Set.of("consumer", "source", "store")),
          Map.entry(INBOX_DEAD_LETTERED, Set.of("consumer", "source", "reason")),
          Map.entry(PURGE_DELETED, Set.of("purger")),
          Map.entry(PURGE_FAILURES, Set.of("purger")));

  private final Meter.MeterProvider<Counter> claims;
  private final Meter.MeterProvider<Timer> storeLatency;
  private final Meter.MeterProvider<Counter> executions;
  private final Meter.MeterProvider<Timer> executionDuration;
  private final Meter.MeterProvider<Counter> storeErrors;
  private final Meter.MeterProvider<Counter> renewalFailures;
  private final Meter.MeterProvider<Counter> leaseTakeovers;
  private final Meter.MeterProvider<Counter> inboxDuplicates;
  private final Meter.MeterProvider<Counter> deadLettered;
  private final Meter.MeterProvider<Counter> purgeDeleted;
  private final Meter.MeterProvider<Counter> purgeFailures;

  private MicrometerOnceListener(MeterRegistry registry) {
    claims =
        Counter.builder(CLAIMS)
            .description("Claims answered by the store; outcome=replayed is a duplicate")
            .withRegistry(registry);
    // A histogram, so that a p99 can be computed across instances (histogram_quantile).
    storeLatency =
        Timer.builder(STORE_LATENCY)
            .description("How long the store took to answer a claim")
            .publishPercentileHistogram()
            .withRegistry(registry);
    executions =
        Counter.builder(EXECUTIONS)
            .description("Executions settled: completed, failed, failure_stored or lease_lost")
            .withRegistry(registry);
    executionDuration =
        Timer.builder(EXECUTION_DURATION)
            .description("From a claim acquired to its outcome stored")
            .withRegistry(registry);
    storeErrors =
        Counter.builder(STORE_ERRORS)
            .description("Store failures; reason=unavailable when it could not be reached")
            .withRegistry(registry);
    renewalFailures =
        Counter.builder(RENEWAL_FAILURES)
            .description("Lease renewals that failed; reason=lease_lost: taken over")
            .withRegistry(registry);
    leaseTakeovers =
        Counter.builder(LEASE_TAKEOVERS)
            .description(
                "Claims that took over an expired lease on a key in progress; its effect may run twice")
            .withRegistry(registry);
    inboxDuplicates =
        Counter.builder(INBOX_DUPLICATES)
            .description("Messages an inbox skipped because their id was already applied")
            .withRegistry(registry);
    deadLettered =
        Counter.builder(INBOX_DEAD_LETTERED)
            .description("Messages an inbox sent to the dead letters")
            .withRegistry(registry);
    purgeDeleted =
        Counter.builder(PURGE_DELETED)
            .description("Expired records a purger deleted")
            .withRegistry(registry);
    purgeFailures =
        Counter.builder(PURGE_FAILURES)
            .description("Purges that failed; the purger tries again at its next interval")
            .withRegistry(registry);
  }

  /**
   * A listener that registers its meters in {@code registry}.
   *
   * @param registry where the meters go; not {@code null}
   * @return the listener
   */
  public static MicrometerOnceListener of(MeterRegistry registry) {
    return new MicrometerOnceListener(Objects.requireNonNull(registry, "registry"));
  }

  /**
   * The {@code outcome} tag of a claim: {@code acquired}, {@code replayed}, {@code in_progress} or
   * {@code mismatch}.
   *
   * @param status the store's answer
   * @return the tag value
   */
  public static String outcome(ClaimResult.Status status) {
    return status == ClaimResult.Status.COMPLETED
        ? "replayed"
        : status.name().toLowerCase(Locale.ROOT);
  }

  private static Tags tags(Scope scope, String store) {
    return Tags.of("operation", scope.operation(), "store", store);
  }

  @Override
  public void claimed(Scope scope, String store, ClaimResult.Status status, Duration latency) {
    Tags tags = tags(scope, store);
    claims.withTags(tags.and("outcome", outcome(status))).increment();
    storeLatency.withTags(tags).record(latency);
  }

  @Override
  public void completed(Scope scope, String store, Duration latency) {
    Tags tags = tags(scope, store);
    executions.withTags(tags.and("outcome", "completed")).increment();
    executionDuration.withTags(tags).record(latency);
  }

  @Override
  public void failed(Scope scope, String store, Throwable failure, boolean stored) {
    executions
        .withTags(tags(scope, store).and("outcome", stored ? "failure_stored" : "failed"))
        .increment();
  }

  @Override
  public void leaseLost(Scope scope, String store) {
    executions.withTags(tags(scope, store).and("outcome", "lease_lost")).increment();
  }

  @Override
  public void storeFailed(Scope scope, String store, StoreException failure) {
    storeErrors.withTags(tags(scope, store).and("reason", storeErrorReason(failure))).increment();
  }

  @Override
  public void renewalFailed(Scope scope, String store, OnceException failure) {
    String reason =
        failure instanceof LeaseLostException
            ? "lease_lost"
            : failure instanceof StoreException s ? storeErrorReason(s) : "failed";
    renewalFailures.withTags(tags(scope, store).and("reason", reason)).increment();
  }

  @Override
  public void leaseTakenOver(Scope scope, String store) {
    leaseTakeovers.withTags(tags(scope, store)).increment();
  }

  @Override
  public void inboxDuplicates(String consumer, String source, String store, int count) {
    inboxDuplicates
        .withTags(Tags.of("consumer", consumer, "source", source, "store", store))
        .increment(count);
  }

  @Override
  public void deadLettered(String consumer, String source, String reason) {
    deadLettered
        .withTags(Tags.of("consumer", consumer, "source", source, "reason", reason))
        .increment();
  }

  @Override
  public void onBatch(String purger, int deleted) {
    purgeDeleted.withTags(Tags.of("purger", purger)).increment(deleted);
  }

  @Override
  public void onFailure(String purger, RuntimeException failure) {
    purgeFailures.withTags(Tags.of("purger", purger)).increment();
  }

  /** {@code unavailable} (could not reach the store) or {@code failed} (it answered an error). */
  static String storeErrorReason(StoreException failure) {
    return failure instanceof StoreUnavailableException ? "unavailable" : "failed";
  }

  @Override
  public String toString() {
    return "MicrometerOnceListener";
  }
}
