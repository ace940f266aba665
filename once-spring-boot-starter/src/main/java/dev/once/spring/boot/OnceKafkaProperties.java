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

  /** Scope of the message ids. Default: the listener's consumer group. */
  private @Nullable String consumer;

  /**
   * How long an applied message id is remembered; longer than any redelivery or replay you expect.
   */
  private Duration retention = Duration.ofDays(7);

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public String getMessageIdHeader() {
    return messageIdHeader;
  }

  public void setMessageIdHeader(String messageIdHeader) {
    this.messageIdHeader = messageIdHeader;
  }

  public @Nullable String getMessageIdExpression() {
    return messageIdExpression;
  }

  public void setMessageIdExpression(@Nullable String messageIdExpression) {
    this.messageIdExpression = messageIdExpression;
  }

  public NoIdPolicy getNoIdPolicy() {
    return noIdPolicy;
  }

  public void setNoIdPolicy(NoIdPolicy noIdPolicy) {
    this.noIdPolicy = noIdPolicy;
  }

  public @Nullable String getConsumer() {
    return consumer;
  }

  public void setConsumer(@Nullable String consumer) {
    this.consumer = consumer;
  }

  public Duration getRetention() {
    return retention;
  }

  public void setRetention(Duration retention) {
    this.retention = retention;
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
