package dev.once.nats.internal;

import io.nats.client.Message;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Keeps the messages of the batch being applied from being redelivered: while a batch runs (its
 * handlers, or a wait for the database to come back) longer than {@code every}, each of its
 * messages gets an {@code inProgress()} (a {@code +WPI} ack, which restarts the consumer's AckWait
 * without settling the message and without counting a delivery), and again every {@code every}.
 *
 * <p>Once {@link #stop()} returned no tick of the stopped batch runs any more, so the caller can
 * settle the messages (ack, nak, term) without a late in-progress ack racing it. Thread-safe.
 */
public final class InProgressTicker implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(InProgressTicker.class.getName());

  private final long everyNanos;
  private final ScheduledExecutorService timer;
  private @Nullable List<Message> batch; // guarded by this
  private @Nullable ScheduledFuture<?> task; // guarded by this

  /**
   * @param every the pause before the first in-progress ack and between two; positive
   * @param threadName the name of the ticker's daemon thread
   */
  public InProgressTicker(Duration every, String threadName) {
    if (every.isNegative() || every.isZero()) {
      throw new IllegalArgumentException(
          "the in-progress period must be positive, but was " + every);
    }
    this.everyNanos = every.toNanos();
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, threadName);
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts ticking for {@code messages} (a snapshot is kept), replacing any batch before. */
  public synchronized void start(List<Message> messages) {
    stop();
    batch = List.copyOf(messages);
    task = timer.scheduleAtFixedRate(this::tick, everyNanos, everyNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * Narrows the running batch to {@code messages} (a snapshot is kept) without restarting the
   * period, so a batch retried again and again still gets its acks in time. Once this returned, a
   * message left out gets no in-progress ack any more and may be settled.
   */
  public synchronized void update(List<Message> messages) {
    if (batch != null) {
      batch = List.copyOf(messages);
    }
  }

  /** Stops ticking; the messages may be settled once this returned. */
  public synchronized void stop() {
    batch = null;
    if (task != null) {
      task.cancel(false);
      task = null;
    }
  }

  private synchronized void tick() {
    List<Message> messages = batch;
    if (messages == null) {
      return; // stopped while this tick waited for the lock
    }
    for (Message m : messages) {
      try {
        m.inProgress();
      } catch (RuntimeException e) {
        // The connection is down: the message comes back after AckWait and the inbox skips it if
        // its batch committed.
        LOG.log(System.Logger.Level.DEBUG, "in-progress ack failed", e);
      }
    }
  }

  @Override
  public void close() {
    stop();
    timer.shutdownNow();
  }
}
