package dev.once.jdbc.internal;

import java.sql.ResultSet;
import java.sql.SQLException;
import org.jspecify.annotations.Nullable;

/**
 * What one claim statement learned about one key: either it acquired the record (and whether by
 * taking over another claim's expired lease on a record still in progress), or the record's state
 * as the statement saw it, or that another open transaction holds it.
 */
record Observed(
    @Nullable Long acquiredToken,
    boolean takeover,
    @Nullable String status,
    byte @Nullable [] fingerprint,
    long leaseUntil,
    long expiresAt,
    byte @Nullable [] outcome,
    long now,
    boolean heldByOtherTransaction) {

  static Observed acquired(long token, boolean takeover) {
    return new Observed(token, takeover, null, null, 0, 0, null, 0, false);
  }

  static Observed held() {
    return new Observed(null, false, null, null, 0, 0, null, 0, true);
  }

  /** The record as a statement read it, not acquired. */
  static Observed row(
      @Nullable String status,
      byte @Nullable [] fingerprint,
      long leaseUntil,
      long expiresAt,
      byte @Nullable [] outcome,
      long now) {
    return new Observed(
        null, false, status, fingerprint, leaseUntil, expiresAt, outcome, now, false);
  }

  /**
   * The record as a statement read it, from six result columns in a row starting at {@code first}:
   * status, fingerprint, lease_until, expires_at, outcome, and the statement's now.
   */
  static Observed row(ResultSet rs, int first) throws SQLException {
    return row(
        rs.getString(first),
        rs.getBytes(first + 1),
        rs.getLong(first + 2),
        rs.getLong(first + 3),
        rs.getBytes(first + 4),
        rs.getLong(first + 5));
  }

  /** The row vanished between statements (released or purged): claim again. */
  static @Nullable Observed missing() {
    return null;
  }
}
