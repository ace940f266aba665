package dev.once;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs an action at most once per key: the first call for a key executes it and stores its result;
 * every later call with the same key and fingerprint gets the stored result back without executing.
 * Immutable and thread-safe; build one per store and share it.
 *
 * <pre>{@code
 * Once once = Once.builder(store)
 *     .lease(Duration.ofSeconds(30))
 *     .retention(Duration.ofHours(24))
 *     .build();
 *
 * IdempotencyKey key = IdempotencyKey.of(Scope.of(customerId, "charge"), requestId);
 * Execution<String> charge = once.execute(key, Fingerprint.of(body), ResultCodec.utf8(),
 *     () -> gateway.charge(body));
 * }</pre>
 *
 * <p>Answers: a fresh or replayed {@link Execution}; {@link InProgressException} while another
 * execution holds the key (after waiting up to {@link Builder#waitWhileInProgress} if set); {@link
 * FingerprintMismatchException} when the key was used for another request; {@link
 * ReplayedFailureException} when the first execution's failure was stored by the {@link
 * FailurePolicy}; {@link LeaseLostException} when the action finished after another worker took the
 * key over (its result is not stored); {@link StoreException} when the store fails. An exception
 * thrown by the action is rethrown unchanged after the key is released or the failure stored.
 *
 * <p>While the action runs, its lease is renewed in the background every third of the lease (one
 * shared scheduler, see {@link OnceEngine}), so an action slower than its lease is not taken over
 * by another call; if a renewal finds the lease already taken over, {@link
 * OnceListener#renewalFailed} is told and the action's result is not stored ({@link
 * LeaseLostException}). Inside the caller's transaction ({@code JdbcIdempotencyStore.onConnection})
 * nothing is renewed: the uncommitted claim holds the key until the transaction ends.
 */
public final class Once {

  /** A failure stored by {@link FailurePolicy.Decision#STORE} has this content type. */
  public static final String FAILURE_CONTENT_TYPE = "application/vnd.once.failure";

  private final IdempotencyStore store;
  private final Duration lease;
  private final Duration retention;
  private final FailurePolicy failurePolicy;
  private final OnceListener listener;
  private final Duration waitWhileInProgress;
  private final OnceEngine engine;

  private Once(Builder b) {
    this.store = b.store;
    this.lease = b.lease;
    this.retention = b.retention;
    this.failurePolicy = b.failurePolicy;
    this.listener = b.listener;
    this.waitWhileInProgress = b.waitWhileInProgress;
    this.engine = OnceEngine.of(b.listener);
  }

  /**
   * Starts a builder over {@code store}, with the defaults documented on its setters.
   *
   * @param store where the keys are recorded; not {@code null}
   * @return a new builder
   */
  public static Builder builder(IdempotencyStore store) {
    return new Builder(store);
  }

  /**
   * The same settings over another store, e.g. a JDBC store bound to the caller's transaction.
   *
   * @param other the store to use instead; not {@code null}
   * @return a new instance; this one is unchanged
   */
  public Once withStore(IdempotencyStore other) {
    Builder b = toBuilder();
    b.store = Objects.requireNonNull(other, "store");
    return new Once(b);
  }

  /** {@return a new builder starting from this instance's settings} */
  public Builder toBuilder() {
    return new Builder(store)
        .lease(lease)
        .retention(retention)
        .failurePolicy(failurePolicy)
        .listener(listener)
        .waitWhileInProgress(waitWhileInProgress);
  }

  /** {@return the store that records the keys} */
  public IdempotencyStore store() {
    return store;
  }

  /**
   * An action Once protects. Wrap checked exceptions yourself; what it throws is rethrown
   * unchanged.
   */
  @FunctionalInterface
  public interface Action<T> {
    /**
     * Runs the action.
     *
     * @return its result, encoded into the key's outcome
     */
    T run();
  }

  /**
   * Executes {@code action} unless an execution with this key already completed or is in flight.
   * The class comment lists every answer.
   *
   * @param <T> the action's result type
   * @param key the key to claim
   * @param fingerprint the request's fingerprint; the same key with another fingerprint is refused
   * @param codec stores the result and decodes it on replay
   * @param action runs only if the claim is acquired
   * @return the fresh result, or the stored one with {@link Execution#replayed()} set
   * @throws InProgressException if another execution still holds the key after waiting
   * @throws FingerprintMismatchException if the key was used with another fingerprint
   * @throws ReplayedFailureException if the first execution's failure was stored
   * @throws LeaseLostException if another worker took the key over before the result was stored
   * @throws StoreException if the store fails
   */
  public <T> Execution<T> execute(
      IdempotencyKey key, Fingerprint fingerprint, ResultCodec<T> codec, Action<T> action) {
    Objects.requireNonNull(codec, "codec");
    Objects.requireNonNull(action, "action");
    ClaimRequest request = new ClaimRequest(key, fingerprint, lease, retention);
    long deadline = System.nanoTime() + waitWhileInProgress.toNanos();
    while (true) {
      ClaimResult result = engine.claim(store, request);
      if (result instanceof ClaimResult.Acquired acquired) {
        return new Execution<>(runAcquired(key, acquired.token(), codec, action), false);
      }
      if (result instanceof ClaimResult.Completed completed) {
        return new Execution<>(replay(key, completed.outcome(), codec), true);
      }
      if (result instanceof ClaimResult.Mismatch) {
        throw new FingerprintMismatchException(key.scope(), store.name());
      }
      Duration retryAfter = ((ClaimResult.InProgress) result).retryAfter();
      long left = deadline - System.nanoTime();
      if (left <= 0 || Thread.currentThread().isInterrupted()) {
        throw new InProgressException(key.scope(), store.name(), retryAfter);
      }
      // Poll rather than subscribe: stores share no notification channel, and the wait is opt-in
      // and short.
      LockSupport.parkNanos(Math.min(left, Math.min(retryAfter.toNanos(), 50_000_000L)));
    }
  }

