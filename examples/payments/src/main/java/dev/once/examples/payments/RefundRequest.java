package dev.once.examples.payments;

/** The body of {@code POST /payments/{id}/refunds}. */
public record RefundRequest(Long amountCents) {}
