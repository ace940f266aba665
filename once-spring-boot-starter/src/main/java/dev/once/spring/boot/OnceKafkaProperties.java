package dev.once.spring.boot;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * {@code once.kafka.*}: the idempotent {@code @KafkaListener} container factory. Part of {@link
 * OnceProperties}.
 */
public class OnceKafkaProperties {
  /** Whether the starter registers the onceKafkaListenerContainerFactory. */
  private boolean enabled = true;

  /** Record header carrying the message id (UTF-8). */
  private String messageIdHeader = "message-id";

  /**
   * SpEL over the ConsumerRecord giving the message id instead of the header, e.g. "key()"; a
   * byte[] result is read as UTF-8.
   */
  private @Nullable String messageIdExpression;

  /**
   * What to do with a record without a message id: reject (dead-letter it) or
   * topic-partition-offset.
   */
  private NoIdPolicy noIdPolicy = NoIdPolicy.REJECT;

  /**
   * Scope of the message ids. Default: the listener's consumer group. A listener's own
   * "once.consumer" property on its annotation comes first.
   */
  private @Nullable String consumer;

  /**
   * How long an applied message id is remembered; longer than any redelivery or replay you expect.
   */
  private Duration retention = Duration.ofDays(7);

  /** Retries of a failing listener, with a backoff that keeps the consumer polling. */
  private final Retry retry = new Retry();

  /**
   * {@return the {@code once.kafka.enabled} property} Whether the starter registers the
   * onceKafkaListenerContainerFactory. Default {@code true}.
   */
  public boolean isEnabled() {
    return enabled;
  }

  /**
   * Sets the {@code once.kafka.enabled} property; see {@link #isEnabled()}.
   *
   * @param enabled the new value
   */
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /**
   * {@return the {@code once.kafka.message-id-header} property} Record header carrying the message
   * id (UTF-8). Default {@code message-id}.
   */
  public String getMessageIdHeader() {
    return messageIdHeader;
  }

  /**
   * Sets the {@code once.kafka.message-id-header} property; see {@link #getMessageIdHeader()}.
   *
   * @param messageIdHeader the new value
   */
  public void setMessageIdHeader(String messageIdHeader) {
    this.messageIdHeader = messageIdHeader;
  }

  /**
   * {@return the {@code once.kafka.message-id-expression} property} SpEL over the ConsumerRecord
   * giving the message id instead of the header, e.g. "key()"; a byte[] result is read as UTF-8.
   * Default: none.
   */
  public @Nullable String getMessageIdExpression() {
    return messageIdExpression;
  }

  /**
   * Sets the {@code once.kafka.message-id-expression} property; see {@link
   * #getMessageIdExpression()}.
   *
   * @param messageIdExpression the new value
   */
  public void setMessageIdExpression(@Nullable String messageIdExpression) {
    this.messageIdExpression = messageIdExpression;
  }

  /**
   * {@return the {@code once.kafka.no-id-policy} property} What to do with a record without a
   * message id: reject (dead-letter it) or topic-partition-offset. Default {@code reject}.
   */
  public NoIdPolicy getNoIdPolicy() {
    return noIdPolicy;
  }

  /**
   * Sets the {@code once.kafka.no-id-policy} property; see {@link #getNoIdPolicy()}.
   *
   * @param noIdPolicy the new value
   */
  public void setNoIdPolicy(NoIdPolicy noIdPolicy) {
    this.noIdPolicy = noIdPolicy;
  }

  /**
   * {@return the {@code once.kafka.consumer} property} Scope of the message ids. Default: the
   * listener's consumer group. A listener's own {@code once.consumer} property on its annotation
   * ({@link OnceKafkaListenerContainerFactory#CONSUMER_PROPERTY}) comes first.
   */
  public @Nullable String getConsumer() {
    return consumer;
  }

  /**
   * Sets the {@code once.kafka.consumer} property; see {@link #getConsumer()}.
   *
   * @param consumer the new value
   */
  public void setConsumer(@Nullable String consumer) {
    this.consumer = consumer;
  }

