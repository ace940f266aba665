package dev.once.jdbc.internal;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * SQLite: one {@code INSERT ... ON CONFLICT(id) DO UPDATE ... WHERE <dead> RETURNING} takes the
 * missing and dead records and names them; a read reports the rest. SQLite has no sequences, so the
 * fencing tokens come from a one-row counter table: the claim statement numbers its rows above the
 * counter's value and then raises the counter past them, in the same transaction. SQLite lets one
 * transaction write at a time (the claim statement's write lock covers the whole database until the
 * transaction ends), so no other claim can read the counter in between, and tokens rise strictly
 * across every acquisition. A standalone claim on an auto-commit connection runs in a transaction
 * of its own for that reason.
 *
 * <p>Waiting: the write lock is taken by the claim statement itself, waiting up to the connection's
 * {@code busy_timeout}. A claim that must not wait sets {@code busy_timeout} to zero around that
 * statement (as H2's lock timeout) and reports every key of the batch as held when the lock is
 * taken: the holder may be writing any key or none of them, SQLite cannot tell.
 */
final class SqliteOperations extends SqlOperations {

  SqliteOperations(String table) {
    super(table);
  }

  @Override
  protected String now() {
    // 'now' is fixed for the duration of one statement; 'subsec' gives milliseconds (SQLite 3.42).
    return "(CAST(unixepoch('subsec') * 1000 AS INTEGER) + ?)";
  }

  @Override
  protected String greatest(String a, String b) {
    return "MAX(" + a + ", " + b + ")";
  }

  @Override
  protected boolean readsHeldKeysBeforeWaiting() {
    return false;
  }

  @Override
  public void checkConnection(Connection c) throws SQLException {
    String journal = pragma(c, "journal_mode").toLowerCase(Locale.ROOT);
    if (!journal.equals("wal")) {
      throw new IllegalStateException(
          "the SQLite store needs journal_mode=WAL (this connection has journal_mode="
              + journal
              + "): set it in the URL (jdbc:sqlite:<file>?journal_mode=WAL&synchronous=FULL&busy_timeout=10000)"
              + " or in SQLiteConfig.setJournalMode; an in-memory database cannot use WAL");
    }
    long synchronous = Long.parseLong(pragma(c, "synchronous"));
    if (synchronous < 2) {
      throw new IllegalStateException(
          "the SQLite store needs synchronous=FULL or EXTRA (this connection has synchronous="
              + (synchronous == 0 ? "OFF" : "NORMAL")
              + ", which can lose committed records in a power loss or OS crash): set synchronous=FULL"
              + " in the URL or SQLiteConfig.setSynchronous");
    }
    long busyTimeout = Long.parseLong(pragma(c, "busy_timeout"));
    if (busyTimeout <= 0) {
      throw new IllegalStateException(
          "the SQLite store needs a busy_timeout above zero (this connection has "
              + busyTimeout
              + "): without it every claim that meets another writer fails at once instead of waiting"
              + " its turn; set busy_timeout=<ms> in the URL or SQLiteConfig.setBusyTimeout");
    }
  }

  private static String pragma(Connection c, String name) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA " + name)) {
      if (!rs.next()) {
        throw new SQLException("PRAGMA " + name + " returned nothing");
      }
      return rs.getString(1);
    }
  }

  @Override
  public List<ClaimResult> claim(
      Connection c, List<ClaimRequest> requests, long offsetMs, ClaimMode mode)
      throws SQLException {
    if (!c.getAutoCommit()) {
      return super.claim(c, requests, offsetMs, mode);
    }
    // Auto-commit would commit the claim statement before the counter is raised, and a claim in
    // between could hand out the same tokens: one transaction for the whole claim.
    c.setAutoCommit(false);
    try {
      List<ClaimResult> results = super.claim(c, requests, offsetMs, mode);
      c.commit();
      return results;
    } catch (SQLException | RuntimeException e) {
      try {
        c.rollback();
      } catch (SQLException r) {
        e.addSuppressed(r);
      }
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }

  @Override
  protected List<Observed> claimRound(
      Connection c, List<ClaimRequest> requests, long offsetMs, ClaimMode mode, boolean mayBlock)
      throws SQLException {
    Map<ByteBuffer, Observed> acquired;
    Long previousTimeout = mayBlock ? null : setBusyTimeout(c, 0);
    try {
      acquired = upsert(c, requests, offsetMs);
    } catch (SQLException e) {
      if (SqlErrors.isSqliteStaleSnapshot(e)) {
        // The caller's transaction read before this claim and another connection has committed
        // since: SQLite will never let it write. Only a new transaction can answer.
        throw new SQLException(
            "claim cannot write in this SQLite transaction: it read before the claim and another"
                + " connection has committed since (SQLITE_BUSY_SNAPSHOT); roll back and retry, and"
                + " begin such transactions IMMEDIATE (transaction_mode=IMMEDIATE) so they take the"
                + " write lock first",
            "40001",
            e);
      }
      if (!SqlErrors.isLockTimeout(e)) {
        throw e;
      }
      // The database's write lock is taken: by a writer of these keys or of anything else.
      return new ArrayList<>(Collections.nCopies(requests.size(), Observed.held()));
    } finally {
      if (previousTimeout != null) {
        setBusyTimeout(c, previousTimeout);
      }
    }
    if (!acquired.isEmpty()) {
      // Past every token the statement may have given; unused ones are skipped, which is allowed.
      try (PreparedStatement ps =
          c.prepareStatement("UPDATE " + sequence + " SET value = value + ? WHERE id = 1")) {
        ps.setLong(1, requests.size());
        if (ps.executeUpdate() != 1) {
          throw new SQLException(
              "the token counter "
                  + sequence
                  + " has no row; create the schema from "
                  + "db/once/sqlite/V1__once_records.sql");
        }
      }
    }
    List<ClaimRequest> rest = new ArrayList<>();
    for (ClaimRequest r : requests) {
      if (!acquired.containsKey(ByteBuffer.wrap(r.key().digest()))) {
        rest.add(r);
      }
    }
    Map<ByteBuffer, Observed> rows = rest.isEmpty() ? Map.of() : peek(c, rest, offsetMs);
    List<Observed> out = new ArrayList<>(requests.size());
    for (ClaimRequest r : requests) {
      ByteBuffer id = ByteBuffer.wrap(r.key().digest());
      Observed mine = acquired.get(id);
      out.add(mine != null ? mine : rows.get(id));
    }
    return out;
  }

  /** Inserts the missing records and takes over the dead ones; returns them acquired, by id. */
  private Map<ByteBuffer, Observed> upsert(Connection c, List<ClaimRequest> requests, long offsetMs)
      throws SQLException {
    // The row's nonce is the claim's "now", so the conflict clause can compare against it. SQLite's
    // RETURNING sees only the new row, so a takeover of a live record's expired lease, decided here
    // on the old row, is written as the negated nonce and returned from it: no other statement.
    String row =
        "(?, 'P', ?, (SELECT value FROM "
            + sequence
            + " WHERE id = 1) + ?, "
            + now()
            + ", "
            + now()
            + " + ?, "
            + now()
            + " + ?, NULL)";
    String sql =
        "INSERT INTO "
            + table
            + " (id, status, fingerprint, token, nonce, lease_until, expires_at, outcome) VALUES "
            + String.join(", ", Collections.nCopies(requests.size(), row))
            + " ON CONFLICT (id) DO UPDATE SET status = 'P', fingerprint = excluded.fingerprint,"
            + " token = excluded.token,"
            + " nonce = CASE WHEN status = 'P' AND expires_at > excluded.nonce THEN -excluded.nonce"
            + " ELSE excluded.nonce END, lease_until = excluded.lease_until,"
            + " expires_at = excluded.expires_at, outcome = NULL"
            + " WHERE expires_at <= excluded.nonce"
            + " OR (status = 'P' AND lease_until <= excluded.nonce AND fingerprint = excluded.fingerprint)"
            + " RETURNING id, token, nonce < 0";
    Map<ByteBuffer, Observed> acquired = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int p = 1;
      for (int i = 0; i < requests.size(); i++) {
        ClaimRequest r = requests.get(i);
        long lease = r.lease().toMillis();
        ps.setBytes(p++, r.key().digest());
        ps.setBytes(p++, r.fingerprint().digest());
        ps.setLong(p++, i + 1L);
        ps.setLong(p++, offsetMs);
        ps.setLong(p++, offsetMs);
        ps.setLong(p++, lease);
        ps.setLong(p++, offsetMs);
        ps.setLong(p++, Math.max(lease, r.retention().toMillis()));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          acquired.put(
              ByteBuffer.wrap(rs.getBytes(1)), Observed.acquired(rs.getLong(2), rs.getBoolean(3)));
        }
      }
    }
    return acquired;
  }

  private static long setBusyTimeout(Connection c, long millis) throws SQLException {
    long previous = Long.parseLong(pragma(c, "busy_timeout"));
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA busy_timeout = " + millis);
    }
    return previous;
  }

  @Override
  protected String purgeSql() {
    // SQLite's DELETE has no LIMIT unless compiled with it.
    return "DELETE FROM "
        + table
        + " WHERE id IN (SELECT id FROM "
        + table
        + " WHERE "
        + purgeCondition()
        + " LIMIT ?)";
  }
}
