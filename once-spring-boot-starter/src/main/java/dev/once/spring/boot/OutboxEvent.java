package dev.once.spring.boot;

import dev.once.outbox.OutboxEntry;

/**
 * An application event that is also an outbox message. Publish it with Spring's {@code
 * ApplicationEventPublisher} inside a transaction, and the starter writes it through {@link
 * TransactionalOutbox} in that transaction, on the publishing thread, before {@code publishEvent}
 * returns:
 *
 * <pre>{@code
 * record OrderPlaced(String orderId, String customer) implements OutboxEvent {
 *   public OutboxEntry toOutboxEntry() {
 *     return new OutboxEntry("orders", customer, json(this), Map.of());
 *   }
 * }
 *
 * @Transactional
 * public void place(Order order) {
 *   jdbc.update(...);
 *   events.publishEvent(new OrderPlaced(order.id(), order.customer()));
 * }
 * }</pre>
 *
 * <p>The rules are {@link TransactionalOutbox}'s: without a transaction {@code publishEvent} throws
 * {@link IllegalStateException} and nothing is written; a failure to write rolls the transaction
 * back. Other listeners of the event are called as usual.
 */
public interface OutboxEvent {

  /** {@return the message to write: destination, ordering key, payload and headers} */
  OutboxEntry toOutboxEntry();
}
