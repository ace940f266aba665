package dev.once.spring.boot.internal;

import dev.once.OnceListener;
import dev.once.spring.boot.MissingMessageIdException;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.jspecify.annotations.Nullable;
import org.springframework.kafka.listener.RetryListener;

/**
 * Reports each record an error handler gave up on (its recoverer ran: a dead-letter topic, or a log
 * line and a skip) to the {@link OnceListener} as {@link OnceListener#deadLettered}, with the
 * consumer scope and source the duplicates of the same listener are reported under. Registered as a
 * retry listener of a {@code DefaultErrorHandler}, which calls it on the consumer thread, where the
 * idempotent adapter that failed left its support. Not public API.
 */
public final class KafkaDeadLetterReporter implements RetryListener {

  private final KafkaInboxSupport fallback;

  /**
   * @param fallback the factory's support: its scope is used when no adapter ran on this thread
   */
  public KafkaDeadLetterReporter(KafkaInboxSupport fallback) {
    this.fallback = Objects.requireNonNull(fallback, "fallback");
  }

  @Override
  public void failedDelivery(
      ConsumerRecord<?, ?> record, @Nullable Exception failure, int deliveryAttempt) {
    // Not a dead letter yet: the handler will try again.
  }

  @Override
  public void recovered(ConsumerRecord<?, ?> record, @Nullable Exception failure) {
    report(record, failure);
  }

  @Override
  public void recovered(ConsumerRecords<?, ?> records, @Nullable Exception failure) {
    records.forEach(r -> report(r, failure));
  }

  private void report(ConsumerRecord<?, ?> record, @Nullable Exception failure) {
    KafkaInboxSupport support = KafkaInboxSupport.lastOnThisThread();
    if (support == null) {
      support = fallback;
    }
    String group = KafkaInboxSupport.groupOf(null);
    String consumer;
    try {
      consumer = support.consumerOf(null);
    } catch (IllegalStateException noGroup) {
      consumer = "kafka";
    }
    support
        .inbox
        .listener()
        .deadLettered(
            consumer,
            KafkaInboxSupport.sourceOf(record, group),
            rejected(failure)
                ? OnceListener.DEAD_LETTER_REJECTED
                : OnceListener.DEAD_LETTER_FAILED);
  }

  private static boolean rejected(@Nullable Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof MissingMessageIdException) {
        return true;
      }
    }
    return false;
  }
}
