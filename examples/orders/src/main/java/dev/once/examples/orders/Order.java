package dev.once.examples.orders;

import java.util.UUID;

/**
 * A placed order, as {@code POST /orders} answers it.
 *
 * @param id the order's id
 * @param customer who pays
 * @param amountCents the total
 * @param eventId the outbox id of its {@code OrderPlaced} event: the message id the payments
 *     service dedupes on
 */
public record Order(String id, String customer, long amountCents, UUID eventId) {}
