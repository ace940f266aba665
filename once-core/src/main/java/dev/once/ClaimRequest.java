package dev.once;

import java.time.Duration;
import java.util.Objects;

/**
 * What a caller asks of {@link IdempotencyStore#claim(ClaimRequest)}.
 *
 * @param key the key in its scope
 * @param fingerprint the request's fingerprint, stored with the record
 * @param lease how long the claim protects an execution before another worker may take it over;
 *     positive
 * @param retention how long the record is kept from now if it is never completed (a completed
 *     record is kept for the retention given to {@link IdempotencyStore#complete}); positive
 */
public record ClaimRequest(
    IdempotencyKey key, Fingerprint fingerprint, Duration lease, Duration retention) {

  /**
   * Checks that no part is {@code null} and that {@code lease} and {@code retention} are positive.
   *
   * @param key the key in its scope
   * @param fingerprint the request's fingerprint
   * @param lease how long the claim protects an execution; at least 1 ms
   * @param retention how long an uncompleted record is kept; at least 1 ms
   * @throws NullPointerException if a part is {@code null}
   * @throws IllegalArgumentException if {@code lease} or {@code retention} is shorter than 1 ms
   */
  public ClaimRequest {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(fingerprint, "fingerprint");
    requirePositive("lease", lease);
    requirePositive("retention", retention);
  }

  static void requirePositive(String name, Duration value) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.isZero() || value.toMillis() < 1) {
      throw new IllegalArgumentException(name + " must be at least 1 ms, but was " + value);
    }
  }
}
