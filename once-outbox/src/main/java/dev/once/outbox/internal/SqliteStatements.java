package dev.once.outbox.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * SQLite: ids in a 16-byte {@code BLOB}, and no row locks. One transaction writes at a time, so a
 * claim begins with a write that changes nothing but takes the database's write lock: a second
 * relay waits for it (up to {@code busy_timeout}) instead of reading the same rows, and the lock is
 * held until the batch is marked, through the publication.
 */
record SqliteStatements(String table) implements BinaryIdStatements {

  @Override
  public void beginClaim(Connection connection) throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.executeUpdate("UPDATE " + table + " SET attempts = attempts WHERE seq = -1");
    }
  }

  @Override
  public String lockClause() {
    return "";
  }
}
