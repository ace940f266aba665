package dev.once.kafka;

import dev.once.KeyPolicy;
import dev.once.kafka.internal.RecordIds;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.jspecify.annotations.Nullable;

/**
 * The settings {@link KafkaInboxConsumer.Builder} and {@link KafkaLeaseConsumer.Builder} share:
 * what to consume, how a record's id is found and checked, where poison goes, and how failures and
 * outages are paced.
 *
 * @param <B> the builder, returned by every setter
 */
public abstract class ConsumerSettings<K, V, B extends ConsumerSettings<K, V, B>> {

  List<String> topics = List.of();
  // Not KafkaInboxConsumer::messageIdHeader: that would load the inbox, and with it once-jdbc, for
  // a lease consumer.
  Function<ConsumerRecord<K, V>, String> messageId = RecordIds::messageIdHeader;
  NoIdPolicy noIdPolicy = NoIdPolicy.REJECT;
  KeyPolicy keyPolicy = KeyPolicy.defaults();
  @Nullable Producer<K, V> deadLetters;
  Function<String, String> deadLetterTopic = t -> t + ".DLT";
  int maxAttempts = 5;
  Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));
  Backoff outageBackoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10));
  Duration pollTimeout = Duration.ofMillis(500);

  ConsumerSettings() {}

  @SuppressWarnings("unchecked")
  private B self() {
    return (B) this;
  }

  /**
   * The topics to subscribe to. Required.
   *
   * @param topics not empty
   * @return this builder
   * @throws IllegalArgumentException if {@code topics} is {@code null} or empty
   */
  public B topics(Collection<String> topics) {
    if (topics == null || topics.isEmpty()) {
      throw new IllegalArgumentException("topics must not be empty, but was " + topics);
    }
    this.topics = List.copyOf(topics);
    return self();
  }

  /**
   * The id of a record, e.g. a business key. Default: the header {@value
   * KafkaInboxConsumer#MESSAGE_ID_HEADER}.
   *
   * @param messageId the id of a record; it returns {@code null} or blank when the record has none
   * @return this builder
   */
  public B messageId(Function<ConsumerRecord<K, V>, String> messageId) {
    this.messageId = Objects.requireNonNull(messageId, "messageId");
    return self();
  }

  /**
   * The policy ids must satisfy, checked before the batch: a record whose id it refuses is
   * dead-lettered (reason {@code invalid message id}) instead of failing its batch. Default {@link
   * KeyPolicy#defaults()}; give a {@code JdbcInbox} the same policy.
   *
   * @param keyPolicy not {@code null}
   * @return this builder
   */
  public B keyPolicy(KeyPolicy keyPolicy) {
    this.keyPolicy = Objects.requireNonNull(keyPolicy, "keyPolicy");
    return self();
  }

  /**
   * What to do with a record without an id. Default {@link NoIdPolicy#REJECT}.
   *
   * @param policy not {@code null}
   * @return this builder
   */
  public B noIdPolicy(NoIdPolicy policy) {
    this.noIdPolicy = Objects.requireNonNull(policy, "noIdPolicy");
    return self();
  }

  /**
   * The producer for dead letters. Required.
   *
   * @param producer not {@code null}; it stays the caller's to close
   * @return this builder
   */
  public B deadLetters(Producer<K, V> producer) {
    this.deadLetters = Objects.requireNonNull(producer, "deadLetters");
    return self();
  }

  /**
   * The dead-letter topic of a topic. Default {@code <topic>.DLT}.
   *
   * @param naming from a record's topic to its dead-letter topic
   * @return this builder
   */
  public B deadLetterTopic(Function<String, String> naming) {
    this.deadLetterTopic = Objects.requireNonNull(naming, "deadLetterTopic");
    return self();
  }

  /**
   * Handler failures: a record is dead-lettered after {@code maxAttempts} failed attempts; before
   * each retry the consumer waits a random time between half and all of {@code initialBackoff x
   * 2^(failures-1)}, capped at {@code maxBackoff} (the lease consumer also paces its waits on an id
   * another delivery holds with it, capped by the holder's remaining lease). Default 5 attempts,
   * 100 ms, 5 s.
   *
   * @param maxAttempts at least 1
   * @param initialBackoff zero or positive
   * @param maxBackoff at least {@code initialBackoff}
   * @return this builder
   * @throws IllegalArgumentException if a value is out of range
   */
  public B retry(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, but was " + maxAttempts);
    }
    this.backoff = new Backoff(initialBackoff, maxBackoff);
    this.maxAttempts = maxAttempts;
    return self();
  }

  /**
   * Store (database, Redis) outages: before trying again, waits a random time between half and all
   * of {@code initialBackoff x 2^(failures-1)}, capped at {@code maxBackoff}, with the partitions
   * paused and polled. There is no limit on attempts: an outage is waited out, never dead-lettered.
   * Default 100 ms, 10 s.
   *
   * @param initialBackoff zero or positive
   * @param maxBackoff at least {@code initialBackoff}
   * @return this builder
   * @throws IllegalArgumentException if a value is out of range
   */
  public B outageBackoff(Duration initialBackoff, Duration maxBackoff) {
    this.outageBackoff = new Backoff(initialBackoff, maxBackoff);
    return self();
  }

  /**
   * How long {@code run()} waits in one poll. Default 500 ms.
   *
   * @param timeout zero or positive
   * @return this builder
   * @throws IllegalArgumentException if it is {@code null} or negative
   */
  public B pollTimeout(Duration timeout) {
    if (timeout == null || timeout.isNegative()) {
      throw new IllegalArgumentException("pollTimeout must not be negative, but was " + timeout);
    }
    this.pollTimeout = timeout;
    return self();
  }

  /** Fails if a required setting is missing. */
  void checkRequired() {
    if (topics.isEmpty()) {
      throw new IllegalStateException("topics(...) is required");
    }
    requiredDeadLetters();
  }

  /** The dead-letter producer, which every consumer requires. */
  Producer<K, V> requiredDeadLetters() {
    if (deadLetters == null) {
      throw new IllegalStateException(
          "deadLetters(producer) is required: poison records and records without an"
              + " id go to the dead-letter topic, they are never dropped or applied unprotected");
    }
    return deadLetters;
  }
}
