package dev.once.kafka.internal;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;

/**
 * The pause bookkeeping of both consumers (polling thread only): which partitions wait, until when
 * or until what, and polling in short steps meanwhile, so the member stays in its group
 * (heartbeats, {@code max.poll.interval.ms}, rebalances) while it waits and resumes a partition
 * promptly when its wait is over.
 *
 * <p>A partition waits either until a deadline ({@link #pauseAt}: the lease consumer's record held
 * by another delivery or hit by an outage), or until released ({@link #hold}: the inbox's partition
 * whose stored offset could not be read yet). {@link #waitOut} pauses every assigned partition for
 * a while (the inbox's database outage).
 */
public final class PausedPartitions {

  /** The longest single poll while partitions wait, so a due partition is resumed promptly. */
  static final long MAX_WAITING_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final Consumer<?, ?> consumer;
  private final Map<TopicPartition, Long> pausedUntil = new HashMap<>();
  private final Set<TopicPartition> held = new HashSet<>();

  public PausedPartitions(Consumer<?, ?> consumer) {
    this.consumer = consumer;
  }

  /**
   * Stops {@code tp} at {@code offset}: seeks it back there and pauses it for {@code nanos}, after
   * which {@link #resumeDue} resumes it.
   */
  public void pauseAt(TopicPartition tp, long offset, long nanos) {
    consumer.seek(tp, offset);
    consumer.pause(List.of(tp));
    pausedUntil.put(tp, System.nanoTime() + nanos);
  }

  /**
   * Resumes every partition whose {@link #pauseAt} wait is over.
   *
   * @return how long the next poll may block: {@code timeout}, or while some partition still waits,
   *     no longer than until the first of them is due and at most 100 ms
   */
  public Duration resumeDue(Duration timeout) {
    long now = System.nanoTime();
    long nextDue = Long.MAX_VALUE;
    for (Iterator<Map.Entry<TopicPartition, Long>> it = pausedUntil.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<TopicPartition, Long> e = it.next();
      if (e.getValue() - now <= 0) {
        consumer.resume(List.of(e.getKey()));
        it.remove();
      } else {
        nextDue = Math.min(nextDue, e.getValue() - now);
      }
    }
    if (pausedUntil.isEmpty()) {
      return timeout;
    }
    return Duration.ofNanos(Math.min(timeout.toNanos(), Math.min(nextDue, MAX_WAITING_POLL_NANOS)));
  }

  /** Pauses these partitions until {@link #release}d. */
  public void hold(Collection<TopicPartition> partitions) {
    held.addAll(partitions);
    consumer.pause(partitions);
  }

  /** The held partitions that are still assigned; the others are forgotten. */
  public Set<TopicPartition> heldAndAssigned() {
    if (held.isEmpty()) {
      return Set.of();
    }
    held.retainAll(consumer.assignment());
    return Set.copyOf(held);
  }

  /** Resumes these held partitions. */
  public void release(Collection<TopicPartition> partitions) {
    consumer.resume(partitions);
    held.removeAll(partitions);
  }

  /** Forgets revoked partitions: whoever owns them next starts afresh. */
  public void forget(Collection<TopicPartition> revoked) {
    pausedUntil.keySet().removeAll(revoked);
    held.removeAll(revoked);
  }

  /**
   * Waits {@code nanos} with every assigned partition paused, polling in short steps (partitions a
   * rebalance assigns meanwhile are paused too), then resumes every assigned partition that is not
   * {@link #hold held}. Ends early once {@code closing} says so; the consumer's {@code wakeup()}
   * ends a poll at once.
   */
  public void waitOut(long nanos, BooleanSupplier closing) {
    consumer.pause(consumer.assignment());
    long until = System.nanoTime() + nanos;
    for (long left = nanos; left > 0 && !closing.getAsBoolean(); left = until - System.nanoTime()) {
      ConsumerRecords<?, ?> stray =
          consumer.poll(Duration.ofNanos(Math.min(left, MAX_WAITING_POLL_NANOS)));
      if (!stray.isEmpty()) {
        // Cannot happen with every partition paused; if it does, they are read again later.
        BatchOffsets.rewind(consumer, stray, Map.of());
      }
      consumer.pause(consumer.assignment());
    }
    Set<TopicPartition> resume = new HashSet<>(consumer.assignment());
    resume.removeAll(held);
    consumer.resume(resume);
  }
}