  /**
   * {@return the {@code once.kafka.retention} property} How long an applied message id is
   * remembered; longer than any redelivery or replay you expect. Default {@code 7d}.
   */
  public Duration getRetention() {
    return retention;
  }

  /**
   * Sets the {@code once.kafka.retention} property; see {@link #getRetention()}.
   *
   * @param retention the new value
   */
  public void setRetention(Duration retention) {
    this.retention = retention;
  }

  /**
   * {@return the {@code once.kafka.retry.*} properties} Retries of a failing listener, with a
   * backoff that keeps the consumer polling.
   */
  public Retry getRetry() {
    return retry;
  }

  /**
   * {@code once.kafka.retry.*}: when {@code max-attempts} is set, the starter gives its factory a
   * {@code DefaultErrorHandler} that tries a failing record that many times in all, waiting an
   * exponential backoff between tries by pausing the container (it keeps polling, so a long backoff
   * never exceeds {@code max.poll.interval.ms}), then hands it to the application's {@code
   * ConsumerRecordRecoverer} bean (e.g. a {@code DeadLetterPublishingRecoverer}) or, without one,
   * logs and skips it. Each record given up is reported to the {@code OnceListener}s as a dead
   * letter. Unset (the default): the factory keeps the application's {@code CommonErrorHandler}, or
   * Spring Kafka's default (ten tries without a pause).
   */
  public static class Retry {
    /** Tries of a failing record in all, at least 1; unset: the starter builds no error handler. */
    private @Nullable Integer maxAttempts;

    /** The pause before the second try. */
    private Duration initialInterval = Duration.ofSeconds(1);

    /** Each following pause is the previous one times this, at least 1. */
    private double multiplier = 2;

    /** The longest pause. */
    private Duration maxInterval = Duration.ofSeconds(30);

    /**
     * {@return the {@code once.kafka.retry.max-attempts} property} Tries of a failing record in
     * all; unset: the starter builds no error handler.
     */
    public @Nullable Integer getMaxAttempts() {
      return maxAttempts;
    }

    /**
     * Sets the {@code once.kafka.retry.max-attempts} property; see {@link #getMaxAttempts()}.
     *
     * @param maxAttempts the new value, at least 1
     */
    public void setMaxAttempts(@Nullable Integer maxAttempts) {
      this.maxAttempts = maxAttempts;
    }

    /**
     * {@return the {@code once.kafka.retry.initial-interval} property} The pause before the second
     * try. Default 1 s.
     */
    public Duration getInitialInterval() {
      return initialInterval;
    }

    /**
     * Sets the {@code once.kafka.retry.initial-interval} property; see {@link
     * #getInitialInterval()}.
     *
     * @param initialInterval the new value
     */
    public void setInitialInterval(Duration initialInterval) {
      this.initialInterval = initialInterval;
    }

    /**
     * {@return the {@code once.kafka.retry.multiplier} property} Each following pause is the
     * previous one times this. Default 2.
     */
    public double getMultiplier() {
      return multiplier;
    }

    /**
     * Sets the {@code once.kafka.retry.multiplier} property; see {@link #getMultiplier()}.
     *
     * @param multiplier the new value, at least 1
     */
    public void setMultiplier(double multiplier) {
      this.multiplier = multiplier;
    }

    /**
     * {@return the {@code once.kafka.retry.max-interval} property} The longest pause. Default 30 s.
     */
    public Duration getMaxInterval() {
      return maxInterval;
    }

    /**
     * Sets the {@code once.kafka.retry.max-interval} property; see {@link #getMaxInterval()}.
     *
     * @param maxInterval the new value
     */
    public void setMaxInterval(Duration maxInterval) {
      this.maxInterval = maxInterval;
    }
  }

  /** What an idempotent Kafka listener does with a record that has no message id. */
  public enum NoIdPolicy {
    /**
     * Throw {@code MissingMessageIdException}: the error handler dead-letters it; it is never
     * applied.
     */
    REJECT,
    /**
     * Use {@code <topic>-<partition>-<offset>}: a redelivery of the record is skipped, but the same
     * message produced twice (a producer retry) has two offsets and is applied twice.
     */
    TOPIC_PARTITION_OFFSET
  }
}
