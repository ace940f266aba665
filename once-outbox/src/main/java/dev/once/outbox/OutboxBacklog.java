package dev.once.outbox;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * What waits in an outbox table, read by {@link OutboxRelay#backlog()}: what operators watch (a
 * growing backlog or an old pending message means the relay is down or behind; parked messages wait
 * for {@link OutboxRelay#retryParked}).
 *
 * @param pending rows waiting to be published, due or backing off
 * @param parked rows parked after {@code maxAttempts} refusals
 * @param oldestPending when the oldest pending row was written, by its writer's clock; null if none
 */
public record OutboxBacklog(long pending, long parked, @Nullable Instant oldestPending) {}
