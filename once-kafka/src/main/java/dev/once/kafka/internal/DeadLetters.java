package dev.once.kafka.internal;

import dev.once.OnceListener;
import dev.once.kafka.KafkaInboxConsumer;
import dev.once.kafka.KafkaLeaseConsumer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.jspecify.annotations.Nullable;

/**
 * Sends a record to its dead-letter topic with the reason in {@code once.dlt.*} headers and waits
 * for the broker's acknowledgement (up to 30 s), so the caller moves past the record only once it
 * is safely elsewhere, then tells the listener ({@link OnceListener#deadLettered}: the consumer's
 * name, {@code kafka:<topic>}, and {@code rejected} for a record that was never applied, {@code
 * failed} after its attempts). Shared by {@link KafkaInboxConsumer} and {@link KafkaLeaseConsumer}.
 */
public final class DeadLetters<K, V> {

  private final Producer<K, V> producer;
  private final Function<String, String> topicOf;
  private final OnceListener listener;
  private final String consumer;
  private final AtomicLong sent = new AtomicLong();

  public DeadLetters(
      Producer<K, V> producer,
      Function<String, String> topicOf,
      OnceListener listener,
      String consumer) {
    this.producer = producer;
    this.topicOf = topicOf;
    this.listener = OnceListener.guarded(listener);
    this.consumer = consumer;
  }

  public long sent() {
    return sent.get();
  }

  /**
   * @throws IllegalStateException if the broker did not acknowledge it (the caller must not move
   *     past the record)
   */
  public void send(ConsumerRecord<K, V> r, String reason, @Nullable Throwable cause, int attempts) {
    RecordHeaders headers = new RecordHeaders();
    for (Header h : r.headers()) {
      headers.add(h);
    }
    headers.add(
        KafkaInboxConsumer.DLT_REASON_HEADER,
        utf8(reason + (cause == null ? "" : ": " + cause.getMessage())));
    if (cause != null) {
      headers.add(KafkaInboxConsumer.DLT_EXCEPTION_HEADER, utf8(cause.getClass().getName()));
    }
    headers.add(KafkaInboxConsumer.DLT_TOPIC_HEADER, utf8(r.topic()));
    headers.add(KafkaInboxConsumer.DLT_PARTITION_HEADER, utf8(Integer.toString(r.partition())));
    headers.add(KafkaInboxConsumer.DLT_OFFSET_HEADER, utf8(Long.toString(r.offset())));
    headers.add(KafkaInboxConsumer.DLT_ATTEMPTS_HEADER, utf8(Integer.toString(attempts)));
    String topic = topicOf.apply(r.topic());
    try {
      producer
          .send(new ProducerRecord<>(topic, null, r.key(), r.value(), headers))
          .get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(
          "interrupted while dead-lettering " + describe(r) + " to " + topic, e);
    } catch (ExecutionException | TimeoutException e) {
      // Not acknowledged: the record is not moved past either, so it comes back.
      throw new IllegalStateException(
          "could not dead-letter " + describe(r) + " to " + topic + ": " + e, e);
    }
    sent.incrementAndGet();
    // No attempt was spent on a record rejected before its handler ran (no id, a reused id).
    listener.deadLettered(
        consumer,
        "kafka:" + r.topic(),
        attempts > 0 ? OnceListener.DEAD_LETTER_FAILED : OnceListener.DEAD_LETTER_REJECTED);
  }

  public static String describe(ConsumerRecord<?, ?> r) {
    return r.topic() + "-" + r.partition() + "@" + r.offset();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
