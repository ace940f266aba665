package dev.once.examples.payments;

/** The body of {@code POST /payments}. */
public record ChargeRequest(String customerId, Long amountCents, String currency) {}
