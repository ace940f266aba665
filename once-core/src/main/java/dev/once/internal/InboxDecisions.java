package dev.once.internal;

import dev.once.IdempotencyKey;
import dev.once.InvalidKeyException;
import dev.once.KeyPolicy;
import dev.once.Scope;
import dev.once.StoreException;
import java.net.ConnectException;
import java.net.SocketException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The decisions every inbox adapter takes the same way (the Kafka, RabbitMQ and NATS consumers, the
 * Spring listener adapters, and the lease consumer for ids): which id a message has, whether a
 * failure is an outage of the store or the message's own fault, and after a failure whether to wait
 * the outage out, try again after a backoff, or dead-letter. The broker-specific loops ask and act
 * on the answer (pause and poll, nack, sleep, publish to a dead-letter topic), so a lost database
 * connection is an outage on every broker, never a spent attempt.
 *
 * <p>Not public API.
 */
public final class InboxDecisions {

  /** What to do after a failed attempt. */
  public enum Action {
    /**
     * The store is down: try again after {@link Decision#waitNanos()}, without spending an attempt;
     * never give up.
     */
    WAIT_OUT_OUTAGE,
    /** The message failed: try again after {@link Decision#waitNanos()}. */
    RETRY,
    /**
     * The message failed {@link Decision#attempts()} times, the limit: send it to the dead letters.
     */
    DEAD_LETTER
  }

  /**
   * @param attempts the message's failed attempts so far (0 for an outage, which spends none)
   */
  public record Decision(Action action, long waitNanos, int attempts) {}

  /**
   * Either a message's id and key, or why it has none (then it is dead-lettered, never applied
   * unprotected).
   */
  public record ResolvedId(
      @Nullable String id,
      @Nullable IdempotencyKey key,
      @Nullable String rejection,
      @Nullable Exception cause) {
    public boolean rejected() {
      return rejection != null;
    }

    /**
     * The id of a message that was not rejected.
     *
     * @throws IllegalStateException if it was rejected
     */
    public String acceptedId() {
      if (id == null) {
        throw new IllegalStateException("the message was rejected: " + rejection);
      }
      return id;
    }
  }

  /**
   * Exponential backoff with jitter: the wait before retry {@code n} (1-based) is a random time
   * between half and all of {@code initial x 2^(n-1)}, capped at {@code max}.
   */
  public record Backoff(Duration initial, Duration max) {

    public Backoff {
      if (initial == null || initial.isNegative()) {
        throw new IllegalArgumentException(
            "initialBackoff must not be negative, but was " + initial);
      }
      if (max == null || max.compareTo(initial) < 0) {
        throw new IllegalArgumentException(
            "maxBackoff must be at least initialBackoff (" + initial + "), but was " + max);
      }
    }

    /** The jittered wait before retry {@code attempt} (1-based), in nanoseconds. */
    public long nanos(int attempt) {
      long base = initial.toNanos() << Math.min(Math.max(attempt, 1) - 1, 20);
      long capped = Math.min(base <= 0 ? Long.MAX_VALUE : base, max.toNanos());
      return capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
    }
  }

  private final int maxAttempts;
  private final Backoff backoff;
  private final Backoff outageBackoff;

