package dev.once.jdbc.internal;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Outcome;
import dev.once.jdbc.SqlDialect;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The statements of one SQL dialect, run on a connection someone else owns. Times are epoch
 * milliseconds by the database clock plus a test offset; the JVM clock is never consulted.
 */
public abstract class SqlOperations {

  /**
   * Reported to a claim that met a key held by another open transaction, whose lease is not
   * visible.
   */
  static final Duration HELD_RETRY_AFTER = Duration.ofSeconds(1);

  private static final int MAX_ATTEMPTS = 16;

  protected final String table;

  /** Hands out fencing tokens, so they grow even across a deleted record (release, purge). */
  protected final String sequence;

  protected SqlOperations(String table) {
    this.table = table;
    this.sequence = table + "_token_seq";
  }

  /**
   * The statements for a table in the {@link dev.once.jdbc.TableLayout#PARTITIONED partitioned}
   * layout, which is PostgreSQL's only.
   */
  public static SqlOperations partitioned(String table, PartitionSettings partitions) {
    return new PartitionedPostgresOperations(table, partitions);
  }

  public static SqlOperations of(SqlDialect dialect, String table) {
    return switch (dialect) {
      case POSTGRESQL -> new PostgresOperations(table);
      case MARIADB -> new MariaDbOperations(table);
      case H2 -> new H2Operations(table);
      case SQLITE -> new SqliteOperations(table);
    };
  }

  /** SQL for the larger of two values. */
  protected String greatest(String a, String b) {
    return "GREATEST(" + a + ", " + b + ")";
  }

  /**
   * Whether a claim that waits for keys held by other open transactions first reads them as
   * committed (so a completed key replays without waiting). Row-locking databases do. SQLite does
   * not: a transaction that has read cannot wait for the write lock afterwards, so there a waiting
   * claim waits for the holder at once and then answers from the latest state.
   */
  protected boolean readsHeldKeysBeforeWaiting() {
    return true;
  }

  /**
   * Checks that a connection is set up the way this dialect's statements need; throws {@link
   * IllegalStateException} naming the setting otherwise. Called once when the store is built.
   */
  public void checkConnection(Connection c) throws SQLException {}

  /**
   * Runs once the schema script has: a layout that needs more than its DDL (partitions to claim
   * into) sets it up here.
   */
  public void afterSchemaCreated(Connection c, long offsetMs) throws SQLException {}

  /** SQL for "now" in epoch ms by the database clock, plus one bound offset parameter. */
  protected abstract String now();

  /**
   * Claims distinct keys in one go. Answers per request: acquired, the row as seen, held by another
   * transaction, or {@code null} when the row changed under the statement and the claim must be
   * repeated. Inside a caller's transaction, {@code mayBlock} false means: never wait behind
   * another open transaction, report such keys as held instead.
   */
  protected abstract List<Observed> claimRound(
      Connection c, List<ClaimRequest> requests, long offsetMs, ClaimMode mode, boolean mayBlock)
      throws SQLException;

  /**
   * Whether {@link ClaimMode#TRANSACTION_WAIT_COMPLETED} claims write acquired records completed,
   * with an empty outcome and the request's retention, so the caller must not complete them.
   * Dialects that cannot answer false and claim as {@link ClaimMode#TRANSACTION_WAIT} does.
   */
  public boolean claimsCompleted() {
    return false;
  }

  /**
   * Whether a claim in a caller's transaction ({@link ClaimMode#TRANSACTION_FAIL_FAST}, {@link
   * ClaimMode#TRANSACTION_WAIT}) writes nothing: the key is held by a lock that lasts as long as
   * the transaction, and {@link #completeDeferred} writes the record once, completed. Such a claim
   * leaves no lease to renew. A dialect may still write a claim it cannot defer (a snapshot older
   * than the statement's); {@link #completeDeferred} and {@link #release} work on both.
   */
  public boolean defersTransactionalClaims() {
    return false;
  }

