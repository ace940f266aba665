/**
 * The run-once API and the store SPI: idempotency keys and their scopes, request fingerprints,
 * {@link dev.once.Once} that runs an action at most once per key, and the {@link
 * dev.once.IdempotencyStore} contract every store implements. Nothing is null unless marked
 * {@code @Nullable}.
 */
@NullMarked
package dev.once;

import org.jspecify.annotations.NullMarked;
