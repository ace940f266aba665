package dev.once.kafka;

import dev.once.outbox.OutboxMessage;
import dev.once.outbox.OutboxPublisher;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.jspecify.annotations.Nullable;

/**
 * Publishes outbox messages to Kafka with an idempotent producer: topic = the message's
 * destination, record key = its key (UTF-8), value = its payload, its headers as UTF-8 headers and
 * its id in the header {@value KafkaInboxConsumer#MESSAGE_ID_HEADER}, where {@link
 * KafkaInboxConsumer} reads it, so a message the relay publishes twice is applied once.
 *
 * <pre>{@code
 * KafkaOutboxPublisher publisher = KafkaOutboxPublisher.builder(
 *         Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "kafka:9092"))
 *     .timeout(Duration.ofSeconds(30))
 *     .build();
 * }</pre>
 *
 * <p><b>Acknowledged means written.</b> The producer runs with {@code enable.idempotence=true} and
 * {@code acks=all}: a message is reported acknowledged only when every in-sync replica has it. A
 * configuration that weakens either (or that makes the producer transactional, or would let it
 * reorder a partition) is refused when the publisher is built. {@link #publish} sends the whole
 * batch, then waits on each send's result until the {@link Builder#timeout timeout} from the start
 * of the call; a message whose result has not come by then is reported refused. The producer may
 * still deliver it afterwards (its own {@code delivery.timeout.ms} decides), so the relay publishes
 * it again and the inbox downstream skips the second copy.
 *
 * <p><b>Order.</b> Messages of one key go to one partition (Kafka's default partitioner hashes the
 * key), in list order, and the idempotent producer keeps that order through its retries. A message
 * without a key goes to any partition, with no order. <em>A refusal does not hold back the later
 * messages of its key:</em> they are already in flight when it is refused, and those the broker
 * takes are reported acknowledged; the refused one is published again when the relay retries it, so
 * consumers see it after them. Refusals that hit one message and not the next of its key are about
 * that message itself (too large for the topic); an unreachable broker or missing topic refuses
 * them all.
 *
 * <p>A message header named {@value KafkaInboxConsumer#MESSAGE_ID_HEADER} is sent, but the id
 * header goes after it, and the inbox reads the last one: the outbox id wins.
 *
 * <p>{@link #publish} is meant for one relay thread at a time (calls are serialized); {@link
 * #close()} closes the producer.
 */
public final class KafkaOutboxPublisher implements OutboxPublisher {

  /** How long {@link #publish} waits for the broker by default. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /** At most this many unacknowledged requests per connection keep a partition's order. */
  private static final int MAX_ORDERED_IN_FLIGHT = 5;

  private final Producer<byte[], byte[]> producer;
  private final Duration timeout;

  private KafkaOutboxPublisher(Producer<byte[], byte[]> producer, Duration timeout) {
    this.producer = producer;
    this.timeout = timeout;
  }

  /**
   * Starts a builder.
   *
   * @param producerConfig the Kafka producer's settings, at least {@code bootstrap.servers}; the
   *     publisher adds {@code enable.idempotence=true} and {@code acks=all}, {@code linger.ms=0}
   *     unless set, and serializes bytes itself
   * @return a new builder
   * @throws IllegalArgumentException if a setting weakens the delivery guarantee (see {@link
   *     Builder#build()})
   */
  public static Builder builder(Map<String, ?> producerConfig) {
    return new Builder(producerConfig);
  }

