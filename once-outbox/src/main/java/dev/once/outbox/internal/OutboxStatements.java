package dev.once.outbox.internal;

import dev.once.jdbc.SqlDialect;
import dev.once.outbox.OutboxBacklog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * The outbox's statements in one dialect. The shared text is here; each dialect supplies how ids
 * are stored, how a claim locks, and what differs in its grammar.
 */
public interface OutboxStatements {

  /** State of a row waiting to be published. */
  String PENDING = "P";

  /** State of a row the broker acknowledged. */
  String SENT = "S";

  /** State of a row that failed {@code maxAttempts} times and waits for {@code retryParked}. */
  String PARKED = "X";

  /**
   * {@return the statements of {@code dialect} on {@code table}}
   *
   * @param dialect the database
   * @param table the outbox table, a checked identifier
   */
  static OutboxStatements of(SqlDialect dialect, String table) {
    return switch (dialect) {
      case POSTGRESQL -> new PostgresStatements(table);
      case MARIADB -> new MariaDbStatements(table);
      case H2 -> new H2Statements(table);
      case SQLITE -> new SqliteStatements(table);
    };
  }

  /** {@return the table, as configured} */
  String table();

  /**
   * Binds an id as this dialect stores it.
   *
   * @param statement the statement
   * @param index the parameter's index
   * @param id the id
   * @throws SQLException as the driver throws it
   */
  default void bindId(PreparedStatement statement, int index, UUID id) throws SQLException {
    statement.setObject(index, id);
  }

  /**
   * Reads an id as this dialect stores it.
   *
   * @param row the result set on its row
   * @param column the column
   * @return the id
   * @throws SQLException as the driver throws it
   */
  default UUID readId(ResultSet row, String column) throws SQLException {
    UUID id = row.getObject(column, UUID.class);
    if (id == null) {
      throw new SQLException("outbox row without an id in " + table());
    }
    return id;
  }

  /**
   * Run first in a claim's transaction; where the claim's {@code SELECT} cannot lock rows (SQLite),
   * it takes the database's write lock instead.
   *
   * @param connection the relay's connection, in a transaction
   * @throws SQLException as the driver throws it
   */
  default void beginClaim(Connection connection) throws SQLException {}

  /**
   * {@return whether {@link #beginClaim} puts the relay's transaction in {@code READ COMMITTED}
   * itself; otherwise the relay sets the session's isolation around the transaction and restores
   * it}
   */
  default boolean claimSetsIsolation() {
    return false;
  }

  /**
   * {@return what follows the claim's {@code SELECT} to lock its rows and pass over locked ones}
   */
  default String lockClause() {
    return " FOR UPDATE SKIP LOCKED";
  }

  /** {@return the insert of one message: id, destination, key, payload, headers, created_at} */
  default String insert() {
    return "INSERT INTO "
        + table()
        + " (id, destination, msg_key, payload, headers, created_at) VALUES (?, ?, ?, ?, ?, ?)";
  }

  /**
   * {@return the claim: pending rows due at the first parameter, not behind an earlier pending row
   * of their key that is not due at the second parameter, oldest first, at most the third parameter
   * of them, locked}
   */
  default String claim() {
    String t = table();
    return "SELECT o.seq, o.id, o.destination, o.msg_key, o.payload, o.headers, o.attempts FROM "
        + t
        + " o WHERE o.state = 'P' AND o.next_attempt_at <= ?"
        // Under OR, PostgreSQL keeps the NOT EXISTS a subplan run per candidate with the key as a
        // parameter, an index probe; as an anti-join its planner may scan every pending row per
        // candidate when its statistics are stale.
        + " AND (o.msg_key IS NULL OR NOT EXISTS (SELECT 1 FROM "
        + t
        + " e WHERE e.msg_key = o.msg_key AND e.state = 'P' AND e.seq < o.seq"
        + " AND e.next_attempt_at > ?)) ORDER BY o.seq LIMIT ?"
        + lockClause();
  }

  /**
   * {@return the pending rows (seq, msg_key) of {@code keys} keys up to a seq (the last parameter),
   * in order}
   *
   * @param keys how many key parameters
   */
  default String pendingOfKeys(int keys) {
    return "SELECT seq, msg_key FROM "
        + table()
        + " WHERE state = 'P' AND msg_key IN ("
        + String.join(", ", Collections.nCopies(keys, "?"))
        + ") AND seq <= ? ORDER BY seq";
  }

