package dev.once;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Where idempotency records live. This Javadoc is the contract every store passes (the {@code
 * once-testkit} suites check it against a real server).
 *
 * <h2>Records</h2>
 *
 * A record is found by {@link IdempotencyKey#digest()} and is in one of two states:
 *
 * <ul>
 *   <li><b>in progress</b>: fingerprint, fencing token, lease expiry and retention expiry;
 *   <li><b>completed</b>: fingerprint, {@link Outcome}, retention expiry.
 * </ul>
 *
 * A record whose retention has expired is treated as absent, except that a record always outlives
 * its live lease (a claim whose retention is shorter than its lease is kept until the lease ends).
 * Every time decision (is a lease live, has a record expired) uses the <b>store's clock</b>, so
 * nodes with skewed clocks agree.
 *
 * <h2>Fencing</h2>
 *
 * Each {@link ClaimResult.Acquired acquisition} gets a token larger than any earlier token of the
 * record. {@link #complete}, {@link #release} and {@link #renew} succeed only with the current
 * token, so a worker whose lease was taken over (a zombie) cannot overwrite the newer owner's
 * result; it gets {@link LeaseLostException}. One repeat is not a zombie: {@link #complete} with
 * the token and outcome that already completed the record succeeds (and changes nothing), so a
 * caller whose completion ran but whose reply was lost with the connection can send it again and be
 * told the truth.
 *
 * <h2>Failures</h2>
 *
 * A store that cannot be reached throws {@link StoreUnavailableException}; any other failure throws
 * {@link StoreException}. A failure is never reported as "absent" or "acquired". Claims racing on
 * one key are answered truthfully and never throw because of the race.
 *
 * <p>Implementations are thread-safe.
 */
public interface IdempotencyStore {

  /**
   * Atomically claims the key, with no check-then-act window:
   *
   * <ul>
   *   <li>no record (or an expired one): creates an in-progress record, answers {@link
   *       ClaimResult.Acquired};
   *   <li>a record with another fingerprint: {@link ClaimResult.Mismatch}, whatever its state;
   *   <li>completed with the same fingerprint: {@link ClaimResult.Completed} with the stored
   *       outcome;
   *   <li>in progress with a live lease: {@link ClaimResult.InProgress} with the lease's remaining
   *       time;
   *   <li>in progress with an expired lease and the same fingerprint: takes it over with a new,
   *       larger token, answers {@link ClaimResult.Acquired}.
   * </ul>
   *
   * @param request the key, fingerprint, lease and retention
   * @return the truthful answer; never {@code null}
   * @throws StoreUnavailableException if the store cannot be reached
   * @throws StoreException if the store fails otherwise
   */
  ClaimResult claim(ClaimRequest request);

  /**
   * Claims many keys in as few round trips as the store allows (one statement or pipeline per
   * batch). Answers in request order, each exactly as {@link #claim} would have answered if the
   * requests had been claimed one after another: a key repeated later in the batch sees the earlier
   * request's claim (so an identical repeat is {@link ClaimResult.InProgress}, one with another
   * fingerprint a {@link ClaimResult.Mismatch}).
   *
   * @param requests the claims, in order; may be empty
   * @return one answer per request, in request order
   */
  default List<ClaimResult> claimAll(List<ClaimRequest> requests) {
    List<ClaimResult> results = new ArrayList<>(requests.size());
    for (ClaimRequest request : requests) {
      results.add(claim(request));
    }
    return results;
  }

  /**
   * Stores the outcome and marks the record completed, kept for {@code retention} from now.
   *
   * <p>Safe to repeat: if the record was already completed with this token and the same outcome (as
   * stored: the same {@link Outcome#toBytes() bytes}, attributes in the same order), because the
   * first call ran but its answer was lost, the call succeeds and changes nothing, not even the
   * retention.
   *
   * @param key the claimed key
   * @param token the fencing token the claim returned
   * @param outcome what every later claim with the same fingerprint replays
   * @param retention how long the completed record is kept, from now
   * @throws LeaseLostException if {@code token} is not the record's current token, the record is
   *     gone, or it was completed with this token but another outcome
   */
  void complete(IdempotencyKey key, long token, Outcome outcome, Duration retention);

  /**
   * Completes many records in as few round trips as the store allows, each as {@link #complete}
   * would (so a completion repeated after a lost answer succeeds). Every completion whose token is
   * current is applied; then, if any was refused, the first such is reported. Inside a caller's
   * transaction the caller decides: roll back, or commit the ones that were applied.
   *
   * @param completions the records to complete; may be empty
   * @throws LeaseLostException for the first completion that {@link #complete} would have refused
   */
  default void completeAll(List<Completion> completions) {
    LeaseLostException first = null;
    for (Completion c : completions) {
      try {
        complete(c.key(), c.token(), c.outcome(), c.retention());
      } catch (LeaseLostException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /**
   * Deletes the in-progress record so the key can be claimed afresh (the execution failed in a way
   * that is safe to retry).
   *
   * @param key the claimed key
   * @param token the fencing token the claim returned
   * @throws LeaseLostException if {@code token} is not the record's current token, or the record is
   *     gone
   */
  void release(IdempotencyKey key, long token);

  /**
   * Extends a live claim's lease to {@code lease} from now.
   *
   * @param key the claimed key
   * @param token the fencing token the claim returned
   * @param lease the new lease, counted from now by the store's clock
   * @throws LeaseLostException if {@code token} is not the record's current token, or the record is
   *     gone
   */
  void renew(IdempotencyKey key, long token, Duration lease);

  /**
   * Deletes at most {@code limit} records whose retention has expired, never one with a live lease.
   *
   * @param limit the most records to delete in this call; positive
   * @return how many were deleted; call again while it returns {@code limit}
   */
  int purgeExpired(int limit);

  /**
   * {@return a short name for messages and metrics} Such as {@code "postgresql"} or {@code
   * "memory"}.
   */
  String name();

  /**
   * Whether this store works inside the caller's open transaction, on the caller's connection (e.g.
   * {@code JdbcIdempotencyStore.onConnection}). Then nothing may call it from another thread, so no
   * background heartbeat renews its leases; none is needed, because the transaction's uncommitted
   * claim keeps other claimers out until it ends, however long the lease. A store that wraps such a
   * store answers what it answers.
   *
   * @return whether the store joins the caller's transaction; default {@code false}
   */
  default boolean joinsCallerTransaction() {
    return false;
  }

  /**
   * {@return the store's operator operations} Health checks, reading a key's record, releasing a
   * stuck key and counting records; none of them is on the path of a claim.
   *
   * @throws UnsupportedOperationException if the store offers none (the default, for stores written
   *     before this method existed)
   */
  default StoreAdmin admin() {
    throw new UnsupportedOperationException("store " + name() + " offers no admin operations");
  }

  /**
   * A bounded, expiring store in this JVM's memory: for tests and single-instance services.
   *
   * @return a new store with the builder's defaults
   * @see InMemoryIdempotencyStore#builder()
   */
  static InMemoryIdempotencyStore inMemory() {
    return InMemoryIdempotencyStore.builder().build();
  }
}
