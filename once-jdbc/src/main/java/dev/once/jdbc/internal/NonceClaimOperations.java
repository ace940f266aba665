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
import org.jspecify.annotations.Nullable;

/**
 * Dialects whose upsert cannot tell which rows it took (MariaDB, H2): it writes a random nonce into
 * each row it takes, and a row that then carries our nonce is ours. MariaDB's upsert returns its
 * rows ({@code RETURNING}); H2's rows are read back by a second statement. Rows are written in id
 * order, so concurrent batches cannot deadlock.
 *
 * <p>The nonces are even; the upsert adds {@link #TAKEOVER_MARK} to the nonce of a record it takes
 * over from another claim whose lease expired while the record was still in progress. The upsert
 * decides that on the row it changes, so the row tells a takeover apart without another statement.
 */
abstract class NonceClaimOperations extends SqlOperations {

  /** Added to the (even) nonce of a record taken over from an expired lease. */
  static final long TAKEOVER_MARK = 1L;

  NonceClaimOperations(String table) {
    super(table);
  }

  /**
   * Writes the claims; {@code sorted} is in id order and {@code nonces} (even) matches it. A record
   * taken over from another claim's expired lease, while it was in progress and not expired, gets
   * its nonce plus {@link #TAKEOVER_MARK}; every other acquired record its nonce. In {@link
   * ClaimMode#TRANSACTION_WAIT_COMPLETED}, a dialect whose {@link #claimsCompleted()} writes
   * acquired records completed, with an empty outcome, for their retention.
   *
   * @return each row as the statement left it, by id ({@link #claimedColumns()} through {@link
   *     #decode}), where the dialect's upsert returns rows; {@code null} where it does not, and the
   *     rows are then read back in another statement
   */
  protected abstract @Nullable Map<ByteBuffer, Observed> upsert(
      Connection c,
      List<ClaimRequest> sorted,
      List<Long> nonces,
      long offsetMs,
      ClaimMode mode,
      boolean noWait)
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
    @Nullable Map<ByteBuffer, Observed> returned;
    try {
      returned = upsert(c, sorted, nonces, offsetMs, mode, !mayBlock);
    } catch (SQLException e) {
      boolean raced =
          SqlErrors.isUniqueViolation(e); // H2: a racing MERGE inserted (and committed) first
      if (!raced && !SqlErrors.isLockTimeout(e)) {
        throw e;
      }
      // Only this statement was rolled back. Settle the keys one by one, so one busy key cannot
      // make the whole batch go round again and again.
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
        returned != null
            ? returned
            : readBack(c, sorted, nonces, offsetMs, mode.inCallerTransaction());
    List<Observed> out = new ArrayList<>(requests.size());
    for (ClaimRequest r : requests) {
      out.add(rows.get(ByteBuffer.wrap(r.key().digest())));
    }
    return out;
  }

  /**
   * Reads rows by id after an upsert that returned none; {@code forUpdate} to see the latest
   * version under any isolation.
   */
  private Map<ByteBuffer, Observed> readBack(
      Connection c, List<ClaimRequest> sorted, List<Long> nonces, long offsetMs, boolean forUpdate)
      throws SQLException {
    String sql =
        "SELECT "
            + claimedColumns()
            + " FROM "
            + table
            + " WHERE id IN ("
            + String.join(", ", Collections.nCopies(sorted.size(), "?"))
            + ")"
            + (forUpdate ? " FOR UPDATE" : "");
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int p = 1;
      ps.setLong(p++, offsetMs);
      for (ClaimRequest r : sorted) {
        ps.setBytes(p++, r.key().digest());
      }
      try (ResultSet rs = ps.executeQuery()) {
        return decode(rs, sorted, nonces, false);
      }
    }
  }

  /** The columns {@link #decode} reads, in its order; the last one binds the clock offset. */
  protected final String claimedColumns() {
    return "id, nonce, token, status, fingerprint, lease_until, expires_at, outcome, " + now();
  }

  /**
   * Reads the rows of {@link #claimedColumns()} by id: a row carrying one of {@code nonces} in the
   * status an acquired record is written with ({@code completed} or in progress) is ours, any other
   * is the record as it stands.
   */
  protected static Map<ByteBuffer, Observed> decode(
      ResultSet rs, List<ClaimRequest> sorted, List<Long> nonces, boolean completed)
      throws SQLException {
    Map<ByteBuffer, Long> nonceById = new HashMap<>();
    for (int i = 0; i < sorted.size(); i++) {
      nonceById.put(ByteBuffer.wrap(sorted.get(i).key().digest()), nonces.get(i));
    }
    String acquiredStatus = completed ? "C" : "P";
    Map<ByteBuffer, Observed> rows = new HashMap<>();
    while (rs.next()) {
      ByteBuffer id = ByteBuffer.wrap(rs.getBytes(1));
      long nonce = rs.getLong(2);
      Long mine = nonceById.get(id);
      if (mine != null
          && mine == (nonce & ~TAKEOVER_MARK)
          && acquiredStatus.equals(rs.getString(4))) {
        rows.put(id, Observed.acquired(rs.getLong(3), (nonce & TAKEOVER_MARK) != 0));
      } else {
        rows.put(id, Observed.row(rs, 4));
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
