package dev.once.jdbc.internal;

import dev.once.ClaimRequest;
import dev.once.Outcome;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * MariaDB 10.5+: one {@code INSERT ... ON DUPLICATE KEY UPDATE ... RETURNING} takes over only dead
 * records (a duplicate is never an error) and returns every row as the statement left it, taken or
 * not.
 *
 * <p>No read follows, so REPEATABLE READ (MariaDB's default) needs no care: its snapshot would show
 * a plain read an older version than the row just met, but the upsert locks each row it meets,
 * duplicates too, and works on and returns its latest version, not the snapshot's.
 */
final class MariaDbOperations extends NonceClaimOperations {

  private static final String EMPTY_OUTCOME =
      "X'" + HexFormat.of().formatHex(Outcome.empty().toBytes()) + "'";

  /**
   * Major and minor of a server version, after the "5.5.5-" prefix MariaDB sends older clients
   * (MySQL's driver reports it as is).
   */
  private static final Pattern VERSION = Pattern.compile("(?:5\\.5\\.5-)?(\\d+)\\.(\\d+)");

  MariaDbOperations(String table) {
    super(table);
  }

  @Override
  public void checkConnection(Connection c) throws SQLException {
    checkVersion(c.getMetaData().getDatabaseProductVersion());
  }

  /**
   * Refuses a server older than MariaDB 10.5, whose INSERT takes no {@code RETURNING}: there every
   * claim would fail. A version this cannot read passes; the first claim then tells.
   */
  static void checkVersion(String serverVersion) {
    Matcher m = VERSION.matcher(serverVersion);
    if (!m.lookingAt()) {
      return;
    }
    int major = Integer.parseInt(m.group(1));
    int minor = Integer.parseInt(m.group(2));
    if (major < 10 || (major == 10 && minor < 5)) {
      throw new IllegalStateException(
          "the MariaDB store needs MariaDB 10.5 or later (this server is "
              + serverVersion
              + "): its claim is one INSERT ... ON DUPLICATE KEY UPDATE ... RETURNING, and MariaDB"
              + " takes RETURNING on INSERT only since 10.5");
    }
  }

  @Override
  public boolean claimsCompleted() {
    return true;
  }

  @Override
  protected String now() {
    // UTC_TIMESTAMP is fixed for the statement and independent of the session time zone.
    return "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000 + ?)";
  }

  @Override
  protected Map<ByteBuffer, Observed> upsert(
      Connection c,
      List<ClaimRequest> sorted,
      List<Long> nonces,
      long offsetMs,
      ClaimMode mode,
      boolean noWait)
      throws SQLException {
    if (sorted.size() == 1 && mode == ClaimMode.STANDALONE && c.getAutoCommit()) {
      return insertFirst(c, sorted, nonces, offsetMs);
    }
    return fullUpsert(c, sorted, nonces, offsetMs, mode, noWait);
  }

  /**
   * A single claim on its own autocommit connection: a short {@code INSERT IGNORE ... RETURNING}
   * for a new id, a read of the record it met, and the full upsert only for a dead one. (A batch
   * pays the upsert's parsing once for all its ids; measured, splitting it gained nothing.)
   * MariaDB's driver sends statements as text by default, so the server parses the whole statement
   * on every execution: the full upsert's many {@code IF()}s cost more than the insert itself (run
   * with server-prepared statements, the same claim took markedly less server CPU). Each statement
   * commits on its own, so no lock is held from one to the next; in a caller's transaction the
   * shared lock {@code INSERT IGNORE} takes on a duplicate would have to be upgraded by a takeover,
   * which deadlocks against another claimer doing the same, so there the full upsert runs alone.
   */
  private Map<ByteBuffer, Observed> insertFirst(
      Connection c, List<ClaimRequest> sorted, List<Long> nonces, long offsetMs)
      throws SQLException {
    String row =
        "(?, 'P', ?, NEXTVAL(" + sequence + "), ?, " + now() + " + ?, " + now() + " + ?, NULL)";
    String sql =
        "INSERT IGNORE INTO "
            + table
            + " (id, status, fingerprint, token, nonce, lease_until, expires_at, outcome) VALUES "
            + String.join(", ", Collections.nCopies(sorted.size(), row))
            + " RETURNING id, token";
    Map<ByteBuffer, Observed> rows = new HashMap<>();
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
      // RETURNING gives the rows inserted, never a duplicate's: each is ours, new, no takeover.
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.put(ByteBuffer.wrap(rs.getBytes(1)), Observed.acquired(rs.getLong(2), false));
        }
      }
    }
    if (rows.size() == sorted.size()) {
      return rows;
    }
    List<ClaimRequest> met = new ArrayList<>();
    List<Long> metNonces = new ArrayList<>();
    for (int i = 0; i < sorted.size(); i++) {
      if (!rows.containsKey(ByteBuffer.wrap(sorted.get(i).key().digest()))) {
        met.add(sorted.get(i));
        metNonces.add(nonces.get(i));
      }
    }
    List<ClaimRequest> dead = new ArrayList<>();
    List<Long> deadNonces = new ArrayList<>();
    Map<ByteBuffer, Observed> seen = peek(c, met, offsetMs);
    for (int i = 0; i < met.size(); i++) {
      ByteBuffer id = ByteBuffer.wrap(met.get(i).key().digest());
      Observed found = seen.get(id);
      if (found != null && classify(met.get(i), found) == null) {
        dead.add(met.get(i));
        deadNonces.add(metNonces.get(i));
      } else if (found != null) {
        rows.put(id, found);
      } // else gone since the insert met it (released, purged): absent, so claimed again
    }
    if (!dead.isEmpty()) {
      rows.putAll(fullUpsert(c, dead, deadNonces, offsetMs, ClaimMode.STANDALONE, false));
    }
    return rows;
  }

  private Map<ByteBuffer, Observed> fullUpsert(
      Connection c,
      List<ClaimRequest> sorted,
      List<Long> nonces,
      long offsetMs,
      ClaimMode mode,
      boolean noWait)
      throws SQLException {
    boolean completed = mode == ClaimMode.TRANSACTION_WAIT_COMPLETED;
    // An acquired record: in progress for its lease, or (an inbox's) completed for its retention.
    String row =
        "(?, "
            + (completed ? "'C'" : "'P'")
            + ", ?, NEXTVAL("
            + sequence
            + "), ?, "
            + now()
            + " + ?, "
            + now()
            + " + ?, "
            + (completed ? EMPTY_OUTCOME : "NULL")
            + ")";
    String acquired = "nonce IN (VALUES(nonce), VALUES(nonce) + " + TAKEOVER_MARK + ")";
    String sql =
        (noWait ? "SET STATEMENT innodb_lock_wait_timeout = 0 FOR " : "")
            + "INSERT INTO "
            + table
            + " (id, status, fingerprint, token, nonce, lease_until, expires_at, outcome) VALUES "
            + String.join(", ", Collections.nCopies(sorted.size(), row))
            + " ON DUPLICATE KEY UPDATE"
            // Assignments run left to right and later ones see earlier results, so the decision is
            // taken first, on the old values, and recorded in nonce (marked when it takes over a
            // live record's expired lease).
            + " nonce = IF(expires_at <= "
            + now()
            + " OR (status = 'P' AND lease_until <= "
            + now()
            + " AND fingerprint = VALUES(fingerprint)), VALUES(nonce) + IF(status = 'P' AND expires_at > "
            + now()
            + ", "
            + TAKEOVER_MARK
            + ", 0), nonce),"
            + " token = IF("
            + acquired
            + ", VALUES(token), token),"
            + " status = IF("
            + acquired
            + ", VALUES(status), status),"
            + " fingerprint = IF("
            + acquired
            + ", VALUES(fingerprint), fingerprint),"
            + " lease_until = IF("
            + acquired
            + ", VALUES(lease_until), lease_until),"
            + " expires_at = IF("
            + acquired
            + ", VALUES(expires_at), expires_at),"
            + " outcome = IF("
            + acquired
            + ", VALUES(outcome), outcome)"
            + " RETURNING "
            + claimedColumns();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int p = 1;
      for (int i = 0; i < sorted.size(); i++) {
        ClaimRequest r = sorted.get(i);
        long lease = r.lease().toMillis();
        long retention = r.retention().toMillis();
        ps.setBytes(p++, r.key().digest());
        ps.setBytes(p++, r.fingerprint().digest());
        ps.setLong(p++, nonces.get(i));
        ps.setLong(p++, offsetMs);
        ps.setLong(p++, completed ? 0 : lease);
        ps.setLong(p++, offsetMs);
        ps.setLong(p++, completed ? retention : Math.max(lease, retention));
      }
      ps.setLong(p++, offsetMs);
      ps.setLong(p++, offsetMs);
      ps.setLong(p++, offsetMs);
      // RETURNING's now(): UTC_TIMESTAMP is fixed for the statement, so it is the now the
      // statement decided by.
      ps.setLong(p, offsetMs);
      try (ResultSet rs = ps.executeQuery()) {
        return decode(rs, sorted, nonces, completed);
      }
    }
  }

  @Override
  protected String purgeSql() {
    return "DELETE FROM " + table + " WHERE " + purgeCondition() + " LIMIT ?";
  }
}
