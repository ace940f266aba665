package dev.once.kafka;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with jitter, shared by the Kafka runners: the wait before retry {@code n} (1-based) is a
 * random time between half and all of {@code initial x 2^(n-1)}, capped at {@code max}.
 */
record Backoff(Duration initial, Duration max) {

  Backoff {
    if (initial == null || initial.isNegative()) {
      throw new IllegalArgumentException("initialBackoff must not be negative, but was " + initial);
    }
    if (max == null || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("maxBackoff must be at least initialBackoff (" + initial + "), but was "
          + max);
    }
  }

  /** The jittered wait before retry {@code attempt} (1-based), in nanoseconds. */
  long nanos(int attempt) {
    long base = initial.toNanos() << Math.min(Math.max(attempt, 1) - 1, 20);
    long capped = Math.min(base <= 0 ? Long.MAX_VALUE : base, max.toNanos());
    return capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
  }
}
