package dev.once.spring.boot;

import org.jspecify.annotations.Nullable;
import org.springframework.amqp.core.Message;

/**
 * The message id of an AMQP message for {@link OnceRabbitListenerAdvice}: the key under which
 * "already applied" is remembered. Declare one bean to replace the default (the AMQP {@code
 * message-id} property, or the SpEL {@code once.rabbit.message-id-expression} evaluated on the
 * {@link Message}).
 *
 * <pre>{@code
 * @Bean
 * RabbitMessageIdResolver orderEventIds() {
 *   return message -> (String) message.getMessageProperties().getHeaders().get("event-id");
 * }
 * }</pre>
 *
 * <p>It must be deterministic: a redelivery must get the same id. Thread-safe: called from every
 * consumer thread.
 */
@FunctionalInterface
public interface RabbitMessageIdResolver {

  /**
   * The message's id.
   *
   * @param message the raw AMQP message, before payload conversion
   * @return the id, or {@code null} (or blank) if it has none; such a message is rejected without
   *     requeue
   */
  @Nullable String messageId(Message message);
}
