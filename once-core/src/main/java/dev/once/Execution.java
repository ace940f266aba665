package dev.once;

/**
 * What {@link Once#execute} returns.
 *
 * @param value the action's result, fresh or decoded from the stored outcome
 * @param replayed {@code true} when the action did not run because an earlier execution completed
 */
public record Execution<T>(T value, boolean replayed) {}
