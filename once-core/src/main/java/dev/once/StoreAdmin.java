package dev.once;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A store's operator operations, for health checks and admin tools ({@link
 * IdempotencyStore#admin()}): none of them is on the path of a claim. Time decisions use the
 * store's clock, as everywhere else.
 *
 * <p>Implementations are thread-safe.
 */
public interface StoreAdmin {

  /**
   * Checks, with one cheap round trip, that the store can be reached and is set up (SQL: its table
   * exists; Redis: the server answers).
   *
   * @throws StoreUnavailableException if the store cannot be reached
   * @throws StoreException if it answers but cannot be used, such as a missing table
   */
  void check();

  /**
   * Reads the key's record as it stands. A record that a claim would treat as absent (retention
   * over, no live lease) is absent here too.
   *
   * @param key the key
   * @return the record, or empty if there is none
   * @throws StoreUnavailableException if the store cannot be reached
   * @throws StoreException if the store fails otherwise
   */
  Optional<RecordInfo> inspect(IdempotencyKey key);

  /**
   * Deletes the key's in-progress record whatever its token, so that the next claim acquires it at
   * once: for a key stuck behind a worker that will not finish. If that worker still runs, its
   * {@link IdempotencyStore#complete complete} is refused ({@link LeaseLostException}: fencing),
   * but its effect may already have happened; only release a key whose worker is known to be gone.
   * A completed record is never deleted.
   *
   * @param key the key
   * @return whether an in-progress record was deleted
   * @throws StoreUnavailableException if the store cannot be reached
   * @throws StoreException if the store fails otherwise
   */
  boolean forceRelease(IdempotencyKey key);

  /**
   * Counts the records by state. May read the whole table or key space: for an operator's request,
   * not for a frequent poll.
   *
   * @return the counts
   * @throws StoreUnavailableException if the store cannot be reached
   * @throws StoreException if the store fails otherwise
   */
  RecordCounts count();

  /** A record's state. */
  enum State {
    /** Claimed; the worker has not completed it (its lease may be live or over). */
    IN_PROGRESS,
    /** Completed: its outcome is replayed. */
    COMPLETED
  }

  /**
   * A record as an operator sees it.
   *
   * @param state in progress or completed
   * @param token the current fencing token
   * @param leaseUntil when an in-progress record's lease ends, by the store's clock; null when
   *     completed
   * @param expiresAt when the retention ends, by the store's clock
   * @param outcome the stored outcome when completed; null while in progress
   */
  record RecordInfo(
      State state,
      long token,
      @Nullable Instant leaseUntil,
      Instant expiresAt,
      @Nullable Outcome outcome) {

    /**
     * Checks that no required part is {@code null}.
     *
     * @param state in progress or completed
     * @param token the current fencing token
     * @param leaseUntil when the lease ends; null when completed
     * @param expiresAt when the retention ends
     * @param outcome the stored outcome; null while in progress
     */
    public RecordInfo {
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(expiresAt, "expiresAt");
    }

    /**
     * {@return whether the record holds a lease that has not ended at {@code now}}
     *
     * @param now the instant to judge by, from the store's clock
     */
    public boolean leaseLiveAt(Instant now) {
      return state == State.IN_PROGRESS && leaseUntil != null && leaseUntil.isAfter(now);
    }
  }

  /**
   * How many records a store holds, by state.
   *
   * @param inProgress claimed and not completed, not expired
   * @param completed completed and within their retention
   * @param expired past their retention and without a live lease: what the next purge deletes
   */
  record RecordCounts(long inProgress, long completed, long expired) {}
}
