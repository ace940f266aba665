package dev.once.jdbc.internal;

import dev.once.Scope;
import dev.once.StoreException;
import dev.once.StoreUnavailableException;
import dev.once.internal.InboxDecisions;
import java.sql.SQLException;
import org.jspecify.annotations.Nullable;

/** Sorts SQL failures into "cannot reach the store" and "the store failed". */
public final class SqlErrors {

  private SqlErrors() {}

  public static StoreException translate(
      SQLException e, String store, @Nullable Scope scope, String action) {
    if (isUnavailable(e)) {
      return new StoreUnavailableException(action + " failed: " + e.getMessage(), store, scope, e);
    }
    if (isSerializationFailure(e)) {
      return new StoreException(
          action
              + " conflicted with a concurrent transaction (SQLState "
              + e.getSQLState()
              + "); roll back and retry the whole transaction",
          store,
          scope,
          e);
    }
    return new StoreException(action + " failed: " + e.getMessage(), store, scope, e);
  }

  /**
   * Whether the connection or the server is gone (one rule for the store and the inbox adapters).
   */
  public static boolean isUnavailable(SQLException e) {
    return InboxDecisions.isUnavailable(e);
  }

  /**
   * PostgreSQL serialization failure or deadlock; MariaDB deadlock (its transaction is rolled
   * back).
   */
  public static boolean isSerializationFailure(SQLException e) {
    String state = e.getSQLState();
    return "40001".equals(state) || "40P01".equals(state) || e.getErrorCode() == 1213;
  }

  /**
   * MariaDB lock wait timeout (statement rolled back, transaction intact), H2 lock timeout, SQLite
   * {@code SQLITE_BUSY} or {@code SQLITE_LOCKED} (the database's write lock stayed taken for the
   * whole {@code busy_timeout}, or the transaction could not wait for it). Not SQLite's {@code
   * SQLITE_BUSY_SNAPSHOT}: see {@link #isSqliteStaleSnapshot}.
   */
  public static boolean isLockTimeout(SQLException e) {
    if (isSqlite(e)) {
      return (e.getErrorCode() == SQLITE_BUSY || e.getErrorCode() == SQLITE_LOCKED)
          && !isSqliteStaleSnapshot(e);
    }
    return e.getErrorCode() == 1205 || e.getErrorCode() == 50200;
  }

  private static final int SQLITE_BUSY = 5;
  private static final int SQLITE_LOCKED = 6;

  /**
   * SQLite's {@code SQLITE_BUSY_SNAPSHOT}: the transaction read a snapshot, another connection has
   * committed since, and so this transaction can never write; only rolling it back and running it
   * again helps. sqlite-jdbc reports only the primary code (busy) in {@link
   * SQLException#getErrorCode()}; the extended one leads its message.
   */
  public static boolean isSqliteStaleSnapshot(SQLException e) {
    return isSqlite(e)
        && e.getErrorCode() == SQLITE_BUSY
        && e.getMessage() != null
        && e.getMessage().startsWith("[SQLITE_BUSY_SNAPSHOT]");
  }

  /** Whether sqlite-jdbc raised {@code e} (its error codes are SQLite's result codes). */
  private static boolean isSqlite(SQLException e) {
    return e.getClass().getName().startsWith("org.sqlite.");
  }

  /** A unique violation (H2 may report one for a MERGE racing another). */
  public static boolean isUniqueViolation(SQLException e) {
    return "23505".equals(e.getSQLState()) || e.getErrorCode() == 1062;
  }
}
