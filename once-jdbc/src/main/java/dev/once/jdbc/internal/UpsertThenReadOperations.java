package dev.once.jdbc.internal;

import dev.once.ClaimRequest;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Dialects without {@code RETURNING} on an upsert (MariaDB/MySQL, H2): one statement takes the dead
 * or missing records, writing a random nonce into each it takes; a second reads every row back, and
 * a row carrying our nonce is ours. Rows are written in id order, so concurrent batches cannot
 * deadlock.
 *
 * <p>The nonces are even; the upsert adds {@link #TAKEOVER_MARK} to the nonce of a record it takes
 * over from another claim whose lease expired while the record was still in progress. The upsert
 * decides that on the row it changes, so the read tells a takeover apart without another statement.
 */
abstract class UpsertThenReadOperations extends SqlOperations {

  /** Added to the (even) nonce of a record taken over from an expired lease. */
  static final long TAKEOVER_MARK = 1L;

  UpsertThenReadOperations(String table) {
    super(table);
  }

  /**
   * Writes the claims; {@code sorted} is in id order and {@code nonces} (even) matches it. A record
   * taken over from another claim's expired lease, while it was in progress and not expired, gets
   * its nonce plus {@link #TAKEOVER_MARK}; every other acquired record its nonce.
   */
  protected abstract void upsert(
      Connection c, List<ClaimRequest> sorted, List<Long> nonces, long offsetMs, boolean noWait)
      throws SQLException;

  @Override
  protected final List<Observed> claimRound(
      Connection c, List<ClaimRequest> requests, long offsetMs, ClaimMode mode, boolean mayBlock)
      throws SQLException {
    List<Integer> order = idOrder(requests);
    List<ClaimRequest> sorted = new ArrayList<>(requests.size());
    List<Long> nonces = new ArrayList<>(requests.size());
    for (int i : order) {
      sorted.add(requests.get(i));
      nonces.add(ThreadLocalRandom.current().nextLong() & ~TAKEOVER_MARK);
    }
    try {
      upsert(c, sorted, nonces, offsetMs, !mayBlock);
    } catch (SQLException e) {
      boolean raced =
          SqlErrors.isUniqueViolation(e); // H2: a racing MERGE inserted (and committed) first
      if (!raced && !SqlErrors.isLockTimeout(e)) {
        throw e;
      }
      // Only this statement was rolled back. Settle the keys one by one, so one busy key cannot
      // make the
      // whole batch go round again and again.
      if (requests.size() == 1) {
        return Collections.singletonList(raced ? Observed.missing() : Observed.held());
      }
      Observed[] out = new Observed[requests.size()];
      for (int i :
          order) { // id order still, so these single claims cannot deadlock each other either
        out[i] = claimRound(c, List.of(requests.get(i)), offsetMs, mode, mayBlock).get(0);
      }
      return Arrays.asList(out);
    }
    Map<ByteBuffer, Observed> rows =
        readRows(c, sorted, offsetMs, mode.inCallerTransaction(), nonces);
    List<Observed> out = new ArrayList<>(requests.size());
    for (ClaimRequest r : requests) {
      out.add(rows.get(ByteBuffer.wrap(r.key().digest())));
    }
    return out;
  }

  /**
   * Reads rows by id after an upsert; {@code forUpdate} to see the latest version under any
   * isolation.
   */
  private Map<ByteBuffer, Observed> readRows(
      Connection c,
      List<ClaimRequest> requests,
      long offsetMs,
      boolean forUpdate,
      List<Long> nonces)
      throws SQLException {
    StringBuilder sql =
        new StringBuilder(
                "SELECT id, nonce, token, status, fingerprint, lease_until, expires_at, outcome, ")
            .append(now())
            .append(" FROM ")
            .append(table)
            .append(" WHERE id IN (");
    sql.append(String.join(", ", Collections.nCopies(requests.size(), "?"))).append(")");
    if (forUpdate) {
      sql.append(" FOR UPDATE");
    }
    Map<ByteBuffer, Long> nonceById = new HashMap<>();
    for (int i = 0; i < requests.size(); i++) {
      nonceById.put(ByteBuffer.wrap(requests.get(i).key().digest()), nonces.get(i));
    }
    Map<ByteBuffer, Observed> rows = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
      int p = 1;
      ps.setLong(p++, offsetMs);
      for (ClaimRequest r : requests) {
        ps.setBytes(p++, r.key().digest());
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ByteBuffer id = ByteBuffer.wrap(rs.getBytes(1));
          long nonce = rs.getLong(2);
          Long mine = nonceById.get(id);
          if (mine != null && mine == (nonce & ~TAKEOVER_MARK) && "P".equals(rs.getString(4))) {
            rows.put(id, Observed.acquired(rs.getLong(3), (nonce & TAKEOVER_MARK) != 0));
          } else {
            rows.put(
                id,
                Observed.row(
                    rs.getString(4),
                    rs.getBytes(5),
                    rs.getLong(6),
                    rs.getLong(7),
                    rs.getBytes(8),
                    rs.getLong(9)));
          }
        }
      }
    }
    return rows;
  }

  /**
   * Requests in id order, so concurrent batches lock rows in one order and cannot deadlock each
   * other.
   */
  private static List<Integer> idOrder(List<ClaimRequest> requests) {
    List<Integer> order = new ArrayList<>(requests.size());
    for (int i = 0; i < requests.size(); i++) {
      order.add(i);
    }
    order.sort(
        (a, b) ->
            Arrays.compareUnsigned(requests.get(a).key().digest(), requests.get(b).key().digest()));
    return order;
  }
}
