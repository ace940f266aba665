package dev.once;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Deletes expired records in bounded batches, with a pause between batches so that the writers'
 * claims are not held up, until a batch comes back short. {@link #start()} runs a purge every
 * {@code interval} on a daemon thread of its own until {@link #close()}; {@link #purgeOnce()} runs
 * one on the calling thread.
 *
 * <pre>{@code
 * Purger purger = Purger.builder(store)          // store.purgeExpired(batchSize), batch after batch
 *     .interval(Duration.ofMinutes(1))
 *     .batchSize(1000)
 *     .pause(Duration.ofMillis(50))
 *     .build();
 * purger.start();                                // ... purger.close() on shutdown
 * }</pre>
 *
 * <p>Safe on every instance at once: what a purge deletes is decided by the target, and {@link
 * IdempotencyStore#purgeExpired} deletes each expired record once whoever else purges, and never a
 * record with a live lease or within its retention. The purger adds no coordination of its own.
 *
 * <p>Progress is visible through {@link #progress()} and, as it happens, through a {@link Listener}
 * (the place to hang metrics). Thread-safe; {@link #purgeOnce()} may run while the background
 * thread purges.
 */
public final class Purger implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(Purger.class.getName());

  /**
   * What a purger deletes from: one call deletes at most {@code limit} expired entries. {@code
   * IdempotencyStore::purgeExpired} is one.
   */
  @FunctionalInterface
  public interface Target {
    /**
     * Deletes at most {@code limit} expired entries.
     *
     * @param limit the most entries to delete in this call; positive
     * @return how many were deleted; fewer than {@code limit} when nothing more has expired
     */
    int purge(int limit);
  }

  /**
   * Told about a purger's progress as it happens; for metrics and logs. Called on the purging
   * thread; a listener that throws is logged and otherwise ignored. Every method does nothing by
   * default.
   */
  public interface Listener {

    /** A listener that ignores everything. */
    Listener NONE = new Listener() {};

    /**
     * One batch was deleted.
     *
     * @param purger the purger's name
     * @param deleted how many entries the batch deleted
     */
    default void onBatch(String purger, int deleted) {}

    /**
     * A purge ran to its end (a batch came back short).
     *
     * @param purger the purger's name
     * @param batches how many batches it took
     * @param deleted how many entries it deleted in all
     */
    default void onPurge(String purger, int batches, int deleted) {}

    /**
     * A batch failed; the purge stopped there. The background thread tries again after its
     * interval.
     *
     * @param purger the purger's name
     * @param failure what the target threw
     */
    default void onFailure(String purger, RuntimeException failure) {}
  }

  /**
   * What a purger has done since it was built.
   *
   * @param purges purges that ran to their end
   * @param batches batches deleted, in finished and failed purges
   * @param deleted entries deleted in all
   * @param failures purges that stopped on a failure
   * @param lastPurge when the last purge ended (finished or failed), by the purger's clock; null
   *     before the first
   * @param lastFailure the message of the last failure; null if none failed yet
   */
  public record Progress(
      long purges,
      long batches,
      long deleted,
      long failures,
      @Nullable Instant lastPurge,
      @Nullable String lastFailure) {

    /** Nothing done yet. */
    public static final Progress NONE = new Progress(0, 0, 0, 0, null, null);
  }

  private final String name;
  private final Target target;
  private final int batchSize;
  private final Duration pause;
  private final Duration interval;
  private final Listener listener;
  private final Clock clock;

  private final Object lock = new Object();
  private Progress progress = Progress.NONE; // guarded by lock
  private @Nullable Thread thread; // guarded by lock
  private final CountDownLatch closed = new CountDownLatch(1);

  private Purger(Builder b) {
    this.name = b.name;
    this.target = b.target;
    this.batchSize = b.batchSize;
    this.pause = b.pause;
    this.interval = b.interval;
    this.listener = b.listener;
    this.clock = b.clock;
  }

  /**
   * {@return a builder for a purger of {@code store}} named after the store
   *
   * @param store whose {@link IdempotencyStore#purgeExpired} the purger calls
   */
  public static Builder builder(IdempotencyStore store) {
    Objects.requireNonNull(store, "store");
    return new Builder(store.name(), store::purgeExpired);
  }

  /**
   * {@return a builder for a purger of any target}
   *
   * @param name the purger's name, for its thread, logs and listener; not blank
   * @param target deletes one batch
   * @throws IllegalArgumentException if {@code name} is blank
   */
  public static Builder builder(String name, Target target) {
    return new Builder(name, target);
  }

  /** {@return the purger's name} */
  public String name() {
    return name;
  }

  /** {@return what the purger has done so far} */
  public Progress progress() {
    synchronized (lock) {
      return progress;
    }
  }

  /**
   * Purges on the calling thread: batches of {@code batchSize}, a pause between them, until a batch
   * deletes fewer than {@code batchSize}, or the purger is closed during a pause.
   *
   * @return how many entries were deleted
   * @throws InterruptedException if interrupted during a pause; what was deleted stays deleted
   * @throws RuntimeException whatever the target threw (such as {@link StoreException}); the
   *     batches before it stay deleted
   */
  public int purgeOnce() throws InterruptedException {
    int batches = 0;
    int total = 0;
    try {
      while (true) {
        int deleted = target.purge(batchSize);
        batches++;
        total += deleted;
        recordBatch(deleted);
        tell(() -> listener.onBatch(name, deleted));
        if (deleted < batchSize || closed.await(pause.toNanos(), TimeUnit.NANOSECONDS)) {
          break;
        }
      }
    } catch (RuntimeException e) {
      synchronized (lock) {
        progress =
            new Progress(
                progress.purges(),
                progress.batches(),
                progress.deleted(),
                progress.failures() + 1,
                clock.instant(),
                String.valueOf(e.getMessage()));
      }
      tell(() -> listener.onFailure(name, e));
      throw e;
    }
    synchronized (lock) {
      progress =
          new Progress(
              progress.purges() + 1,
              progress.batches(),
              progress.deleted(),
              progress.failures(),
              clock.instant(),
              progress.lastFailure());
    }
    int batchCount = batches;
    int deletedCount = total;
    tell(() -> listener.onPurge(name, batchCount, deletedCount));
    return total;
  }

  private void recordBatch(int deleted) {
    synchronized (lock) {
      progress =
          new Progress(
              progress.purges(),
              progress.batches() + 1,
              progress.deleted() + deleted,
              progress.failures(),
              progress.lastPurge(),
              progress.lastFailure());
    }
  }

  private void tell(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "purge listener of " + name + " failed", e);
    }
  }

  /**
   * Starts the daemon thread that purges at once and then every {@code interval} (counted from the
   * end of a purge) until {@link #close()}. A failed purge is logged and tried again after the
   * interval.
   *
   * @throws IllegalStateException if it was started already, or closed
   */
  public void start() {
    synchronized (lock) {
      if (thread != null) {
        throw new IllegalStateException("purger " + name + " was started already");
      }
      if (closed.getCount() == 0) {
        throw new IllegalStateException("purger " + name + " is closed");
      }
      Thread t = new Thread(this::loop, "once-purger-" + name);
      t.setDaemon(true);
      thread = t;
      t.start();
    }
  }

  /** {@return whether the background thread runs} */
  public boolean isRunning() {
    synchronized (lock) {
      return thread != null && thread.isAlive() && closed.getCount() > 0;
    }
  }

  private void loop() {
    try {
      do {
        try {
          purgeOnce();
        } catch (RuntimeException e) {
          LOG.log(
              System.Logger.Level.WARNING,
              "purger " + name + " failed, trying again in " + interval,
              e);
        }
      } while (!closed.await(interval.toNanos(), TimeUnit.NANOSECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Stops the background thread, waiting for the batch it is deleting (a pause or the interval wait
   * ends at once). Idempotent. A closed purger cannot be started again, and a {@link #purgeOnce()}
   * running or called after it stops at its first pause.
   */
  @Override
  public void close() {
    Thread t;
    synchronized (lock) {
      closed.countDown();
      t = thread;
    }
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public String toString() {
    return "Purger["
        + name
        + ", batchSize="
        + batchSize
        + ", pause="
        + pause
        + ", interval="
        + interval
        + "]";
  }

  /** Settings of a {@link Purger}; each setter documents its default and range. */
  public static final class Builder {
    private final String name;
    private final Target target;
    private int batchSize = 1000;
    private Duration pause = Duration.ofMillis(50);
    private Duration interval = Duration.ofMinutes(1);
    private Listener listener = Listener.NONE;
    private Clock clock = Clock.systemUTC();

    private Builder(String name, Target target) {
      Objects.requireNonNull(name, "name");
      if (name.isBlank()) {
        throw new IllegalArgumentException("name must not be blank, but was '" + name + "'");
      }
      this.name = name;
      this.target = Objects.requireNonNull(target, "target");
    }

    /**
     * The most entries one batch deletes (one statement on a SQL store). Default 1000.
     *
     * @param batchSize positive
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public Builder batchSize(int batchSize) {
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize must be positive, but was " + batchSize);
      }
      this.batchSize = batchSize;
      return this;
    }

    /**
     * The wait between two batches of one purge, so that writers get the table in between. Default
     * 50 ms.
     *
     * @param pause zero or positive
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder pause(Duration pause) {
      Objects.requireNonNull(pause, "pause");
      if (pause.isNegative()) {
        throw new IllegalArgumentException("pause must not be negative, but was " + pause);
      }
      this.pause = pause;
      return this;
    }

    /**
     * The wait between the end of one background purge and the start of the next. Default 1 minute.
     *
     * @param interval positive
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public Builder interval(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("interval must be positive, but was " + interval);
      }
      this.interval = interval;
      return this;
    }

    /**
     * Told about every batch, purge and failure. Default {@link Listener#NONE}.
     *
     * @param listener not {@code null}
     * @return this builder
     */
    public Builder listener(Listener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * The clock of {@link Progress#lastPurge()}. Default {@link Clock#systemUTC()}. What has
     * expired is the target's decision, by the store's clock, not this one.
     *
     * @param clock not {@code null}
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** {@return a purger with these settings, not started} */
    public Purger build() {
      return new Purger(this);
    }
  }
}
