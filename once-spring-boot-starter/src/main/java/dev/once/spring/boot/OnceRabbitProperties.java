package dev.once.spring.boot;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * {@code once.rabbit.*}: the idempotent {@code @RabbitListener} container factory. Part of {@link
 * OnceProperties}.
 */
public class OnceRabbitProperties {
  /**
   * Whether the starter registers the onceRabbitListenerContainerFactory and the
   * onceDirectRabbitListenerContainerFactory.
   */
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

  /**
   * {@return the {@code once.rabbit.enabled} property} Whether the starter registers the
   * onceRabbitListenerContainerFactory and the onceDirectRabbitListenerContainerFactory. Default
   * {@code true}.
   */
  public boolean isEnabled() {
    return enabled;
  }

  /**
   * Sets the {@code once.rabbit.enabled} property; see {@link #isEnabled()}.
   *
   * @param enabled the new value
   */
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /**
   * {@return the {@code once.rabbit.message-id-expression} property} SpEL over the AMQP Message
   * giving the message id instead of its message-id property, e.g.
   * "messageProperties.headers['event-id']". Default: none.
   */
  public @Nullable String getMessageIdExpression() {
    return messageIdExpression;
  }

  /**
   * Sets the {@code once.rabbit.message-id-expression} property; see {@link
   * #getMessageIdExpression()}.
   *
   * @param messageIdExpression the new value
   */
  public void setMessageIdExpression(@Nullable String messageIdExpression) {
    this.messageIdExpression = messageIdExpression;
  }

  /**
   * {@return the {@code once.rabbit.consumer} property} Scope of the message ids. Default: the
   * queue the message was consumed from.
   */
  public @Nullable String getConsumer() {
    return consumer;
  }

  /**
   * Sets the {@code once.rabbit.consumer} property; see {@link #getConsumer()}.
   *
   * @param consumer the new value
   */
  public void setConsumer(@Nullable String consumer) {
    this.consumer = consumer;
  }

  /**
   * {@return the {@code once.rabbit.retention} property} How long an applied message id is
   * remembered; longer than any redelivery or replay you expect. Default {@code 7d}.
   */
  public Duration getRetention() {
    return retention;
  }

  /**
   * Sets the {@code once.rabbit.retention} property; see {@link #getRetention()}.
   *
   * @param retention the new value
   */
  public void setRetention(Duration retention) {
    this.retention = retention;
  }
}
