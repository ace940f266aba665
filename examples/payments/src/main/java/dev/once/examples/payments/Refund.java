package dev.once.examples.payments;

import java.time.Instant;

/** A refund of part or all of a captured payment. */
public record Refund(String id, String paymentId, long amountCents, Instant createdAt) {}
