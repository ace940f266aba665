package dev.once;

import java.time.Duration;
import java.util.Objects;

/**
 * The store's truthful answer to a claim. Exactly one of four:
 *
 * <ul>
 *   <li>{@link Acquired}: the caller now owns the key and must {@link IdempotencyStore#complete
 *       complete} or {@link IdempotencyStore#release release} it with the given fencing token;
 *   <li>{@link Completed}: an earlier execution with the same fingerprint finished; here is its
 *       outcome;
 *   <li>{@link InProgress}: another execution with the same fingerprint holds a live lease;
 *   <li>{@link Mismatch}: the key is held or completed for a different fingerprint. It takes
 *       precedence over in progress.
 * </ul>
 *
 * <pre>{@code
 * ClaimResult r = store.claim(request);
 * if (r instanceof ClaimResult.Acquired acquired) { ... acquired.token() ... }
 * }</pre>
 */
public sealed interface ClaimResult {

  /** The four answers, for a {@code switch}. */
  enum Status {
    /** The caller owns the key: {@link Acquired}. */
    ACQUIRED,
    /** An earlier execution completed: {@link Completed}. */
    COMPLETED,
    /** Another execution holds a live lease: {@link InProgress}. */
    IN_PROGRESS,
    /** The key belongs to a different fingerprint: {@link Mismatch}. */
    MISMATCH
  }

  /** {@return which of the four answers this is} */
  Status status();

  /**
   * The caller owns the key.
   *
   * <p>{@code takeover} is the moment an effect may run twice: the key was in progress under
   * another claim whose lease had expired (its holder crashed, paused or overran), and this claim
   * took it over, so the earlier holder's effect may have run. It is {@code false} for a key
   * without a record, one whose record had expired (completed and past its retention, or held past
   * its record's expiry), and one that was released. Stores that cannot tell answer {@code false}
   * and say so.
   *
   * @param token the fencing token: larger than every token handed out earlier for this record
   * @param takeover whether this claim took over another claim's expired lease on a record still in
   *     progress
   */
  record Acquired(long token, boolean takeover) implements ClaimResult {

    /**
     * A claim that took over nobody's lease.
     *
     * @param token the fencing token
     */
    public Acquired(long token) {
      this(token, false);
    }

    @Override
    public Status status() {
      return Status.ACQUIRED;
    }
  }

  /**
   * An earlier execution completed with this outcome.
   *
   * @param outcome what the earlier execution stored; replay it
   */
  record Completed(Outcome outcome) implements ClaimResult {
    /**
     * Checks that {@code outcome} is not {@code null}.
     *
     * @param outcome what the earlier execution stored
     */
    public Completed {
      Objects.requireNonNull(outcome, "outcome");
    }

    @Override
    public Status status() {
      return Status.COMPLETED;
    }
  }

  /**
   * Another execution holds a live lease.
   *
   * @param retryAfter time left on that lease by the store's clock; at least 1 ms
   */
  record InProgress(Duration retryAfter) implements ClaimResult {
    /**
     * Checks that {@code retryAfter} is not {@code null}.
     *
     * @param retryAfter time left on the other execution's lease
     */
    public InProgress {
      Objects.requireNonNull(retryAfter, "retryAfter");
    }

    @Override
    public Status status() {
      return Status.IN_PROGRESS;
    }
  }

  /** The key belongs to a different fingerprint; nothing changed. */
  record Mismatch() implements ClaimResult {
    @Override
    public Status status() {
      return Status.MISMATCH;
    }
  }
}
