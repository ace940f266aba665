package dev.once.examples.payments;

import java.time.Instant;

/** A charge as the API shows it. {@code status} is {@code captured} or {@code declined}. */
public record Payment(
    String id,
    String customerId,
    long amountCents,
    String currency,
    String status,
    long refundedCents,
    Instant createdAt) {}
