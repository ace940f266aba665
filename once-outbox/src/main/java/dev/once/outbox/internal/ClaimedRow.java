package dev.once.outbox.internal;

import dev.once.outbox.OutboxMessage;

/**
 * A row a relay claimed.
 *
 * @param seq the row's place in the outbox's order
 * @param message the message as the publisher gets it
 * @param attempts the refusals before this claim
 */
public record ClaimedRow(long seq, OutboxMessage message, int attempts) {}
