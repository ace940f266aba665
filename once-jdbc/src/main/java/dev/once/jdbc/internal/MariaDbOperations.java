package dev.once.jdbc.internal;

import dev.once.ClaimRequest;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * MariaDB and MySQL: {@code INSERT ... ON DUPLICATE KEY UPDATE} takes over only dead records (a duplicate
 * is never an error), then a locking read reports each row. A random nonce written on acquisition tells the
 * claimer whether it won. The read locks ({@code FOR UPDATE}) because under REPEATABLE READ, MariaDB's and
 * MySQL's default, a plain read would show the transaction's old snapshot instead of the row just met.
 */
final class MariaDbOperations extends SqlOperations {

  MariaDbOperations(String table) {
    super(table);
  }

  @Override
  protected String now() {
    // UTC_TIMESTAMP is fixed for the statement and independent of the session time zone.
    return "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000 + ?)";
  }

  @Override
  protected List<Observed> claimRound(Connection c, List<ClaimRequest> requests, long offsetMs, ClaimMode mode)
      throws SQLException {
    List<Integer> order = idOrder(requests);
    List<ClaimRequest> sorted = new ArrayList<>(requests.size());
    List<Long> nonces = new ArrayList<>(requests.size());
    for (int i : order) {
      sorted.add(requests.get(i));
      nonces.add(ThreadLocalRandom.current().nextLong());
    }
    try {
      upsert(c, sorted, nonces, offsetMs, mode == ClaimMode.TRANSACTION_FAIL_FAST);
    } catch (SQLException e) {
      if (!SqlErrors.isLockTimeout(e)) {
        throw e;
      }
      // Only this statement was rolled back. Find which keys another transaction holds, one by one.
      if (requests.size() == 1) {
        return Collections.singletonList(Observed.held());
      }
      List<Observed> out = new ArrayList<>(requests.size());
      for (ClaimRequest r : requests) {
        out.add(claimRound(c, List.of(r), offsetMs, mode).get(0));
      }
      return out;
    }
    Map<ByteBuffer, Observed> rows = readRows(c, sorted, offsetMs, mode.inCallerTransaction(), nonces);
    return inRequestOrder(requests, rows);
  }

  private void upsert(Connection c, List<ClaimRequest> sorted, List<Long> nonces, long offsetMs, boolean failFast)
      throws SQLException {
    String row = "(?, 'P', ?, NEXTVAL(" + sequence + "), ?, " + now() + " + ?, " + now() + " + ?, NULL)";
    String acquired = "nonce = VALUES(nonce)";
    String sql = (failFast ? "SET STATEMENT innodb_lock_wait_timeout = 0 FOR " : "")
        + "INSERT INTO " + table + " (id, status, fingerprint, token, nonce, lease_until, expires_at, outcome) VALUES "
        + String.join(", ", Collections.nCopies(sorted.size(), row))
        + " ON DUPLICATE KEY UPDATE"
        // Assignments run left to right and later ones see earlier results, so the decision is taken first,
        // on the old values, and recorded in nonce.
        + " nonce = IF(expires_at <= " + now() + " OR (status = 'P' AND lease_until <= " + now()
        + " AND fingerprint = VALUES(fingerprint)), VALUES(nonce), nonce),"
        + " token = IF(" + acquired + ", VALUES(token), token),"
        + " status = IF(" + acquired + ", 'P', status),"
        + " fingerprint = IF(" + acquired + ", VALUES(fingerprint), fingerprint),"
        + " lease_until = IF(" + acquired + ", VALUES(lease_until), lease_until),"
        + " expires_at = IF(" + acquired + ", VALUES(expires_at), expires_at),"
        + " outcome = IF(" + acquired + ", NULL, outcome)";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int p = 1;
      for (int i = 0; i < sorted.size(); i++) {
        ClaimRequest r = sorted.get(i);
        long lease = r.lease().toMillis();
        ps.setBytes(p++, r.key().digest());
        ps.setBytes(p++, r.fingerprint().digest());
        ps.setLong(p++, nonces.get(i));
        ps.setLong(p++, offsetMs);
        ps.setLong(p++, lease);
        ps.setLong(p++, offsetMs);
        ps.setLong(p++, Math.max(lease, r.retention().toMillis()));
      }
      ps.setLong(p++, offsetMs);
      ps.setLong(p, offsetMs);
      ps.executeUpdate();
    }
  }

  @Override
  protected String purgeSql() {
    return "DELETE FROM " + table + " WHERE " + purgeCondition() + " LIMIT ?";
  }
}
