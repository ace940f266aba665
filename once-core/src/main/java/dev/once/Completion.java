package dev.once;

import java.time.Duration;
import java.util.Objects;

/**
 * One record to complete in {@link IdempotencyStore#completeAll}: what {@link
 * IdempotencyStore#complete} takes, as a value.
 *
 * <pre>{@code
 * store.completeAll(List.of(new Completion(key, acquired.token(), Outcome.empty(), Duration.ofDays(7))));
 * }</pre>
 *
 * @param key the claimed key
 * @param token the fencing token its claim returned
 * @param outcome what a replay answers
 * @param retention how long the completed record is kept, from now
 */
public record Completion(IdempotencyKey key, long token, Outcome outcome, Duration retention) {

  /**
   * Checks that nothing is null and the retention is positive.
   *
   * @param key the claimed key
   * @param token the fencing token its claim returned
   * @param outcome what a replay answers
   * @param retention how long the completed record is kept, from now; positive
   * @throws NullPointerException if {@code key}, {@code outcome} or {@code retention} is {@code
   *     null}
   * @throws IllegalArgumentException if {@code retention} is zero or negative
   */
  public Completion {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(retention, "retention");
    if (retention.isNegative() || retention.isZero()) {
      throw new IllegalArgumentException("retention must be positive, but was " + retention);
    }
  }
}
