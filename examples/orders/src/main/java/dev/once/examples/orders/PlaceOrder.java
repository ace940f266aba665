package dev.once.examples.orders;

/**
 * The body of {@code POST /orders}.
 *
 * @param customer who pays
 * @param amountCents the total, positive
 */
public record PlaceOrder(String customer, long amountCents) {}
