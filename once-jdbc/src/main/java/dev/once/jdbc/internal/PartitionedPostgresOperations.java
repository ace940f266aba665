package dev.once.jdbc.internal;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Outcome;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * PostgreSQL over the partitioned layout ({@code V1__once_records_partitioned.sql}): claims go
 * through the schema's {@code <table>_claim} function, because no unique index can keep an id to
 * one row across partitions; the purge drops partitions whose whole range has passed instead of
 * deleting rows. Completing, renewing, releasing and reading are the plain layout's statements:
 * they find a record by id in whichever partition it is.
 */
final class PartitionedPostgresOperations extends PostgresOperations {

  private static final byte[] EMPTY_OUTCOME = Outcome.empty().toBytes();

  private final PartitionSettings partitions;
  private final String claimSql;

  PartitionedPostgresOperations(String table, PartitionSettings partitions) {
    super(table);
    this.partitions = partitions;
    this.claimSql =
        "SELECT c_ord, c_token, c_status, c_fingerprint, c_lease_until, c_expires_at, c_outcome,"
            + " c_now, c_held, c_takeover FROM "
            + table
            + "_claim(?::bytea[], ?::bytea[], ?::bigint[], ?::bigint[], ?::bigint, ?, ?::bytea)"
            + " ORDER BY c_ord";
  }

  /** The partitioned claim function writes its claims; completing is the plain layout's update. */
  @Override
  public boolean defersTransactionalClaims() {
    return false;
  }

  @Override
  protected List<Observed> claimRound(
      Connection c, List<ClaimRequest> requests, long offsetMs, ClaimMode mode, boolean mayBlock)
      throws SQLException {
    boolean completed = mode == ClaimMode.TRANSACTION_WAIT_COMPLETED;
    if (mode.inCallerTransaction() || !mayBlock) {
      return callClaim(c, requests, offsetMs, mayBlock, completed);
    }
    // Standalone: a key whose lock another transaction holds is first read as committed, so a
    // replay of a completed record never queues behind a transaction that merely looked at it.
    List<Observed> out = new ArrayList<>(callClaim(c, requests, offsetMs, false, completed));
    List<Integer> held = new ArrayList<>();
    for (int i = 0; i < out.size(); i++) {
      if (out.get(i) != null && out.get(i).heldByOtherTransaction()) {
        held.add(i);
      }
    }
    if (held.isEmpty()) {
      return out;
    }
    List<ClaimRequest> heldRequests = new ArrayList<>(held.size());
    for (int i : held) {
      heldRequests.add(requests.get(i));
    }
    Map<ByteBuffer, Observed> committed = peek(c, heldRequests, offsetMs);
    List<Integer> wait = new ArrayList<>();
    List<ClaimRequest> waitRequests = new ArrayList<>();
    for (int j = 0; j < held.size(); j++) {
      ClaimRequest request = heldRequests.get(j);
      Observed row = committed.get(ByteBuffer.wrap(request.key().digest()));
      ClaimResult settled = classify(request, row);
      if (settled instanceof ClaimResult.Completed || settled instanceof ClaimResult.Mismatch) {
        out.set(held.get(j), row);
      } else {
        wait.add(held.get(j));
        waitRequests.add(request);
      }
    }
    if (!wait.isEmpty()) {
      List<Observed> waited = callClaim(c, waitRequests, offsetMs, true, completed);
      for (int j = 0; j < wait.size(); j++) {
        out.set(wait.get(j), waited.get(j));
      }
    }
    return out;
  }

  private List<Observed> callClaim(
      Connection c, List<ClaimRequest> requests, long offsetMs, boolean wait, boolean completed)
      throws SQLException {
    List<Observed> out = new ArrayList<>(requests.size());
    try (PreparedStatement ps = c.prepareStatement(claimSql)) {
      bindArrays(c, ps, 1, requests);
      ps.setLong(5, offsetMs);
      ps.setBoolean(6, wait);
      ps.setBytes(7, completed ? EMPTY_OUTCOME : null);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long token = rs.getLong(2);
          boolean acquired = !rs.wasNull();
          if (rs.getBoolean(9)) {
            out.add(Observed.held());
          } else if (acquired) {
            out.add(Observed.acquired(token, rs.getBoolean(10)));
          } else if (rs.getString(3) == null) {
            out.add(Observed.missing()); // the row changed under the claim: claim again
          } else {
            out.add(Observed.row(rs, 3));
          }
        }
      }
    }
    return out;
  }

  /** Creates the partitions ahead, when the settings ask for any. */
  @Override
  public void afterSchemaCreated(Connection c, long offsetMs) throws SQLException {
    if (partitions.ahead().isZero()) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT " + table + "_add_partitions(" + now() + ", ?::bigint, ?::bigint, ?)")) {
      ps.setLong(1, offsetMs);
      ps.setLong(2, partitions.width().toMillis());
      ps.setLong(3, partitions.ahead().toMillis());
      ps.setInt(4, lockWaitMs());
      ps.execute();
    }
  }

  private int lockWaitMs() {
    return (int) Math.min(Integer.MAX_VALUE, partitions.lockWait().toMillis());
  }

  /**
   * Adds the partitions ahead (when the settings ask for any), drops those whose whole range has
   * passed, then deletes at most {@code limit} expired rows from the default partition, which holds
   * records whose expiry had no partition yet.
   *
   * @return the rows the dropped partitions held, plus the rows deleted one by one
   */
  @Override
  public int purge(Connection c, int limit, long offsetMs) throws SQLException {
    int lockWaitMs = lockWaitMs();
    afterSchemaCreated(c, offsetMs);
    long dropped;
    try (PreparedStatement ps =
        c.prepareStatement("SELECT " + table + "_drop_expired(" + now() + ", ?)")) {
      ps.setLong(1, offsetMs);
      ps.setInt(2, lockWaitMs);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        dropped = rs.getLong(1);
      }
    }
    String defaultPartition = table + "_default";
    int deleted;
    // SKIP LOCKED: never wait behind, nor delete under, a claim that holds the row right now.
    try (PreparedStatement ps =
        c.prepareStatement(
            "DELETE FROM "
                + defaultPartition
                + " WHERE (id, expires_at) IN (SELECT id, expires_at FROM "
                + defaultPartition
                + " WHERE "
                + purgeCondition()
                + " LIMIT ? FOR UPDATE SKIP LOCKED)")) {
      ps.setLong(1, offsetMs);
      ps.setLong(2, offsetMs);
      ps.setInt(3, limit);
      deleted = ps.executeUpdate();
    }
    return (int) Math.min(Integer.MAX_VALUE, dropped + deleted);
  }
}
