package dev.once.examples.orders;

/**
 * One charge the payments service made.
 *
 * @param orderId the order charged
 * @param customer who paid
 * @param amountCents how much
 * @param messageId the id of the event that caused it (the outbox id)
 */
public record Charge(String orderId, String customer, long amountCents, String messageId) {}