  /**
   * Writes the completed record of a key a {@link #defersTransactionalClaims deferred} claim
   * acquired, over a dead record if one is there; refuses (false) when a live record appeared
   * meanwhile, which only a claimer that takes no lock (a lease-mode claimer on the same table) can
   * have written.
   */
  public boolean completeDeferred(
      Connection c,
      byte[] id,
      byte[] fingerprint,
      long token,
      byte[] outcome,
      long retentionMs,
      long offsetMs)
      throws SQLException {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " writes its claims");
  }

  /**
   * Limits how long the caller's open transaction on {@code c} may then sit idle (no statement
   * running) before the server ends it, rolling it back: a transaction whose client vanished
   * without a word (a network partition, a host gone) would otherwise hold its claims until the
   * server's TCP keepalive notices, hours by default. Lasts until the transaction ends. Dialects
   * whose server has no transaction-local setting for it do nothing.
   */
  public void limitIdleTransaction(Connection c, Duration timeout) throws SQLException {}

  /** SQL that deletes at most {@code ?} purgeable rows; parameters: offset, offset, limit. */
  protected abstract String purgeSql();

  /**
   * Claims every request, in as few statements as the dialect allows. A key repeated in the batch
   * is claimed in a later round, so it sees the earlier occurrence exactly as a sequential claim
   * would.
   *
   * <p>Inside a caller's transaction a claim first never blocks. A key another open transaction
   * holds is then read without locks: a committed completed record (or another fingerprint) is
   * answered at once, so concurrent replays never queue behind each other; only a key that is
   * really in flight is reported in progress (fail-fast) or claimed again, waiting for its holder
   * (wait mode).
   */
  public List<ClaimResult> claim(
      Connection c, List<ClaimRequest> requests, long offsetMs, ClaimMode mode)
      throws SQLException {
    ClaimResult[] results = new ClaimResult[requests.size()];
    for (List<Integer> round : rounds(requests)) {
      List<Integer> pending = round;
      Set<Integer> waitFor = new HashSet<>();
      for (int attempt = 1; !pending.isEmpty(); attempt++) {
        if (attempt > MAX_ATTEMPTS) {
          // A serialization failure (40001): in a caller's transaction this happens when its
          // snapshot cannot see
          // what the claim keeps running into, and only retrying the whole transaction can answer
          // truthfully.
          throw new SQLException(
              "claim did not settle after "
                  + MAX_ATTEMPTS
                  + " attempts: the records kept changing under it",
              "40001");
        }
        List<Integer> again = new ArrayList<>();
        List<Integer> held = new ArrayList<>();
        for (boolean blocking : new boolean[] {false, true}) {
          List<Integer> group = new ArrayList<>();
          for (int i : pending) {
            if (waitFor.contains(i) == blocking) {
              group.add(i);
            }
          }
          if (group.isEmpty()) {
            continue;
          }
          List<ClaimRequest> batch = select(requests, group);
          boolean mayBlock = blocking || !mode.inCallerTransaction();
          List<Observed> observed = claimRound(c, batch, offsetMs, mode, mayBlock);
          for (int j = 0; j < group.size(); j++) {
            Observed o = observed.get(j);
            if (o != null && o.heldByOtherTransaction() && !mayBlock) {
              held.add(group.get(j));
              continue;
            }
            ClaimResult result = classify(batch.get(j), o);
            if (result == null) {
              again.add(group.get(j));
            } else {
              results[group.get(j)] = result;
            }
          }
        }
        if (!held.isEmpty() && mode.waits() && !readsHeldKeysBeforeWaiting()) {
          waitFor.addAll(held);
          again.addAll(held);
        } else if (!held.isEmpty()) {
          List<ClaimRequest> batch = select(requests, held);
          Map<ByteBuffer, Observed> rows = peek(c, batch, offsetMs);
          for (int j = 0; j < held.size(); j++) {
            ClaimRequest request = batch.get(j);
            Observed row = rows.get(ByteBuffer.wrap(request.key().digest()));
            ClaimResult settled = classify(request, row);
            if (settled instanceof ClaimResult.Completed
                || settled instanceof ClaimResult.Mismatch) {
              results[held.get(j)] = settled;
            } else if (mode.waits()) {
              waitFor.add(held.get(j));
              again.add(held.get(j));
            } else {
              results[held.get(j)] =
                  settled instanceof ClaimResult.InProgress
                      ? settled
                      : new ClaimResult.InProgress(HELD_RETRY_AFTER);
            }
          }
        }
        pending = again;
      }
    }
    return Arrays.asList(results);
  }

  private static List<ClaimRequest> select(List<ClaimRequest> requests, List<Integer> indices) {
    List<ClaimRequest> out = new ArrayList<>(indices.size());
    for (int i : indices) {
      out.add(requests.get(i));
    }
    return out;
  }

  /**
   * Reads rows without locking them: as committed, what a claimer blocked by another transaction
   * can know; inside a transaction that holds SQLite's write lock, the latest rows.
   */
  protected final Map<ByteBuffer, Observed> peek(
      Connection c, List<ClaimRequest> requests, long offsetMs) throws SQLException {
    String sql =
        "SELECT id, status, fingerprint, lease_until, expires_at, outcome, "
            + now()
            + " FROM "
            + table
            + " WHERE id IN ("
            + String.join(", ", java.util.Collections.nCopies(requests.size(), "?"))
            + ")";
    Map<ByteBuffer, Observed> rows = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int p = 1;
      ps.setLong(p++, offsetMs);
      for (ClaimRequest r : requests) {
        ps.setBytes(p++, r.key().digest());
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.put(ByteBuffer.wrap(rs.getBytes(1)), Observed.row(rs, 2));
        }
      }
    }
    return rows;
  }

  private static List<List<Integer>> rounds(List<ClaimRequest> requests) {
    if (requests.size() == 1) {
      return List.of(List.of(0));
    }
    List<List<Integer>> rounds = new ArrayList<>();
    Map<ByteBuffer, Integer> occurrences = new HashMap<>();
    for (int i = 0; i < requests.size(); i++) {
      int n = occurrences.merge(ByteBuffer.wrap(requests.get(i).key().digest()), 1, Integer::sum);
      if (rounds.size() < n) {
        rounds.add(new ArrayList<>());
      }
      rounds.get(n - 1).add(i);
    }
    return rounds;
  }

  /**
   * Turns what a statement saw into an answer, or {@code null} when the row moved and we must look
   * again.
   */
  static @Nullable ClaimResult classify(ClaimRequest request, @Nullable Observed o) {
    if (o == null) {
      return null;
    }
    if (o.heldByOtherTransaction()) {
      return new ClaimResult.InProgress(HELD_RETRY_AFTER);
    }
    if (o.acquiredToken() != null) {
      return new ClaimResult.Acquired(o.acquiredToken(), o.takeover());
    }
    if (o.status() == null || o.expiresAt() <= o.now()) {
      return null; // gone, or expired and so claimable: another attempt will take it
    }
    if (!Arrays.equals(o.fingerprint(), request.fingerprint().digest())) {
      return new ClaimResult.Mismatch();
    }
    if ("C".equals(o.status())) {
      byte[] outcome = o.outcome();
      if (outcome == null) {
        // The column is NULL only while a record is held; a completed one always has its outcome.
        throw new IllegalStateException("a completed record has no outcome");
      }
      return new ClaimResult.Completed(Outcome.fromBytes(outcome));
    }
    if (o.leaseUntil() > o.now()) {
      return new ClaimResult.InProgress(Duration.ofMillis(o.leaseUntil() - o.now()));
    }
    return null; // the lease ran out between statements: take it over on the next attempt
  }

  public boolean complete(
      Connection c, byte[] id, long token, byte[] outcome, long retentionMs, long offsetMs)
      throws SQLException {
    String sql =
        "UPDATE "
            + table
            + " SET status = 'C', outcome = ?, lease_until = "
            + now()
            + ", expires_at = "
            + now()
            + " + ? WHERE id = ? AND token = ? AND status = 'P'";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setBytes(1, outcome);
      ps.setLong(2, offsetMs);
      ps.setLong(3, offsetMs);
      ps.setLong(4, retentionMs);
      ps.setBytes(5, id);
      ps.setLong(6, token);
      return ps.executeUpdate() == 1 || isCompletedWith(c, id, token, outcome, offsetMs);
    }
  }

  /**
   * The statement of {@link #complete} for many records, sent as one JDBC batch (one round trip
   * where the driver pipelines batches, as PostgreSQL's and MariaDB's do).
   *
   * @return per record, whether it is now completed with its token and outcome
   */
  public boolean[] completeAll(
      Connection c,
      List<byte[]> ids,
      long[] tokens,
      List<byte[]> outcomes,
      long[] retentionMs,
      long offsetMs)
      throws SQLException {
    if (ids.size() == 1) {
      return new boolean[] {
        complete(c, ids.get(0), tokens[0], outcomes.get(0), retentionMs[0], offsetMs)
      };
    }
    String sql =
        "UPDATE "
            + table
            + " SET status = 'C', outcome = ?, lease_until = "
            + now()
            + ", expires_at = "
            + now()
            + " + ? WHERE id = ? AND token = ? AND status = 'P'";
    boolean[] done = new boolean[ids.size()];
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < done.length; i++) {
        ps.setBytes(1, outcomes.get(i));
        ps.setLong(2, offsetMs);
        ps.setLong(3, offsetMs);
        ps.setLong(4, retentionMs[i]);
        ps.setBytes(5, ids.get(i));
        ps.setLong(6, tokens[i]);
        ps.addBatch();
      }
      int[] counts = ps.executeBatch();
      for (int i = 0; i < done.length; i++) {
        // A count other than 1 is a refusal, a repeat, or (SUCCESS_NO_INFO, a bulk protocol)
        // unknown: ask the table.
        done[i] =
            counts[i] == 1 || isCompletedWith(c, ids.get(i), tokens[i], outcomes.get(i), offsetMs);
      }
    }
    return done;
  }

  /**
   * Whether the record is completed with this token and outcome and not expired: the update found
   * nothing to do because this very completion already ran (its first answer was lost), which is a
   * success and changes nothing.
   */
  protected final boolean isCompletedWith(
      Connection c, byte[] id, long token, byte[] outcome, long offsetMs) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT outcome FROM "
                + table
                + " WHERE id = ? AND token = ? AND status = 'C' AND expires_at > "
                + now())) {
      ps.setBytes(1, id);
      ps.setLong(2, token);
      ps.setLong(3, offsetMs);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && Arrays.equals(rs.getBytes(1), outcome);
      }
    }
  }

  public boolean release(Connection c, byte[] id, long token) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "DELETE FROM " + table + " WHERE id = ? AND token = ? AND status = 'P'")) {
      ps.setBytes(1, id);
      ps.setLong(2, token);
      return ps.executeUpdate() == 1;
    }
  }

  public boolean renew(Connection c, byte[] id, long token, long leaseMs, long offsetMs)
      throws SQLException {
    String sql =
        "UPDATE "
            + table
            + " SET lease_until = "
            + now()
            + " + ?, expires_at = "
            + greatest("expires_at", now() + " + ?")
            + " WHERE id = ? AND token = ? AND status = 'P'";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, offsetMs);
      ps.setLong(2, leaseMs);
      ps.setLong(3, offsetMs);
      ps.setLong(4, leaseMs);
      ps.setBytes(5, id);
      ps.setLong(6, token);
      return ps.executeUpdate() == 1;
    }
  }

  public int purge(Connection c, int limit, long offsetMs) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(purgeSql())) {
      ps.setLong(1, offsetMs);
      ps.setLong(2, offsetMs);
      ps.setInt(3, limit);
      return ps.executeUpdate();
    }
  }

  /** One cheap statement that fails if the table is missing. */
  public void check(Connection c) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement("SELECT COUNT(*) FROM " + table + " WHERE 1 = 0");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
    }
  }

  /** A record as it stands, with the database's now; empty if there is no row. */
  public Optional<InspectedRow> inspect(Connection c, byte[] id, long offsetMs)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT status, token, lease_until, expires_at, outcome, "
                + now()
                + " FROM "
                + table
                + " WHERE id = ?")) {
      ps.setLong(1, offsetMs);
      ps.setBytes(2, id);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(
            new InspectedRow(
                rs.getString(1).trim(),
                rs.getLong(2),
                rs.getLong(3),
                rs.getLong(4),
                outcome(rs.getBytes(5)),
                rs.getLong(6)));
      }
    }
  }

  /**
   * A row read by {@link #inspect}.
   *
   * @param status 'P' or 'C'
   * @param token the fencing token
   * @param leaseUntil epoch ms
   * @param expiresAt epoch ms
   * @param outcome the stored outcome; null while in progress
   * @param now the database's now, epoch ms
   */
  public record InspectedRow(
      String status,
      long token,
      long leaseUntil,
      long expiresAt,
      @Nullable Outcome outcome,
      long now) {

    /** {@return whether a claim would treat the row as absent (what a purge deletes)} */
    public boolean dead() {
      return expiresAt <= now && (status.equals("C") || leaseUntil <= now);
    }
  }

  private static @Nullable Outcome outcome(byte @Nullable [] bytes) {
    return bytes == null ? null : Outcome.fromBytes(bytes);
  }

  /** Deletes the key's in-progress row whatever its token; whether one was deleted. */
  public boolean forceRelease(Connection c, byte[] id) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("DELETE FROM " + table + " WHERE id = ? AND status = 'P'")) {
      ps.setBytes(1, id);
      return ps.executeUpdate() == 1;
    }
  }

  /** Counts of rows: in progress and live, completed and live, dead (purgeable). */
  public long[] count(Connection c, long offsetMs) throws SQLException {
    String dead = "(" + purgeCondition() + ")";
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT COUNT(*), SUM(CASE WHEN "
                + dead
                + " THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'P' AND NOT "
                + dead
                + " THEN 1 ELSE 0 END) FROM "
                + table)) {
      for (int i = 1; i <= 4; i++) {
        ps.setLong(i, offsetMs);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        long total = rs.getLong(1);
        long expired = rs.getLong(2);
        long inProgress = rs.getLong(3);
        return new long[] {inProgress, total - expired - inProgress, expired};
      }
    }
  }

  /** The purge condition: retention over, and no live lease. */
  protected String purgeCondition() {
    return "expires_at <= " + now() + " AND (status = 'C' OR lease_until <= " + now() + ")";
  }
}
