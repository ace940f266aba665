package dev.once.internal;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Keeps the messages of the batch being applied from being redelivered by their broker: while a
 * batch runs (its handlers, or a wait for the database to come back) longer than {@code every},
 * {@code onTick} gets its messages, and again every {@code every}. What a tick does is the broker's
 * (an in-progress ack on NATS JetStream, a visibility extension on SQS); the timing, the narrowing
 * of a batch whose failed messages were settled, and the stop are this class's, so every consumer
 * gets them alike.
 *
 * <p>Once {@link #stop()} returned no tick of the stopped batch runs any more, so the caller can
 * settle the messages (ack, nack, delete) without a late tick racing it. Thread-safe. Not public
 * API.
 *
 * @param <M> the broker's message type
 */
public final class BatchTicker<M> implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(BatchTicker.class.getName());

  private final long everyNanos;
  private final Consumer<List<M>> onTick;
  private final ScheduledExecutorService timer;
  private @Nullable List<M> batch; // guarded by this
  private @Nullable ScheduledFuture<?> task; // guarded by this

  /**
   * @param every the pause before the first tick and between two; positive
   * @param threadName the name of the ticker's daemon thread
   * @param onTick keeps the messages it is given from being redelivered; an exception it throws is
   *     logged (at debug level) and the next tick comes all the same
   * @throws IllegalArgumentException if {@code every} is not positive
   */
  public BatchTicker(Duration every, String threadName, Consumer<List<M>> onTick) {
    if (every == null || every.isNegative() || every.isZero()) {
      throw new IllegalArgumentException("the tick period must be positive, but was " + every);
    }
    this.everyNanos = every.toNanos();
    this.onTick = Objects.requireNonNull(onTick, "onTick");
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, threadName);
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts ticking for {@code messages} (a snapshot is kept), replacing any batch before. */
  public synchronized void start(List<M> messages) {
    stop();
    batch = List.copyOf(messages);
    task = timer.scheduleAtFixedRate(this::tick, everyNanos, everyNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * Narrows the running batch to {@code messages} (a snapshot is kept) without restarting the
   * period, so a batch retried again and again still gets its ticks in time. Once this returned, a
   * message left out gets no tick any more and may be settled.
   */
  public synchronized void update(List<M> messages) {
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
    List<M> messages = batch;
    if (messages == null || messages.isEmpty()) {
      return; // stopped while this tick waited for the lock
    }
    try {
      onTick.accept(messages);
    } catch (RuntimeException e) {
      // The broker connection is down: the messages come back when their broker's timer runs out,
      // and the inbox skips them if their batch committed.
      LOG.log(System.Logger.Level.DEBUG, "a tick failed", e);
    }
  }

  @Override
  public void close() {
    stop();
    timer.shutdownNow();
  }
}
