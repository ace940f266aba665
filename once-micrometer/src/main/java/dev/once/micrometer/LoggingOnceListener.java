package dev.once.micrometer;

import dev.once.ClaimResult;
import dev.once.IdempotencyKey;
import dev.once.OnceListener;
import dev.once.StoreException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * One log line per outcome, on the SLF4J logger {@value #LOGGER}, with its fields as key-value
 * pairs (structured logging, such as Spring Boot's {@code logging.structured.format.console=ecs},
 * writes them as JSON fields) and repeated in the message for plain text logs:
 *
 * <ul>
 *   <li>{@code once.operation}, {@code once.store}, {@code once.outcome}, and {@code
 *       once.latency_ms} when the step was timed;
 *   <li>{@code once.key_digest}: the key's {@link IdempotencyKey#digestHex() digest}, the store's
 *       lookup key, so a line can be matched to its record. Never the raw key, the tenant or a
 *       stored body.
 * </ul>
 *
 * <p>Levels: a fresh execution, its completion, a replay and a failed execution are routine, DEBUG
 * (the application logs its own exceptions). A request refused in flight ({@code in_progress}) or
 * for another body ({@code mismatch}) is INFO: the client was answered 409 or 422 as designed,
 * nothing is broken on the server, but a burst tells of a misbehaving client. A store failure, a
 * fenced completion ({@code lease_lost}: the result was not stored, the effect may run twice) or a
 * claim that took over an expired lease ({@code lease_taken_over}: the earlier holder's effect may
 * have run, and runs again now) is WARN: an operator should look. Renewal failures are not repeated
 * here: the engine logs them already. Thread-safe.
 */
public final class LoggingOnceListener implements OnceListener {

  /** The logger's name. */
  public static final String LOGGER = "dev.once.outcome";

  private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

  private LoggingOnceListener() {}

  /** {@return a listener that logs on {@value #LOGGER}} */
  public static LoggingOnceListener create() {
    return new LoggingOnceListener();
  }

  @Override
  public void claimed(
      IdempotencyKey key, String store, ClaimResult.Status status, Duration latency) {
    Level level =
        status == ClaimResult.Status.IN_PROGRESS || status == ClaimResult.Status.MISMATCH
            ? Level.INFO
            : Level.DEBUG;
    log(level, key, store, MicrometerOnceListener.outcome(status), latency);
  }

  @Override
  public void completed(IdempotencyKey key, String store, Duration latency) {
    log(Level.DEBUG, key, store, "completed", latency);
  }

  @Override
  public void failed(IdempotencyKey key, String store, Throwable failure, boolean stored) {
    log(Level.DEBUG, key, store, stored ? "failure_stored" : "failed", null);
  }

  @Override
  public void leaseLost(IdempotencyKey key, String store) {
    log(Level.WARN, key, store, "lease_lost", null);
  }

  @Override
  public void leaseTakenOver(IdempotencyKey key, String store) {
    log(Level.WARN, key, store, "lease_taken_over", null);
  }

  @Override
  public void storeFailed(IdempotencyKey key, String store, StoreException failure) {
    // The store's message names the store and the scope's operation only; never the key.
    log(Level.WARN, key, store, "store_error", null);
  }

  private static void log(
      Level level,
      IdempotencyKey key,
      String store,
      String outcome,
      @org.jspecify.annotations.Nullable Duration latency) {
    if (!LOG.isEnabledForLevel(level)) {
      return;
    }
    String operation = key.scope().operation();
    String digest = key.digestHex();
    LoggingEventBuilder line =
        LOG.atLevel(level)
            .addKeyValue("once.operation", operation)
            .addKeyValue("once.store", store)
            .addKeyValue("once.outcome", outcome)
            .addKeyValue("once.key_digest", digest);
    StringBuilder message =
        new StringBuilder("once ")
            .append(outcome)
            .append(": operation=")
            .append(operation)
            .append(" store=")
            .append(store)
            .append(" key_digest=")
            .append(digest);
    if (latency != null) {
      double millis = latency.toNanos() / 1_000_000.0;
      line = line.addKeyValue("once.latency_ms", millis);
      message.append(" latency_ms=").append(String.format(java.util.Locale.ROOT, "%.3f", millis));
    }
    line.log(message.toString());
  }

  @Override
  public String toString() {
    return "LoggingOnceListener";
  }
}