  /**
   * {@link #execute} for callers that need only the value; it throws what {@code execute} throws.
   *
   * @param <T> the action's result type
   * @param key the key to claim
   * @param fingerprint the request's fingerprint
   * @param codec stores the result and decodes it on replay
   * @param action runs only if the claim is acquired
   * @return the fresh or the replayed result
   */
  public <T> T run(
      IdempotencyKey key, Fingerprint fingerprint, ResultCodec<T> codec, Action<T> action) {
    return execute(key, fingerprint, codec, action).value();
  }

  private <T> T runAcquired(
      IdempotencyKey key, long token, ResultCodec<T> codec, Action<T> action) {
    OnceEngine.Held held = engine.hold(store, key, token, lease);
    T value;
    Outcome outcome;
    try {
      value = action.run();
      outcome = codec.encode(value);
    } catch (RuntimeException | Error failure) {
      boolean keep = failurePolicy.decide(failure) == FailurePolicy.Decision.STORE;
      RuntimeException unsettled =
          held.fail(failure, keep ? failureOutcome(failure) : null, retention);
      if (unsettled != null) {
        // The action's failure is the news; a failed release only leaves a lease that expires by
        // itself.
        failure.addSuppressed(unsettled);
      }
      throw failure;
    }
    held.complete(outcome, retention);
    return value;
  }

  private static Outcome failureOutcome(Throwable failure) {
    return Outcome.builder()
        .contentType(FAILURE_CONTENT_TYPE)
        .attribute("type", failure.getClass().getName())
        .attribute("message", failure.getMessage() == null ? "" : failure.getMessage())
        .build();
  }

  private static <T> T replay(IdempotencyKey key, Outcome outcome, ResultCodec<T> codec) {
    if (FAILURE_CONTENT_TYPE.equals(outcome.contentType())) {
      // Both attributes are written by failureOutcome; a record written otherwise still replays.
      String type = outcome.attribute("type");
      String message = outcome.attribute("message");
      throw new ReplayedFailureException(
          key.scope(), type == null ? "unknown" : type, message == null ? "" : message);
    }
    return codec.decode(outcome);
  }

  @Override
  public String toString() {
    return "Once[store=" + store.name() + ", lease=" + lease + ", retention=" + retention + "]";
  }

  /** Builds a {@link Once}; every setter rejects a bad value at once. */
  public static final class Builder {
    private IdempotencyStore store;
    private Duration lease = Duration.ofSeconds(60);
    private Duration retention = Duration.ofHours(24);
    private FailurePolicy failurePolicy = FailurePolicy.releaseAll();
    private OnceListener listener = OnceListener.NOOP;
    private Duration waitWhileInProgress = Duration.ZERO;

    private Builder(IdempotencyStore store) {
      this.store = Objects.requireNonNull(store, "store");
    }

    /**
     * How long an execution owns its key unless renewed: while the action runs it is renewed every
     * third of this, so it bounds how long a crashed execution blocks its key. Default 60 s.
     *
     * @param lease at least 1 ms
     * @return this builder
     * @throws IllegalArgumentException if {@code lease} is shorter than 1 ms
     */
    public Builder lease(Duration lease) {
      ClaimRequest.requirePositive("lease", lease);
      this.lease = lease;
      return this;
    }

    /**
     * How long a completed result is kept and replayed. Default 24 h.
     *
     * @param retention at least 1 ms
     * @return this builder
     * @throws IllegalArgumentException if {@code retention} is shorter than 1 ms
     */
    public Builder retention(Duration retention) {
      ClaimRequest.requirePositive("retention", retention);
      this.retention = retention;
      return this;
    }

    /**
     * Which failures release the key and which are stored. Default {@link
     * FailurePolicy#releaseAll()}.
     *
     * @param failurePolicy not {@code null}
     * @return this builder
     */
    public Builder failurePolicy(FailurePolicy failurePolicy) {
      this.failurePolicy = Objects.requireNonNull(failurePolicy, "failurePolicy");
      return this;
    }

    /**
     * Told of every claim, replay and failure. Default: none.
     *
     * @param listener not {@code null}; {@link OnceListener#NOOP} for none
     * @return this builder
     */
    public Builder listener(OnceListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * How long a call waits for an in-flight execution of the same key to finish before answering
     * {@link InProgressException}. Default zero: answer at once.
     *
     * @param maxWait zero or positive
     * @return this builder
     * @throws IllegalArgumentException if {@code maxWait} is negative
     */
    public Builder waitWhileInProgress(Duration maxWait) {
      Objects.requireNonNull(maxWait, "waitWhileInProgress");
      if (maxWait.isNegative()) {
        throw new IllegalArgumentException(
            "waitWhileInProgress must not be negative, but was " + maxWait);
      }
      this.waitWhileInProgress = maxWait;
      return this;
    }

    /** {@return an immutable, thread-safe {@code Once} with these settings} */
    public Once build() {
      return new Once(this);
    }
  }
}