  @Override
  public synchronized Map<UUID, Exception> publish(List<OutboxMessage> messages)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<UUID, Exception> refused = new LinkedHashMap<>();
    Map<UUID, Future<RecordMetadata>> sent = new LinkedHashMap<>();
    // A topic whose metadata did not come blocks each send for max.block.ms: once one send to it
    // timed out that way, the rest of the batch's messages to it are refused without waiting again.
    Map<String, Exception> unreachable = new HashMap<>();
    for (OutboxMessage message : messages) {
      Exception known = unreachable.get(message.destination());
      if (known != null) {
        refused.put(message.id(), known);
        continue;
      }
      try {
        Future<RecordMetadata> result = producer.send(record(message));
        if (result.isDone()
            && failure(result)
                instanceof org.apache.kafka.common.errors.TimeoutException timedOut) {
          unreachable.put(message.destination(), timedOut);
        }
        sent.put(message.id(), result);
      } catch (InterruptException e) {
        throw interrupted(e);
      } catch (RuntimeException e) {
        refused.put(message.id(), e);
      }
    }
    for (Map.Entry<UUID, Future<RecordMetadata>> e : sent.entrySet()) {
      Exception failure = await(e.getValue(), deadline);
      if (failure != null) {
        refused.put(e.getKey(), failure);
      }
    }
    return refused;
  }

  private static ProducerRecord<byte[], byte[]> record(OutboxMessage message) {
    String key = message.key();
    ProducerRecord<byte[], byte[]> record =
        new ProducerRecord<>(
            message.destination(),
            key == null ? null : key.getBytes(StandardCharsets.UTF_8),
            message.payload());
    message
        .headers()
        .forEach(
            (name, value) -> record.headers().add(name, value.getBytes(StandardCharsets.UTF_8)));
    record
        .headers()
        .add(
            KafkaInboxConsumer.MESSAGE_ID_HEADER,
            message.id().toString().getBytes(StandardCharsets.UTF_8));
    return record;
  }

  /** The send's failure, or null if the broker acknowledged it before the deadline. */
  private static @Nullable Exception await(Future<RecordMetadata> result, long deadline)
      throws InterruptedException {
    try {
      result.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause() instanceof Exception cause ? cause : e;
    } catch (TimeoutException e) {
      return new TimeoutException("the broker did not acknowledge within the publisher's timeout");
    }
  }

  /** The failure of a completed send, or null if it succeeded. */
  private static @Nullable Exception failure(Future<RecordMetadata> done)
      throws InterruptedException {
    try {
      done.get();
      return null;
    } catch (ExecutionException e) {
      return e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  private static InterruptedException interrupted(InterruptException e) {
    InterruptedException interrupted =
        new InterruptedException("interrupted while sending to Kafka");
    interrupted.initCause(e);
    Thread.interrupted(); // InterruptedException carries the interrupt now
    return interrupted;
  }

  /** Closes the producer, waiting up to the publisher's timeout for sends still in flight. */
  @Override
  public void close() {
    producer.close(timeout);
  }

  /** Settings of a {@link KafkaOutboxPublisher}. */
  public static final class Builder {

    private final Map<String, Object> config;
    private Duration timeout = DEFAULT_TIMEOUT;

    private Builder(Map<String, ?> producerConfig) {
      this.config = new HashMap<>(Objects.requireNonNull(producerConfig, "producerConfig"));
    }

    /**
     * How long one {@link KafkaOutboxPublisher#publish} waits for the broker's answers, from its
     * start; messages still unanswered then are reported refused. Unless the configuration sets
     * {@code max.block.ms}, it is set to this too, so a send waiting for metadata or buffer space
     * gives up in time. Default {@link #DEFAULT_TIMEOUT}.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder timeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive, was " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * Creates the producer.
     *
     * @return the publisher, owning a new {@code KafkaProducer<byte[], byte[]>}
     * @throws IllegalArgumentException if the configuration sets {@code acks} other than {@code
     *     all}/{@code -1}, {@code enable.idempotence} other than {@code true}, {@code retries=0},
     *     {@code max.in.flight.requests.per.connection} above 5, a {@code transactional.id}, or a
     *     key or value serializer (the publisher sends bytes)
     */
    public KafkaOutboxPublisher build() {
      return new KafkaOutboxPublisher(
          new KafkaProducer<>(
              producerSettings(), new ByteArraySerializer(), new ByteArraySerializer()),
          timeout);
    }

    /** The producer's settings: the user's, checked, with what the publisher needs added. */
    Map<String, Object> producerSettings() {
      refuseWeakening(config);
      Map<String, Object> settings = new HashMap<>(config);
      settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
      settings.put(ProducerConfig.ACKS_CONFIG, "all");
      settings.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout.toMillis());
      // The relay already hands over a whole batch and then waits for its acknowledgements: a
      // linger (5 ms by default since Kafka 4.0) would only hold the batch's tail back.
      settings.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 0);
      return settings;
    }

    private static void refuseWeakening(Map<String, Object> config) {
      List<String> problems = new ArrayList<>();
      String acks = setting(config, ProducerConfig.ACKS_CONFIG);
      if (acks != null && !acks.equals("all") && !acks.equals("-1")) {
        problems.add(
            "acks="
                + acks
                + " (the publisher reports a message sent only once every in-sync replica has it:"
                + " acks=all)");
      }
      String idempotence = setting(config, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG);
      if (idempotence != null && !idempotence.equals("true")) {
        problems.add(
            "enable.idempotence="
                + idempotence
                + " (a producer retry could write a message twice or out of its key's order)");
      }
      String retries = setting(config, ProducerConfig.RETRIES_CONFIG);
      if ("0".equals(retries)) {
        problems.add("retries=0 (the idempotent producer needs its retries)");
      }
      String inFlight = setting(config, ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION);
      if (inFlight != null && parsesAbove(inFlight, MAX_ORDERED_IN_FLIGHT)) {
        problems.add(
            "max.in.flight.requests.per.connection="
                + inFlight
                + " (above "
                + MAX_ORDERED_IN_FLIGHT
                + " the idempotent producer no longer keeps a partition's order)");
      }
      if (setting(config, ProducerConfig.TRANSACTIONAL_ID_CONFIG) != null) {
        problems.add("transactional.id (the publisher does not run Kafka transactions)");
      }
      for (String serializer :
          List.of(
              ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
              ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG)) {
        if (setting(config, serializer) != null) {
          problems.add(serializer + " (the publisher sends the outbox's bytes as they are)");
        }
      }
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException(
            "KafkaOutboxPublisher refuses producer settings that weaken its delivery guarantee;"
                + " remove: "
                + String.join("; ", problems));
      }
    }

    private static @Nullable String setting(Map<String, Object> config, String name) {
      Object value = config.get(name);
      return value == null ? null : value.toString().trim().toLowerCase(Locale.ROOT);
    }

    private static boolean parsesAbove(String value, int limit) {
      try {
        return Integer.parseInt(value) > limit;
      } catch (NumberFormatException e) {
        return false; // not a number: the producer's own check names it
      }
    }
  }
}
