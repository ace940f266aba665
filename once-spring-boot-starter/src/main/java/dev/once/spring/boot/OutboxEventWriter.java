package dev.once.spring.boot;

import org.springframework.context.event.EventListener;

/**
 * Writes each {@link OutboxEvent} published in the application through the transactional outbox. An
 * ordinary, synchronous listener: it runs in the publisher's thread and transaction.
 */
final class OutboxEventWriter {

  private final TransactionalOutbox outbox;

  OutboxEventWriter(TransactionalOutbox outbox) {
    this.outbox = outbox;
  }

  @EventListener
  void write(OutboxEvent event) {
    outbox.enqueue(event.toOutboxEntry());
  }
}
