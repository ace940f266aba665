package dev.once.kafka.internal;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;

/**
 * The run/close handshake both runners share: {@code run()} on the polling thread, {@code close()}
 * from any thread, the consumer closed exactly once by whichever of them owns it.
 */
public final class ConsumerLifecycle {

  private final Consumer<?, ?> consumer;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicBoolean running = new AtomicBoolean();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private boolean consumerClosed;

  public ConsumerLifecycle(Consumer<?, ?> consumer) {
    this.consumer = consumer;
  }

  /** Marks the start of {@code run()}, which may happen once. */
  public void begin() {
    if (!running.compareAndSet(false, true)) {
      throw new IllegalStateException("run() was already called");
    }
  }

  public boolean closing() {
    return closing.get();
  }

  /**
   * The end of {@code run()}, in its {@code finally}: closes the consumer and releases {@link
   * #close()}.
   */
  public void ended() {
    closeConsumer();
    stopped.countDown();
  }

  /**
   * Stops {@code run()} (waking the consumer up) and waits up to 30 seconds for it to close the
   * consumer; if {@code run()} never started, closes the consumer here. Idempotent.
   */
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    if (running.get()) {
      consumer.wakeup();
      try {
        stopped.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } else {
      closeConsumer();
    }
  }

  /** Waits on the polling thread, in short steps so that {@link #close()} ends the wait at once. */
  public void sleep(long nanos) {
    long until = System.nanoTime() + nanos;
    for (long left = nanos; left > 0; left = until - System.nanoTime()) {
      if (closing.get()) {
        throw new WakeupException();
      }
      try {
        TimeUnit.NANOSECONDS.sleep(Math.min(left, 50_000_000L));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptException(e);
      }
    }
  }

  private synchronized void closeConsumer() {
    if (!consumerClosed) {
      consumerClosed = true;
      consumer.close();
    }
  }
}
