package dev.once.kafka;

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
final class ConsumerLifecycle {

  private final Consumer<?, ?> consumer;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicBoolean running = new AtomicBoolean();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private boolean consumerClosed;

  ConsumerLifecycle(Consumer<?, ?> consumer) {
    this.consumer = consumer;
  }

  /** Marks the start of {@code run()}, which may happen once. */
  void begin() {
    if (!running.compareAndSet(false, true)) {
      throw new IllegalStateException("run() was already called");
    }
  }

  boolean closing() {
    return closing.get();
  }

  /**
   * The end of {@code run()}, in its {@code finally}: closes the consumer and releases {@link
   * #close()}.
   */
  void ended() {
    closeConsumer();
    stopped.countDown();
  }

  /**
   * Stops {@code run()} (waking the consumer up) and waits up to 30 seconds for it to close the
   * consumer; if {@code run()} never started, closes the consumer here. Idempotent.
   */
  void close() {
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
  void sleep(long nanos) {
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
