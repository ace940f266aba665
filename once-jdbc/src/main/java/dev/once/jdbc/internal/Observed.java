package dev.once.jdbc.internal;

import org.jspecify.annotations.Nullable;

/**
 * What one claim statement learned about one key: either it acquired the record, or the record's
 * state as the statement saw it, or that another open transaction holds it.
 */
record Observed(
    @Nullable Long acquiredToken,
    @Nullable String status,
    byte @Nullable [] fingerprint,
    long leaseUntil,
    long expiresAt,
    byte @Nullable [] outcome,
    long now,
    boolean heldByOtherTransaction) {

  static Observed acquired(long token) {
    return new Observed(token, null, null, 0, 0, null, 0, false);
  }

  static Observed held() {
    return new Observed(null, null, null, 0, 0, null, 0, true);
  }

  /** The row vanished between statements (released or purged): claim again. */
  static @Nullable Observed missing() {
    return null;
  }
}
