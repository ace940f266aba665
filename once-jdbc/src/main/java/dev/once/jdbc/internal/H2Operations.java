package dev.once.jdbc.internal;

import dev.once.ClaimRequest;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * H2: a {@code MERGE ... WHEN MATCHED AND <dead> THEN UPDATE WHEN NOT MATCHED THEN INSERT} (which
 * returns no rows) then a read. H2 rolls back only the failing statement, so a unique violation
 * from two racing MERGEs is simply retried.
 */
final class H2Operations extends NonceClaimOperations {

  H2Operations(String table) {
    super(table);
  }

  @Override
  protected String now() {
    return "(CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS BIGINT) + CAST(? AS BIGINT))";
  }

  @Override
  protected @Nullable Map<ByteBuffer, Observed> upsert(
      Connection c,
      List<ClaimRequest> sorted,
      List<Long> nonces,
      long offsetMs,
      ClaimMode mode,
      boolean noWait)
      throws SQLException {
    // H2 has no per-statement lock timeout: set the session's to zero around a MERGE that must not
    // wait.
    String previousTimeout = noWait ? setLockTimeout(c, "0") : null;
    try {
      merge(c, sorted, nonces, offsetMs);
    } finally {
      if (previousTimeout != null) {
        setLockTimeout(c, previousTimeout);
      }
    }
    return null;
  }

  private static String setLockTimeout(Connection c, String millis) throws SQLException {
    String previous;
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'LOCK_TIMEOUT'")) {
      previous = rs.next() ? rs.getString(1) : "10000";
    }
    try (Statement s = c.createStatement()) {
      s.execute("SET LOCK_TIMEOUT " + Integer.parseInt(millis));
    }
    return previous;
  }

  private void merge(Connection c, List<ClaimRequest> sorted, List<Long> nonces, long offsetMs)
      throws SQLException {
    String row =
        "(CAST(? AS BINARY(32)), CAST(? AS BINARY(32)), CAST(? AS BIGINT), CAST(? AS BIGINT),"
            + " CAST(? AS BIGINT), "
            + now()
            + ")";
    String sql =
        "MERGE INTO "
            + table
            + " r USING (VALUES "
            + String.join(", ", Collections.nCopies(sorted.size(), row))
            + ") AS s(id, fp, nonce, lease, retention, now_ms) ON r.id = s.id"
            + " WHEN MATCHED AND (r.expires_at <= s.now_ms OR (r.status = 'P' AND r.lease_until <= s.now_ms"
            + " AND r.fingerprint = s.fp)) THEN UPDATE SET status = 'P', fingerprint = s.fp,"
            + " token = NEXT VALUE FOR "
            + sequence
            + ", nonce = s.nonce + CASE WHEN r.status = 'P' AND r.expires_at > s.now_ms THEN "
            + TAKEOVER_MARK
            + " ELSE 0 END, lease_until = s.now_ms + s.lease,"
            + " expires_at = s.now_ms + GREATEST(s.lease, s.retention), outcome = NULL"
            + " WHEN NOT MATCHED THEN INSERT (id, status, fingerprint, token, nonce, lease_until, expires_at, outcome)"
            + " VALUES (s.id, 'P', s.fp, NEXT VALUE FOR "
            + sequence
            + ", s.nonce, s.now_ms + s.lease,"
            + " s.now_ms + GREATEST(s.lease, s.retention), NULL)";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int p = 1;
      for (int i = 0; i < sorted.size(); i++) {
        ClaimRequest r = sorted.get(i);
        ps.setBytes(p++, r.key().digest());
        ps.setBytes(p++, r.fingerprint().digest());
        ps.setLong(p++, nonces.get(i));
        ps.setLong(p++, r.lease().toMillis());
        ps.setLong(p++, r.retention().toMillis());
        ps.setLong(p++, offsetMs);
      }
      ps.executeUpdate();
    }
  }

  @Override
  protected String purgeSql() {
    return "DELETE FROM " + table + " WHERE " + purgeCondition() + " FETCH FIRST ? ROWS ONLY";
  }
}
