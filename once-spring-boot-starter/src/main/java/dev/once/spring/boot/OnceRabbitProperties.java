package dev.once.spring.boot;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * {@code once.rabbit.*}: the idempotent {@code @RabbitListener} container factory. Part of {@link
 * OnceProperties}.
 */
public class OnceRabbitProperties {
  /** Whether the starter registers the onceRabbitListenerContainerFactory. */
  private boolean enabled = true;

  /**
   * SpEL over the AMQP Message giving the message id instead of its message-id property, e.g.
   * "messageProperties.headers['event-id']".
   */
  private @Nullable String messageIdExpression;

  /** Scope of the message ids. Default: the queue the message was consumed from. */
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

  public @Nullable String getMessageIdExpression() {
    return messageIdExpression;
  }

  public void setMessageIdExpression(@Nullable String messageIdExpression) {
    this.messageIdExpression = messageIdExpression;
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
}
