package dev.once.servlet.testapp;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.Outcome;
import dev.once.StoreException;
import dev.once.StoreUnavailableException;
import dev.once.testkit.ForwardingIdempotencyStore;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Store decorators for the tests: counting calls, holding claims at a barrier, failing on demand.
 */
public final class Stores {

  private Stores() {}

  /** Counts every call, per operation name and per key digest. */
  public static final class Counting extends ForwardingIdempotencyStore {
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

    public Counting(IdempotencyStore delegate) {
      super(delegate);
    }

    private void count(String what) {
      calls.computeIfAbsent(what, k -> new AtomicInteger()).incrementAndGet();
    }

    /**
     * Calls of {@code operation} ("claim", "complete", "release", ...) for keys in {@code tenant},
     * or all.
     */
    public int calls(String operation) {
      AtomicInteger n = calls.get(operation);
      return n == null ? 0 : n.get();
    }

    public int total() {
      return calls.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    public void reset() {
      calls.clear();
    }

    @Override
    public ClaimResult claim(ClaimRequest request) {
      count("claim");
      return super.claim(request);
    }

    @Override
    public void complete(IdempotencyKey key, long token, Outcome outcome, Duration retention) {
      count("complete");
      super.complete(key, token, outcome, retention);
    }

    @Override
    public void release(IdempotencyKey key, long token) {
      count("release");
      super.release(key, token);
    }

    @Override
    public void renew(IdempotencyKey key, long token, Duration lease) {
      count("renew");
      super.renew(key, token, lease);
    }

    @Override
    public int purgeExpired(int limit) {
      count("purge");
      return super.purgeExpired(limit);
    }
  }

  /**
   * Holds every claim at a barrier until {@code parties} claims are inside the store call together:
   * the widest possible window between "looking" and "inserting" a layer could have.
   */
  public static final class Barrier extends ForwardingIdempotencyStore {
    private volatile CyclicBarrier barrier;

    public Barrier(IdempotencyStore delegate) {
      super(delegate);
    }

    public void arm(int parties) {
      barrier = new CyclicBarrier(parties);
    }

    public void disarm() {
      barrier = null;
    }

    @Override
    public ClaimResult claim(ClaimRequest request) {
      CyclicBarrier b = barrier;
      if (b != null) {
        try {
          b.await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
          throw new IllegalStateException("the other claim never arrived", e);
        }
      }
      return super.claim(request);
    }
  }

  /**
   * Answers {@link StoreUnavailableException} to everything while cut, like a store that is down.
   */
  public static final class Switchable extends ForwardingIdempotencyStore {
    private final AtomicBoolean cut = new AtomicBoolean();

    public Switchable(IdempotencyStore delegate) {
      super(delegate);
    }

    public void cut() {
      cut.set(true);
    }

    public void restore() {
      cut.set(false);
    }

    private void check() {
      if (cut.get()) {
        throw new StoreUnavailableException("connection refused (simulated)", name(), null, null);
      }
    }

    @Override
    public ClaimResult claim(ClaimRequest request) {
      check();
      return super.claim(request);
    }

    @Override
    public void complete(IdempotencyKey key, long token, Outcome outcome, Duration retention) {
      check();
      super.complete(key, token, outcome, retention);
    }

    @Override
    public void release(IdempotencyKey key, long token) {
      check();
      super.release(key, token);
    }
  }

  /**
   * Fails {@code complete} while armed: a crash between the business write and the record's
   * completion.
   */
  public static final class FailingCompletion extends ForwardingIdempotencyStore {
    private final AtomicBoolean armed;

    public FailingCompletion(IdempotencyStore delegate, AtomicBoolean armed) {
      super(delegate);
      this.armed = armed;
    }

    @Override
    public void complete(IdempotencyKey key, long token, Outcome outcome, Duration retention) {
      if (armed.get()) {
        throw new StoreException("completion failed (simulated)", name(), key.scope(), null);
      }
      super.complete(key, token, outcome, retention);
    }
  }
}
