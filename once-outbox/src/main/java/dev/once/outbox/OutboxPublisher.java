package dev.once.outbox;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Sends the relay's batches to one broker. The relay marks a message sent only when this says the
 * broker acknowledged it, so an implementation must not report a message as published before the
 * broker has taken responsibility for it (Kafka: {@code acks=all}; RabbitMQ: a publisher confirm).
 *
 * <p>Implementations stamp each message's {@link OutboxMessage#id() id} where Once's inbox for that
 * broker reads its message id, and send the messages of one key in list order.
 */
public interface OutboxPublisher extends AutoCloseable {

  /**
   * Publishes the messages, in list order, and returns once the broker has acknowledged or refused
   * every one of them.
   *
   * @param messages the batch, oldest first
   * @return the messages that were not acknowledged, by id, with the reason; every message of the
   *     batch that is not in the map was acknowledged. A refusal spends one of the message's
   *     attempts ({@link OutboxRelay.Builder#maxAttempts}). Throwing instead counts every message
   *     of the batch as not acknowledged and spends no attempt: the relay takes it for a broker
   *     outage, rolls the batch back and tries again after its outage backoff. So throw when the
   *     broker cannot be reached, and refuse only what the broker itself rejected.
   * @throws InterruptedException if the thread was interrupted while waiting for the broker
   */
  Map<UUID, Exception> publish(List<OutboxMessage> messages) throws InterruptedException;

  /** Releases the broker connection; the default does nothing. */
  @Override
  default void close() {}
}
