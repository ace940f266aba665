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

  /** MariaDB lock wait timeout (statement rolled back, transaction intact), H2 lock timeout. */
  public static boolean isLockTimeout(SQLException e) {
    return e.getErrorCode() == 1205 || e.getErrorCode() == 50200;
  }

  /** A unique violation (H2 may report one for a MERGE racing another). */
  public static boolean isUniqueViolation(SQLException e) {
    return "23505".equals(e.getSQLState()) || e.getErrorCode() == 1062;
  }
}