  /**
   * @param maxAttempts failed attempts of one message before it is dead-lettered, at least 1
   * @param backoff the wait before a failed message is tried again
   * @param outageBackoff the wait before an attempt that failed on a store outage is made again
   */
  public InboxDecisions(int maxAttempts, Backoff backoff, Backoff outageBackoff) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, but was " + maxAttempts);
    }
    this.maxAttempts = maxAttempts;
    this.backoff = Objects.requireNonNull(backoff, "backoff");
    this.outageBackoff = Objects.requireNonNull(outageBackoff, "outageBackoff");
  }

  public int maxAttempts() {
    return maxAttempts;
  }

  /**
   * The id of a message. A throwing id function, no id (null or blank) without a {@code fallback},
   * or an id the key policy refuses, all reject the message: it is dead-lettered, never applied
   * without its claim.
   *
   * @param idOf the configured id function, applied to the message
   * @param fallback the id of a message that has none (e.g. topic-partition-offset); null: such a
   *     message is rejected
   * @param scope the scope the key is made in (for the key policy's check and the lease consumer's
   *     key)
   */
  public static ResolvedId resolveId(
      Supplier<String> idOf, @Nullable Supplier<String> fallback, KeyPolicy policy, Scope scope) {
    String id;
    try {
      id = idOf.get();
    } catch (RuntimeException e) {
      return new ResolvedId(null, null, "message id function failed", e);
    }
    if (id == null || id.isBlank()) {
      if (fallback == null) {
        return new ResolvedId(null, null, "no message id", null);
      }
      id = fallback.get();
    }
    try {
      return new ResolvedId(id, policy.key(scope, id), null, null);
    } catch (InvalidKeyException e) {
      return new ResolvedId(null, null, "invalid message id", e);
    }
  }

  /**
   * Whether a failed attempt is an outage of the store rather than the message's fault.
   *
   * @param failure what ended the attempt
   * @param fromHandler whether it is the handler's (the listener's) own exception: then only a lost
   *     connection counts (a constraint violation is the message's fault); otherwise any {@link
   *     StoreException} or {@link SQLException} of the inbox's own statements (claims, offsets,
   *     commit) does
   */
  public static boolean isOutage(@Nullable Throwable failure, boolean fromHandler) {
    if (fromHandler) {
      return isConnectionLost(failure);
    }
    int depth = 0;
    for (Throwable t = failure; t != null && depth < 20; t = t.getCause(), depth++) {
      if (t instanceof StoreException || t instanceof SQLException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether the chain holds an {@link SQLException} saying the database connection or server is
   * gone (see {@link #isUnavailable(SQLException)}). A socket error with no SQL failure around it
   * (a handler's HTTP call) is not a lost database connection: that message failed.
   */
  public static boolean isConnectionLost(@Nullable Throwable failure) {
    int depth = 0;
    for (Throwable t = failure; t != null && depth < 20; t = t.getCause(), depth++) {
      if (t instanceof SQLException s && isUnavailable(s)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code e} says the connection or the server is gone: a JDBC connection exception,
   * SQLState class {@code 08}, {@code 57P01..3} (admin or crash shutdown, cannot connect now), H2's
   * "database closed", or a socket error beneath it. The JDBC store classifies {@link
   * dev.once.StoreUnavailableException} by this rule too.
   */
  public static boolean isUnavailable(SQLException e) {
    int depth = 0;
    for (Throwable t = e; t != null && depth < 20; t = t.getCause(), depth++) {
      if (t instanceof SQLTransientConnectionException
          || t instanceof SQLNonTransientConnectionException
          || t instanceof SQLRecoverableException
          || t instanceof ConnectException
          || t instanceof SocketException) {
        return true;
      }
      if (t instanceof SQLException s) {
        String state = s.getSQLState();
        if (state != null
            && (state.startsWith("08")
                || state.equals("57P01")
                || state.equals("57P02")
                || state.equals("57P03"))) {
          return true;
        }
        if (s.getErrorCode() == 90098 || s.getErrorCode() == 90121) {
          return true; // H2: database closed, or the JVM is shutting it down
        }
      }
    }
    return false;
  }

  /**
   * What to do after the handler failed for a message.
   *
   * @param cause the handler's exception
   * @param attempts the message's failed attempts before this one
   */
  public Decision afterHandlerFailure(@Nullable Throwable cause, int attempts) {
    if (isConnectionLost(cause)) {
      return new Decision(Action.WAIT_OUT_OUTAGE, outageBackoff.nanos(1), attempts);
    }
    int failed = attempts + 1;
    if (failed >= maxAttempts) {
      return new Decision(Action.DEAD_LETTER, 0, failed);
    }
    return new Decision(Action.RETRY, backoff.nanos(failed), failed);
  }

  /**
   * The wait before the next attempt after {@code consecutive} (1-based) attempts failed on an
   * outage.
   */
  public long outageWait(int consecutive) {
    return outageBackoff.nanos(consecutive);
  }
}
