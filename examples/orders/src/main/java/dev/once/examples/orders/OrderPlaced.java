package dev.once.examples.orders;

/**
 * The event the orders service publishes through the outbox and the payments service consumes.
 *
 * @param orderId the order
 * @param customer who pays; also the event's ordering key
 * @param amountCents what to charge
 */
public record OrderPlaced(String orderId, String customer, long amountCents) {}
