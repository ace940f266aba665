package dev.once;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Renews held leases in the background, so an execution slower than its lease is not taken over and
 * run a second time. One scheduler per JVM ({@link #SHARED}) with {@value #THREADS} daemon threads,
 * not a thread per execution: a renewal is one short store call, made every {@code lease / }{@value
 * #BEATS_PER_LEASE}, so a beat can fail (or be late by up to a third of the lease) and the next one
 * still renews in time.
 */
final class LeaseHeartbeat {

  static final int BEATS_PER_LEASE = 3;
  static final int THREADS = 2;
  private static final System.Logger LOG = System.getLogger(LeaseHeartbeat.class.getName());

  static final LeaseHeartbeat SHARED = new LeaseHeartbeat();

  private final ScheduledThreadPoolExecutor scheduler;

  private LeaseHeartbeat() {
    AtomicInteger n = new AtomicInteger();
    scheduler =
        new ScheduledThreadPoolExecutor(
            THREADS,
            r -> {
              Thread t = new Thread(r, "once-lease-heartbeat-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    // A stopped heartbeat must not stay queued until its next beat: executions end far more often
    // than beats fire.
    scheduler.setRemoveOnCancelPolicy(true);
  }

  /** The interval between renewals of a lease: a third of it, at least 1 ms. */
  static Duration interval(Duration lease) {
    return Duration.ofNanos(
        Math.max(lease.toNanos() / BEATS_PER_LEASE, TimeUnit.MILLISECONDS.toNanos(1)));
  }

  /**
   * Renews {@code key}'s lease every {@link #interval} until the returned beat is stopped or the
   * lease is lost.
   */
  Beat start(
      IdempotencyStore store,
      IdempotencyKey key,
      long token,
      Duration lease,
      OnceListener listener) {
    Beat beat = new Beat(store, key, token, lease, listener);
    long every = interval(lease).toNanos();
    beat.future = scheduler.scheduleWithFixedDelay(beat::renew, every, every, TimeUnit.NANOSECONDS);
    return beat;
  }

  /** One held lease being renewed. */
  static final class Beat {
    private final IdempotencyStore store;
    private final IdempotencyKey key;
    private final long token;
    private final Duration lease;
    private final OnceListener listener;
    private volatile @Nullable ScheduledFuture<?> future;
    private volatile boolean stopped;
    private volatile @Nullable LeaseLostException lost;

    private Beat(
        IdempotencyStore store,
        IdempotencyKey key,
        long token,
        Duration lease,
        OnceListener listener) {
      this.store = store;
      this.key = key;
      this.token = token;
      this.lease = lease;
      this.listener = listener;
    }

    private void renew() {
      if (stopped) {
        return;
      }
      try {
        store.renew(key, token, lease);
      } catch (LeaseLostException e) {
        // A renewal racing the execution's own complete or release finds the record settled: not
        // news.
        if (!stopped) {
          lost = e;
          LOG.log(
              System.Logger.Level.WARNING,
              "the lease of {0} (token {1}) in {2} was taken over while its"
                  + " execution ran; its result will not be stored",
              key,
              Long.toString(token),
              store.name());
          listener.renewalFailed(key, store.name(), e);
        }
        throw e; // ends the schedule: a lost lease never comes back
      } catch (StoreException e) {
        if (!stopped) {
          LOG.log(
              System.Logger.Level.WARNING,
              "could not renew the lease of {0} in {1}; trying again in {2}: {3}",
              key,
              store.name(),
              interval(lease),
              e.getMessage());
          listener.renewalFailed(key, store.name(), e);
        }
      } catch (RuntimeException e) {
        // A store bug must not end the heartbeat silently while the execution still relies on it.
        LOG.log(
            System.Logger.Level.WARNING,
            "renewing the lease of " + key + " failed unexpectedly",
            e);
      }
    }

    /** Whether a renewal found the lease taken over. */
    boolean lost() {
      return lost != null;
    }

    /** Stops renewing; a renewal in flight may still finish, and its answer is ignored. */
    void stop() {
      stopped = true;
      ScheduledFuture<?> scheduled = future; // set by start() before the beat is handed out
      if (scheduled != null) {
        scheduled.cancel(false);
      }
    }
  }
}
