package dev.once;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The steps every protected execution shares, in one place: claim a key and report the answer; hold
 * an acquired lease, renewed in the background while the work runs; complete or release it with the
 * fencing token and report what the store said. {@link Once}, the HTTP filter and the lease
 * consumers are built on it; applications use {@link Once}. Thread-safe.
 *
 * <pre>{@code
 * ClaimResult r = engine.claim(store, request);
 * if (r instanceof ClaimResult.Acquired a) {
 *   OnceEngine.Held held = engine.hold(store, request.key(), a.token(), request.lease());
 *   try { value = work(); } catch (RuntimeException e) { held.fail(e, null, retention); throw e; }
 *   held.complete(outcome, retention);   // stops the heartbeat first
 * }
 * }</pre>
 *
 * <p><b>Heartbeat.</b> {@link #hold} renews the lease every third of it on one shared scheduler
 * (two daemon threads per JVM), fenced by the token, until the execution completes or releases it.
 * A renewal refused because another execution took the key over is reported ({@link
 * OnceListener#renewalFailed}) and ends the heartbeat; the execution's completion is then refused
 * too ({@link LeaseLostException}), so its result is never stored as if nothing happened. A store
 * that {@link IdempotencyStore#joinsCallerTransaction joins the caller's transaction} gets no
 * heartbeat: its connection belongs to the caller's thread, and the open transaction's claim keeps
 * other claimers out however long the lease.
 */
public final class OnceEngine {

  private final OnceListener listener;
  private final LeaseHeartbeat heartbeat;

  private OnceEngine(OnceListener listener, LeaseHeartbeat heartbeat) {
    this.listener = OnceListener.guarded(listener);
    this.heartbeat = heartbeat;
  }

  /**
   * An engine that reports to {@code listener} (guarded: what it throws is logged and ignored).
   *
   * @param listener told of every step; {@link OnceListener#NOOP} for none
   * @return the engine
   */
  public static OnceEngine of(OnceListener listener) {
    return new OnceEngine(listener, LeaseHeartbeat.SHARED);
  }

  /** {@return the guarded listener} For what an adapter reports beyond these steps. */
  public OnceListener listener() {
    return listener;
  }

  /**
   * How often {@link #hold} renews a lease of this length: a third of it.
   *
   * @param lease the lease
   * @return the renewal interval
   */
  public static Duration heartbeatInterval(Duration lease) {
    return LeaseHeartbeat.interval(lease);
  }

  /**
   * Claims the key and reports the answer ({@link OnceListener#claimed}, then {@link
   * OnceListener#leaseTakenOver} when it took over an expired lease) or the failure ({@link
   * OnceListener#storeFailed}, then rethrown).
   *
   * @param store the store to claim in
   * @param request the claim
   * @return the store's answer
   * @throws StoreException what the store threw, after reporting it
   */
  public ClaimResult claim(IdempotencyStore store, ClaimRequest request) {
    listener.claiming(request.key(), store.name());
    long start = System.nanoTime();
    try {
      ClaimResult result = store.claim(request);
      reportClaimed(request.key(), store, result, Duration.ofNanos(System.nanoTime() - start));
      return result;
    } catch (StoreException e) {
      listener.storeFailed(request.key(), store.name(), e);
      throw e;
    }
  }

  /**
   * Claims several keys in one store call ({@link IdempotencyStore#claimAll}) and reports each
   * answer as {@link #claim} does (takeovers included), each with the batch's latency; a failure is
   * reported once, for the first key.
   *
   * @param store the store to claim in
   * @param requests the claims, in order
   * @return the store's answers, in the order of {@code requests}
   * @throws StoreException what the store threw, after reporting it
   */
  public List<ClaimResult> claimAll(IdempotencyStore store, List<ClaimRequest> requests) {
    if (requests.isEmpty()) {
      return List.of();
    }
    for (ClaimRequest request : requests) {
      listener.claiming(request.key(), store.name());
    }
    long start = System.nanoTime();
    try {
      List<ClaimResult> results = store.claimAll(requests);
      Duration latency = Duration.ofNanos(System.nanoTime() - start);
      for (int i = 0; i < results.size(); i++) {
        reportClaimed(requests.get(i).key(), store, results.get(i), latency);
      }
      return results;
    } catch (StoreException e) {
      listener.storeFailed(requests.get(0).key(), store.name(), e);
      throw e;
    }
  }

  private void reportClaimed(
      IdempotencyKey key, IdempotencyStore store, ClaimResult result, Duration latency) {
    listener.claimed(key, store.name(), result.status(), latency);
    if (result instanceof ClaimResult.Acquired acquired && acquired.takeover()) {
      listener.leaseTakenOver(key, store.name());
    }
  }

  /**
   * Holds an acquired claim while its work runs, renewing the lease in the background (unless the
   * store joins the caller's transaction). Settle it with exactly one of {@link Held#complete},
   * {@link Held#completeFailure} or {@link Held#fail}, or {@link Held#stop} it.
   *
   * @param store the store that holds the claim
   * @param key the claimed key
   * @param token the fencing token the claim returned
   * @param lease the claim's lease; it is renewed every third of it
   * @return the held claim
   * @throws IllegalArgumentException if {@code lease} is shorter than 1 ms
   */
  public Held hold(IdempotencyStore store, IdempotencyKey key, long token, Duration lease) {
    ClaimRequest.requirePositive("lease", lease);
    Held held = new Held(store, key, token);
    if (!store.joinsCallerTransaction()) {
      held.beat = heartbeat.start(store, key, token, lease, listener);
    }
    return held;
  }

  /**
   * A claim whose work already ended, to settle without a heartbeat: e.g. an effect whose
   * completion failed on a store error, completed again later with its own token.
   *
   * @param store the store that holds the claim
   * @param key the claimed key
   * @param token the fencing token the claim returned
   * @return the claim, with no heartbeat
   */
  public Held settle(IdempotencyStore store, IdempotencyKey key, long token) {
    return new Held(store, key, token);
  }

  /** One acquired claim: its store, key and fencing token, and the heartbeat renewing its lease. */
  public final class Held {
    private final IdempotencyStore store;
    private final IdempotencyKey key;
    private final long token;
    private final long start = System.nanoTime();
    private volatile LeaseHeartbeat.@Nullable Beat beat;

    private Held(IdempotencyStore store, IdempotencyKey key, long token) {
      this.store = Objects.requireNonNull(store, "store");
      this.key = Objects.requireNonNull(key, "key");
      this.token = token;
    }

    /** {@return the claimed key} */
    public IdempotencyKey key() {
      return key;
    }

    /**
     * {@return the fencing token the claim returned} {@code complete} and {@code release} present
     * it.
     */
    public long token() {
      return token;
    }

    /** {@return the store that holds the claim} */
    public IdempotencyStore store() {
      return store;
    }

    /**
     * {@return whether the heartbeat found the lease taken over} If so, this execution's result
     * will not be stored.
     */
    public boolean leaseLost() {
      LeaseHeartbeat.Beat b = beat;
      return b != null && b.lost();
    }

    /** Stops renewing the lease. Idempotent; every settling method calls it first. */
    public void stop() {
      LeaseHeartbeat.Beat b = beat;
      if (b != null) {
        b.stop();
      }
    }

    /**
     * Stores the outcome of a successful execution and reports {@link OnceListener#completed}.
     *
     * @param outcome what a replay answers
     * @param retention how long the completed record is kept, from now
     * @throws LeaseLostException after reporting {@link OnceListener#leaseLost}: another execution
     *     took the key over
     * @throws StoreException after reporting {@link OnceListener#storeFailed}: the key stays in
     *     progress
     */
    public void complete(Outcome outcome, Duration retention) {
      store(outcome, retention);
      listener.completed(key, store.name(), Duration.ofNanos(System.nanoTime() - start));
    }

    /**
     * Stores the outcome of a failed execution as its final answer and reports {@link
     * OnceListener#failed failed(stored)}; throws as {@link #complete} does.
     *
     * @param outcome the failure as a replay answers it
     * @param retention how long the completed record is kept, from now
     * @param failure what the execution threw, for the listener
     */
    public void completeFailure(Outcome outcome, Duration retention, Throwable failure) {
      store(outcome, retention);
      listener.failed(key, store.name(), failure, true);
    }

    private void store(Outcome outcome, Duration retention) {
      stop();
      try {
        store.complete(key, token, outcome, retention);
      } catch (LeaseLostException e) {
        listener.leaseLost(key, store.name());
        throw e;
      } catch (StoreException e) {
        listener.storeFailed(key, store.name(), e);
        throw e;
      }
    }

    /**
     * Settles a failed execution: stores {@code storedFailure} as the key's answer, or releases the
     * key when it is null, and reports it. Never throws for the store: the execution's failure is
     * the news, and a key left claimed is retried once its lease expires.
     *
     * @param failure what the execution threw, for the listener
     * @param storedFailure the outcome to store as the key's answer, or {@code null} to release
     * @param retention how long a stored failure is kept, from now
     * @return what the store threw (already reported), to attach to the failure; null if it was
     *     settled
     */
    public @Nullable RuntimeException fail(
        Throwable failure, @Nullable Outcome storedFailure, Duration retention) {
      stop();
      try {
        if (storedFailure != null) {
          store.complete(key, token, storedFailure, retention);
        } else {
          store.release(key, token);
        }
        listener.failed(key, store.name(), failure, storedFailure != null);
        return null;
      } catch (LeaseLostException e) {
        listener.leaseLost(key, store.name());
        return e;
      } catch (StoreException e) {
        listener.storeFailed(key, store.name(), e);
        return e;
      } catch (RuntimeException e) {
        return e;
      }
    }

    /**
     * Gives back a claim whose work never started (it was taken ahead, and its turn did not come):
     * releases the key so that its next delivery need not wait out the lease. Reports only a store
     * failure; never throws for the store (the lease then expires by itself).
     *
     * @return what the store threw (already reported), or null if the key was released
     */
    public @Nullable RuntimeException abandon() {
      stop();
      try {
        store.release(key, token);
        return null;
      } catch (LeaseLostException e) {
        return null; // already taken over: nothing of ours to give back
      } catch (StoreException e) {
        listener.storeFailed(key, store.name(), e);
        return e;
      } catch (RuntimeException e) {
        return e;
      }
    }

    @Override
    public String toString() {
      return "Held[" + key + ", token=" + token + ", store=" + store.name() + "]";
    }
  }
}
