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
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * MariaDB 10.5+: a short {@code INSERT ... ON DUPLICATE KEY UPDATE id = id ... RETURNING} inserts
 * the new ids and returns every other row as it stands; only for rows it found dead does a second
 * upsert take them over. A duplicate is never an error.
 *
 * <p>No plain read is involved, so REPEATABLE READ (MariaDB's default) needs no care: its snapshot
 * would show a plain read an older version than the row just met, but both upserts lock each row
 * they meet, duplicates too, and work on and return its latest version, not the snapshot's.
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
    Map<ByteBuffer, Observed> rows = insertOrRead(c, sorted, nonces, offsetMs, mode, noWait);
    List<ClaimRequest> dead = new ArrayList<>();
    List<Long> deadNonces = new ArrayList<>();
    for (int i = 0; i < sorted.size(); i++) {
      ClaimRequest r = sorted.get(i);
      Observed found = rows.get(ByteBuffer.wrap(r.key().digest()));
      if (found != null && found.acquiredToken() == null && classify(r, found) == null) {
        dead.add(r);
        deadNonces.add(nonces.get(i));
      }
    }
    if (!dead.isEmpty()) {
      rows.putAll(takeOver(c, dead, deadNonces, offsetMs, mode, noWait));
    }
    return rows;
  }

  /**
   * Inserts the new ids and returns every other row as it stands: {@code ON DUPLICATE KEY UPDATE id
   * = id} changes nothing, but still locks the row and has {@code RETURNING} answer its latest
   * version. MariaDB's driver sends statements as text by default, so the server parses the whole
   * statement on every execution; this one is short, and the takeover's many {@code IF()}s are
   * parsed only when a record is found dead.
   */
  private Map<ByteBuffer, Observed> insertOrRead(
      Connection c,
      List<ClaimRequest> sorted,
      List<Long> nonces,
      long offsetMs,
      ClaimMode mode,
      boolean noWait)
      throws SQLException {
    return runUpsert(c, sorted, nonces, offsetMs, mode, noWait, "id = id", 0);
  }

  /**
   * Runs {@code INSERT ... ON DUPLICATE KEY UPDATE onDuplicate RETURNING} over the rows, in one
   * statement; {@code onDuplicate} reads the clock {@code clockReads} times (each binds the
   * offset).
   */
  private Map<ByteBuffer, Observed> runUpsert(
      Connection c,
      List<ClaimRequest> sorted,
      List<Long> nonces,
      long offsetMs,
      ClaimMode mode,
      boolean noWait,
      String onDuplicate,
      int clockReads)
      throws SQLException {
    String sql =
        (noWait ? "SET STATEMENT innodb_lock_wait_timeout = 0 FOR " : "")
            + "INSERT INTO "
            + table
            + " (id, status, fingerprint, token, nonce, lease_until, expires_at, outcome) VALUES "
            + String.join(", ", Collections.nCopies(sorted.size(), acquiredRow(mode)))
            + " ON DUPLICATE KEY UPDATE "
            + onDuplicate
            + " RETURNING "
            + claimedColumns();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int p = bindRows(ps, sorted, nonces, offsetMs, mode);
      for (int i = 0; i < clockReads; i++) {
        ps.setLong(p++, offsetMs);
      }
      // RETURNING's now(): UTC_TIMESTAMP is fixed for the statement, so it is the now the
      // statement decided by.
      ps.setLong(p, offsetMs);
      try (ResultSet rs = ps.executeQuery()) {
        return decode(rs, sorted, nonces, mode == ClaimMode.TRANSACTION_WAIT_COMPLETED);
      }
    }
  }

  /** An acquired record: in progress for its lease, or (an inbox's) completed for its retention. */
  private String acquiredRow(ClaimMode mode) {
    boolean completed = mode == ClaimMode.TRANSACTION_WAIT_COMPLETED;
    return "(?, "
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
  }

  /** Binds {@link #acquiredRow} for each request; answers the next parameter index. */
  private static int bindRows(
      PreparedStatement ps,
      List<ClaimRequest> sorted,
      List<Long> nonces,
      long offsetMs,
      ClaimMode mode)
      throws SQLException {
    boolean completed = mode == ClaimMode.TRANSACTION_WAIT_COMPLETED;
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
    return p;
  }

  /**
   * Takes over the records {@link #insertOrRead} found dead, deciding again on each row's latest
   * version (on an autocommit connection another claimer may have taken it in between), and returns
   * each row as the statement left it.
   */
  private Map<ByteBuffer, Observed> takeOver(
      Connection c,
      List<ClaimRequest> sorted,
      List<Long> nonces,
      long offsetMs,
      ClaimMode mode,
      boolean noWait)
      throws SQLException {
    String acquired = "nonce IN (VALUES(nonce), VALUES(nonce) + " + TAKEOVER_MARK + ")";
    // Assignments run left to right and later ones see earlier results, so the decision is taken
    // first, on the old values, and recorded in nonce (marked when it takes over a live record's
    // expired lease).
    String onDuplicate =
        "nonce = IF(expires_at <= "
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
            + ", VALUES(outcome), outcome)";
    // The decision reads the clock three times.
    return runUpsert(c, sorted, nonces, offsetMs, mode, noWait, onDuplicate, 3);
  }

  @Override
  protected String purgeSql() {
    return "DELETE FROM " + table + " WHERE " + purgeCondition() + " LIMIT ?";
  }
}