  /**
   * Binds the keys of {@link #pendingOfKeys}.
   *
   * @param statement the statement
   * @param index the first key parameter's index
   * @param keys the keys
   * @return the index of the parameter after the keys
   * @throws SQLException as the driver throws it
   */
  default int bindKeys(PreparedStatement statement, int index, Collection<String> keys)
      throws SQLException {
    int i = index;
    for (String key : keys) {
      statement.setString(i++, key);
    }
    return i;
  }

  /**
   * Marks rows sent.
   *
   * @param connection the relay's connection, in the claim's transaction
   * @param seqs the rows
   * @param nowMillis when, by the relay's clock
   * @throws SQLException as the driver throws it
   */
  default void markSent(Connection connection, long[] seqs, long nowMillis) throws SQLException {
    try (PreparedStatement s =
        connection.prepareStatement(
            "UPDATE "
                + table()
                + " SET state = 'S', sent_at = ?, last_error = NULL WHERE seq = ?")) {
      for (long seq : seqs) {
        s.setLong(1, nowMillis);
        s.setLong(2, seq);
        s.addBatch();
      }
      s.executeBatch();
    }
  }

  /**
   * Deletes rows that were sent, for a relay that keeps no sent rows.
   *
   * @param connection the relay's connection, in the claim's transaction
   * @param seqs the rows
   * @throws SQLException as the driver throws it
   */
  default void deleteSent(Connection connection, long[] seqs) throws SQLException {
    try (PreparedStatement s =
        connection.prepareStatement("DELETE FROM " + table() + " WHERE seq = ?")) {
      for (long seq : seqs) {
        s.setLong(1, seq);
        s.addBatch();
      }
      s.executeBatch();
    }
  }

  /** {@return records a refusal: attempts, state, next_attempt_at, last_error, then the seq} */
  default String markRefused() {
    return "UPDATE "
        + table()
        + " SET attempts = ?, state = ?, next_attempt_at = ?, last_error = ? WHERE seq = ?";
  }

  /** {@return makes the parked row with the id parameter pending again, with no attempts} */
  default String retryParkedById() {
    return "UPDATE "
        + table()
        + " SET state = 'P', attempts = 0, next_attempt_at = 0 WHERE state = 'X' AND id = ?";
  }

  /** {@return makes every parked row pending again, with no attempts} */
  default String retryAllParked() {
    return "UPDATE "
        + table()
        + " SET state = 'P', attempts = 0, next_attempt_at = 0 WHERE state = 'X'";
  }

  /**
   * {@return one row: the pending rows, the parked rows, and the oldest pending row's created_at
   * (null if none)} The states are literals so that the partial indexes serve the counts.
   */
  default String backlog() {
    String t = table();
    return "SELECT (SELECT count(*) FROM "
        + t
        + " WHERE state = 'P'), (SELECT count(*) FROM "
        + t
        + " WHERE state = 'X'), (SELECT created_at FROM "
        + t
        + " WHERE state = 'P' ORDER BY seq LIMIT 1)";
  }

  /**
   * Runs {@link #backlog()}.
   *
   * @param connection any connection to the database
   * @return the pending and parked counts and the oldest pending write
   * @throws SQLException as the driver throws it
   */
  default OutboxBacklog readBacklog(Connection connection) throws SQLException {
    try (Statement s = connection.createStatement();
        ResultSet rs = s.executeQuery(backlog())) {
      rs.next();
      long oldest = rs.getLong(3);
      Instant oldestPending = rs.wasNull() ? null : Instant.ofEpochMilli(oldest);
      return new OutboxBacklog(rs.getLong(1), rs.getLong(2), oldestPending);
    }
  }

  /** {@return deletes at most the second parameter of the sent rows sent before the first} */
  default String purgeSent() {
    return "DELETE FROM "
        + table()
        + " WHERE seq IN (SELECT seq FROM "
        + table()
        + " WHERE state = 'S' AND sent_at < ? ORDER BY seq LIMIT ?)";
  }

  /** {@return the statement that wakes listening relays at commit, or null where there is none} */
  default @Nullable String notifyRelays() {
    return null;
  }
}
