package dev.once.outbox.internal;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;

/**
 * PostgreSQL: {@code UUID} ids, {@code SKIP LOCKED}, {@code pg_notify} at commit, and arrays where
 * the others need one parameter per key or row, so a statement's text, and its server-side plan,
 * stays the same whatever the batch.
 */
record PostgresStatements(String table) implements OutboxStatements {

  /**
   * One round trip that sets up the relay's transaction. {@code READ COMMITTED}: each statement
   * sees rows other relays committed since the claim began. {@code jit = off}: the claim's cost
   * estimate (a subplan per candidate row) crosses {@code jit_above_cost} at large batches, and
   * compiling it took longer than running it. {@code synchronous_commit = off}: if the server
   * crashes before the commit reaches the disk, the batch's rows are pending again and are
   * published again, which the consumers' inbox absorbs as it absorbs any redelivery; the writers'
   * commits are not affected.
   */
  private static final String BEGIN =
      "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; SET LOCAL jit = off;"
          + " SET LOCAL synchronous_commit = off";

  @Override
  public void beginClaim(Connection connection) throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute(BEGIN);
    }
  }

  @Override
  public boolean claimSetsIsolation() {
    return true;
  }

  @Override
  public String pendingOfKeys(int keys) {
    return "SELECT seq, msg_key FROM "
        + table
        + " WHERE state = 'P' AND msg_key = ANY(?) AND seq <= ? ORDER BY seq";
  }

  @Override
  public int bindKeys(PreparedStatement statement, int index, Collection<String> keys)
      throws SQLException {
    statement.setArray(
        index, statement.getConnection().createArrayOf("varchar", keys.toArray(new String[0])));
    return index + 1;
  }

  @Override
  public void markSent(Connection connection, long[] seqs, long nowMillis) throws SQLException {
    try (PreparedStatement s =
        connection.prepareStatement(
            "UPDATE "
                + table
                + " SET state = 'S', sent_at = ?, last_error = NULL WHERE seq = ANY(?)")) {
      s.setLong(1, nowMillis);
      s.setArray(2, seqArray(connection, seqs));
      s.executeUpdate();
    }
  }

  @Override
  public void deleteSent(Connection connection, long[] seqs) throws SQLException {
    try (PreparedStatement s =
        connection.prepareStatement("DELETE FROM " + table + " WHERE seq = ANY(?)")) {
      s.setArray(1, seqArray(connection, seqs));
      s.executeUpdate();
    }
  }

  private static Array seqArray(Connection connection, long[] seqs) throws SQLException {
    Long[] boxed = new Long[seqs.length];
    for (int i = 0; i < seqs.length; i++) {
      boxed[i] = seqs[i];
    }
    return connection.createArrayOf("bigint", boxed);
  }

  @Override
  public String notifyRelays() {
    return "SELECT pg_notify(?, '')";
  }
}
