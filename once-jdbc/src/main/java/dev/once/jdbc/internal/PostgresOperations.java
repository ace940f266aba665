package dev.once.jdbc.internal;

import dev.once.ClaimRequest;
import dev.once.Outcome;
import java.nio.ByteBuffer;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGStatement;

/**
 * PostgreSQL. {@code INSERT ... ON CONFLICT DO NOTHING} never raises a unique violation, so a lost
 * race cannot abort the caller's transaction, and an {@code UPDATE} takes over only dead records.
 * Each claim writes only what it must: one key is read first (a duplicate is one index lookup); a
 * batch is inserted first (new ids, an inbox poll's usual case, are one insert) and only the ids
 * that met a record go on to a second statement; a claim in a caller's transaction writes nothing
 * until it completes ({@link #defersTransactionalClaims}).
 */
class PostgresOperations extends SqlOperations {

  private static final String SINGLE_INPUT =
      "SELECT ?::bytea AS id, ?::bytea AS fp, ?::bigint AS lease, ?::bigint AS retention, 1::bigint AS ord";
  private static final String BATCH_INPUT =
      "SELECT i.id, i.fp, i.lease, i.retention, i.ord"
          + " FROM unnest(?::bytea[], ?::bytea[], ?::bigint[], ?::bigint[]) WITH ORDINALITY AS i(id, fp, lease, retention, ord)";

  /**
   * What an acquired record is written as: in progress for its lease, or (inbox) completed for its
   * retention.
   */
  private static final String IN_PROGRESS =
      "'P', input.fp, %s, clock.now_ms, clock.now_ms + input.lease,"
          + " clock.now_ms + GREATEST(input.lease, input.retention), NULL";

  private static final String COMPLETED =
      "'C', input.fp, %s, clock.now_ms, clock.now_ms,"
          + " clock.now_ms + input.retention, '\\x"
          + HexFormat.of().formatHex(Outcome.empty().toBytes())
          + "'::bytea";

  private final String singleClaimSql;
  private final String singleCompletedClaimSql;
  private final String singleReadClaimSql;
  private final String batchReadClaimSql;
  private final String completeDeferredSql;
  private final String batchInsertSql;
  private final String batchCompletedInsertSql;
  private final String batchTakeSql;
  private final String batchCompletedTakeSql;
  private final String readRestSql;

  PostgresOperations(String table) {
    super(table);
    this.singleClaimSql = singleClaimSql(IN_PROGRESS);
    this.singleCompletedClaimSql = singleClaimSql(COMPLETED);
    this.batchInsertSql = batchInsertSql(IN_PROGRESS);
    this.batchCompletedInsertSql = batchInsertSql(COMPLETED);
    this.batchTakeSql = batchTakeSql(IN_PROGRESS);
    this.batchCompletedTakeSql = batchTakeSql(COMPLETED);
    this.readRestSql =
        "SELECT id, status, fingerprint, lease_until, expires_at, outcome, "
            + now()
            + " FROM "
            + table
            + " WHERE id = ANY(?::bytea[])";
    this.singleReadClaimSql = readClaimSql(SINGLE_INPUT);
    this.batchReadClaimSql = readClaimSql(BATCH_INPUT);
    this.completeDeferredSql =
        "INSERT INTO "
            + table
            + " AS r (id, status, fingerprint, token, nonce, lease_until, expires_at, outcome)"
            + " SELECT ?, 'C', ?, ?, clock.now_ms, clock.now_ms, clock.now_ms + ?, ? FROM (SELECT "
            + now()
            + " AS now_ms) AS clock ON CONFLICT (id) DO UPDATE SET"
            + " (status, fingerprint, token, nonce, lease_until, expires_at, outcome) = (EXCLUDED.status,"
            + " EXCLUDED.fingerprint, EXCLUDED.token, EXCLUDED.nonce, EXCLUDED.lease_until,"
            + " EXCLUDED.expires_at, EXCLUDED.outcome) WHERE "
            // EXCLUDED.nonce is the statement's clock (a PostgreSQL nonce is the acquisition time).
            + dead("r", "EXCLUDED.nonce", "EXCLUDED.fingerprint")
            // ... or the in-progress record this claim wrote after all (an older snapshot, below).
            + " OR (r.token = EXCLUDED.token AND r.status = 'P')";
  }

  @Override
  public boolean claimsCompleted() {
    return true;
  }

  /**
   * In a caller's transaction the key's advisory lock already keeps every other transactional
   * claimer out until the transaction ends, and nobody sees an uncommitted row anyway; so the claim
   * only reads, and the record is inserted once, completed, when the work is done: one write per
   * fresh key instead of an in-progress row then its update.
   */
  @Override
  public boolean defersTransactionalClaims() {
    return true;
  }

  @Override
  public boolean completeDeferred(
      Connection c,
      byte[] id,
      byte[] fingerprint,
      long token,
      byte[] outcome,
      long retentionMs,
      long offsetMs)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(completeDeferredSql)) {
      ps.setBytes(1, id);
      ps.setBytes(2, fingerprint);
      ps.setLong(3, token);
      ps.setLong(4, retentionMs);
      ps.setBytes(5, outcome);
      ps.setLong(6, offsetMs);
      return ps.executeUpdate() == 1 || isCompletedWith(c, id, token, outcome, offsetMs);
    }
  }

  @Override
  protected String now() {
    // statement_timestamp(): fresh for each statement even inside a long caller transaction, unlike
    // now().
    return "((EXTRACT(EPOCH FROM statement_timestamp()) * 1000)::bigint + ?::bigint)";
  }

  /**
   * One key: read first, and write only what the read calls for. A duplicate, the common case of a
   * retried request or a redelivered message, then costs one index lookup: no speculative insert,
   * no {@code nextval} (evaluated for every candidate row of an INSERT, conflicting or not) and no
   * UPDATE probe. The read is the statement's snapshot: a key inserted by another transaction after
   * it conflicts ({@code DO NOTHING}) and shows as missing, so the caller claims again; a record
   * changed after it is taken only if its latest version is still takeable (READ COMMITTED rechecks
   * the UPDATE's condition), else answered as the snapshot saw it. The UPDATE runs only when the
   * read found a dead record (a one-time filter), so a live duplicate takes no row lock.
   */
  private String singleClaimSql(String acquiredRow) {
    String token = "nextval('" + sequence + "')";
    return "WITH clock AS (SELECT "
        + now()
        + " AS now_ms), input AS ("
        + SINGLE_INPUT
        + "),"
        + " existing AS (SELECT status, fingerprint, lease_until, expires_at, outcome FROM "
        + table
        + " WHERE id = (SELECT id FROM input)),"
        + " inserted AS (INSERT INTO "
        + table
        + " (id, status, fingerprint, token, nonce, lease_until, expires_at, outcome)"
        + " SELECT input.id, "
        + acquiredRow.formatted(token)
        + " FROM input CROSS JOIN clock WHERE NOT EXISTS (SELECT 1 FROM existing)"
        + " ON CONFLICT (id) DO NOTHING RETURNING token),"
        + " taken AS (UPDATE "
        + table
        + " r SET (status, fingerprint, token, nonce, lease_until, expires_at, outcome) = ("
        + acquiredRow.formatted(token)
        + ") FROM input CROSS JOIN clock"
        + " WHERE EXISTS (SELECT 1 FROM existing e CROSS JOIN input i CROSS JOIN clock c WHERE "
        + dead("e", "c.now_ms", "i.fp")
        + ") AND r.id = input.id AND "
        + dead("r", "clock.now_ms", "input.fp")
        + " RETURNING r.token)"
        + " SELECT input.ord, COALESCE((SELECT token FROM inserted), (SELECT token FROM taken)),"
        + " e.status, e.fingerprint, e.lease_until, e.expires_at, e.outcome, clock.now_ms,"
        + " COALESCE(EXISTS (SELECT 1 FROM taken) AND e.status = 'P' AND e.expires_at > clock.now_ms, false)"
        + " FROM input CROSS JOIN clock LEFT JOIN existing e ON true";
  }

  /**
   * Whether {@code record} is dead at {@code now} for a claim with {@code fingerprint}: expired, or
   * its lease ran out under the same fingerprint.
   */
  private static String dead(String record, String now, String fingerprint) {
    return ("(%1$s.expires_at <= %2$s OR (%1$s.status = 'P' AND %1$s.lease_until <= %2$s"
            + " AND %1$s.fingerprint = %3$s))")
        .formatted(record, now, fingerprint);
  }

  /**
   * A deferred claim ({@link #defersTransactionalClaims}): the row as committed, and a fencing
   * token for each key that is missing or dead. It runs after the advisory locks are taken, so its
   * snapshot already holds whatever the previous holder committed; but only under READ COMMITTED,
   * whose snapshot is the statement's. An older snapshot (REPEATABLE READ, SERIALIZABLE) may miss a
   * record committed since, which only a write meets: there the claim writes (see {@link
   * #claimFree}).
   */
  private String readClaimSql(String input) {
    return "WITH clock AS (SELECT "
        + now()
        + " AS now_ms), input AS ("
        + input
        + ") SELECT input.ord, CASE WHEN r.id IS NULL OR "
        + dead("r", "clock.now_ms", "input.fp")
        + " THEN nextval('"
        + sequence
        + "') END, r.status, r.fingerprint, r.lease_until, r.expires_at, r.outcome, clock.now_ms,"
        + " COALESCE("
        + dead("r", "clock.now_ms", "input.fp")
        + " AND r.status = 'P' AND r.expires_at > clock.now_ms, false),"
        + " current_setting('transaction_isolation') = 'read committed'"
        + " FROM input CROSS JOIN clock LEFT JOIN "
        + table
        + " r ON r.id = input.id ORDER BY input.ord";
  }

  /** The new ids of a batch, inserted in id order (so concurrent batches cannot deadlock). */
  private String batchInsertSql(String acquiredRow) {
    return "WITH clock AS (SELECT "
        + now()
        + " AS now_ms), input AS ("
        + BATCH_INPUT
        + ") INSERT INTO "
        + table
        + " (id, status, fingerprint, token, nonce, lease_until, expires_at, outcome)"
        + " SELECT input.id, "
        + acquiredRow.formatted("nextval('" + sequence + "')")
        + " FROM input CROSS JOIN clock ORDER BY input.id"
        + " ON CONFLICT (id) DO NOTHING RETURNING id, token";
  }

  /**
   * Ids of a batch whose record a read found dead: take over those still dead, read the rest (taken
   * by another claimer in between). An id whose record vanished since (released, purged) shows as
   * missing and is claimed again.
   */
  private String batchTakeSql(String acquiredRow) {
    return "WITH clock AS (SELECT "
        + now()
        + " AS now_ms), input AS ("
        + BATCH_INPUT
        + "), taken AS (UPDATE "
        + table
        + " r SET (status, fingerprint, token, nonce, lease_until, expires_at, outcome) = ("
        + acquiredRow.formatted("nextval('" + sequence + "')")
        + ") FROM input CROSS JOIN clock"
        + " WHERE r.id = ANY(ARRAY(SELECT id FROM input)) AND r.id = input.id AND "
        + dead("r", "clock.now_ms", "input.fp")
        + " RETURNING r.id, r.token),"
        + " existing AS (SELECT id, status, fingerprint, lease_until, expires_at, outcome FROM "
        + table
        + " WHERE id = ANY(ARRAY(SELECT id FROM input)))"
        + " SELECT input.ord, taken.token, r.status, r.fingerprint, r.lease_until, r.expires_at,"
        + " r.outcome, clock.now_ms,"
        + " COALESCE(taken.id IS NOT NULL AND r.status = 'P' AND r.expires_at > clock.now_ms, false)"
        + " FROM input CROSS JOIN clock LEFT JOIN taken ON taken.id = input.id"
        + " LEFT JOIN existing r ON r.id = input.id ORDER BY input.ord";
  }

  @Override
  protected List<Observed> claimRound(
      Connection c, List<ClaimRequest> requests, long offsetMs, ClaimMode mode, boolean mayBlock)
      throws SQLException {
    List<ClaimRequest> free = requests;
    Set<ByteBuffer> held = Set.of();
    // An inbox claim takes no advisory locks: it may wait, and its INSERT waits by itself for a
    // transaction that
    // holds the same new id (then the read-back misses the row and the id is claimed again). That
    // saves a lock
    // per id, which for big batches could also exhaust the shared lock table
    // (max_locks_per_transaction).
    if (mode.inCallerTransaction() && mode != ClaimMode.TRANSACTION_WAIT_COMPLETED) {
      held = lockKeys(c, requests, mayBlock);
      if (!held.isEmpty()) {
        free = new ArrayList<>();
        for (ClaimRequest r : requests) {
          if (!held.contains(ByteBuffer.wrap(r.key().digest()))) {
            free.add(r);
          }
        }
      }
    }
    boolean completed = mode == ClaimMode.TRANSACTION_WAIT_COMPLETED;
    boolean deferred = mode.inCallerTransaction() && !completed && defersTransactionalClaims();
    List<Observed> freeObserved = free.isEmpty() ? List.of() : null;
    if (deferred && !free.isEmpty()) {
      freeObserved =
          claimFree(
              c,
              free,
              offsetMs,
              free.size() == 1 ? singleReadClaimSql : batchReadClaimSql,
              true); // null under an older snapshot: claimed by writing, below
    }
    if (freeObserved == null) {
      freeObserved =
          free.size() == 1
              ? Objects.requireNonNull(
                  claimFree(
                      c,
                      free,
                      offsetMs,
                      completed ? singleCompletedClaimSql : singleClaimSql,
                      false))
              : claimBatch(c, free, offsetMs, completed);
    }
    if (held.isEmpty()) {
      return freeObserved;
    }
    List<Observed> out = new ArrayList<>(requests.size());
    int next = 0;
    for (ClaimRequest r : requests) {
      out.add(
          held.contains(ByteBuffer.wrap(r.key().digest()))
              ? Observed.held()
              : freeObserved.get(next++));
    }
    return out;
  }

  /**
   * Runs a claim statement; {@code null} when it was a deferred claim in a transaction whose
   * snapshot is older than the statement, which must claim by writing instead.
   */
  private @Nullable List<Observed> claimFree(
      Connection c, List<ClaimRequest> requests, long offsetMs, String sql, boolean deferred)
      throws SQLException {
    List<Observed> out = new ArrayList<>(requests.size());
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      if (requests.size() > 1) {
        planEachTime(ps);
      }
      bindInput(c, ps, requests, offsetMs);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (deferred && !rs.getBoolean(10)) {
            return null;
          }
          long token = rs.getLong(2);
          if (!rs.wasNull()) {
            out.add(Observed.acquired(token, rs.getBoolean(9)));
          } else if (rs.getString(3) == null) {
            out.add(
                Observed
                    .missing()); // conflicted with a row committed after this statement's snapshot
          } else {
            out.add(Observed.row(rs, 3));
          }
        }
      }
    }
    return out;
  }

  /**
   * Has pgjdbc send {@code ps} unnamed, so PostgreSQL plans it for its own arguments each time. A
   * generic plan, which a server-prepared statement gets after five executions, is costed without
   * knowing the array's length; made while the table was nearly empty (a new deployment, a
   * truncated table) it reads the batch's ids with a sequential scan, and keeps doing so as the
   * table grows until the next ANALYZE: 70 ms instead of 0.4 ms for 20 ids over 100,000 records. A
   * batch pays the planning once for all its ids. Single-key statements keep their cached plan: an
   * equality on the primary key is an index scan in every plan.
   */
  private static void planEachTime(PreparedStatement ps) throws SQLException {
    if (ps.isWrapperFor(PGStatement.class)) {
      ps.unwrap(PGStatement.class).setPrepareThreshold(0);
    }
  }

  /** Binds the offset and the requests as {@link #SINGLE_INPUT} or {@link #BATCH_INPUT} expect. */
  private static void bindInput(
      Connection c, PreparedStatement ps, List<ClaimRequest> requests, long offsetMs)
      throws SQLException {
    ps.setLong(1, offsetMs);
    if (requests.size() == 1) {
      ClaimRequest r = requests.get(0);
      ps.setBytes(2, r.key().digest());
      ps.setBytes(3, r.fingerprint().digest());
      ps.setLong(4, r.lease().toMillis());
      ps.setLong(5, r.retention().toMillis());
      return;
    }
    bindArrays(c, ps, 2, requests);
  }

  /**
   * Binds the requests' ids, fingerprints, leases and retentions as four arrays, from parameter
   * {@code first} on.
   */
  static void bindArrays(Connection c, PreparedStatement ps, int first, List<ClaimRequest> requests)
      throws SQLException {
    int n = requests.size();
    byte[][] ids = new byte[n][];
    byte[][] fps = new byte[n][];
    Long[] leases = new Long[n];
    Long[] retentions = new Long[n];
    for (int i = 0; i < n; i++) {
      ClaimRequest r = requests.get(i);
      ids[i] = r.key().digest();
      fps[i] = r.fingerprint().digest();
      leases[i] = r.lease().toMillis();
      retentions[i] = r.retention().toMillis();
    }
    ps.setArray(first, c.createArrayOf("bytea", ids));
    ps.setArray(first + 1, c.createArrayOf("bytea", fps));
    ps.setArray(first + 2, c.createArrayOf("int8", leases));
    ps.setArray(first + 3, c.createArrayOf("int8", retentions));
  }

  /**
   * A batch: first only inserts, which is all a batch of new ids (an inbox poll, mostly) needs;
   * then reads the records the insert met, and runs the takeover statement only for the dead ones
   * among them. The insert alone costs about half of the full claim statement, whose read-back
   * joins and takeover probe run over every id given to it; a plain read by primary key is all a
   * live duplicate (nearly every duplicate) needs.
   */
  private List<Observed> claimBatch(
      Connection c, List<ClaimRequest> requests, long offsetMs, boolean completed)
      throws SQLException {
    Map<ByteBuffer, Long> inserted = new HashMap<>();
    try (PreparedStatement ps =
        c.prepareStatement(completed ? batchCompletedInsertSql : batchInsertSql)) {
      bindInput(c, ps, requests, offsetMs);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          inserted.put(ByteBuffer.wrap(rs.getBytes(1)), rs.getLong(2));
        }
      }
    }
    List<ClaimRequest> rest = new ArrayList<>(requests.size() - inserted.size());
    for (ClaimRequest r : requests) {
      if (!inserted.containsKey(ByteBuffer.wrap(r.key().digest()))) {
        rest.add(r);
      }
    }
    Map<ByteBuffer, Observed> seen = rest.isEmpty() ? Map.of() : readRest(c, rest, offsetMs);
    // Only a dead record is worth the takeover statement; a live one (nearly every duplicate) is
    // answered from the read, without the takeover's UPDATE probe and joins.
    List<ClaimRequest> dead = new ArrayList<>();
    for (ClaimRequest r : rest) {
      Observed row = seen.get(ByteBuffer.wrap(r.key().digest()));
      if (row != null && classify(r, row) == null) {
        dead.add(r);
      }
    }
    Map<ByteBuffer, Observed> taken = new HashMap<>();
    if (!dead.isEmpty()) {
      String sql =
          dead.size() == 1
              ? (completed ? singleCompletedClaimSql : singleClaimSql)
              : (completed ? batchCompletedTakeSql : batchTakeSql);
      List<Observed> observed = Objects.requireNonNull(claimFree(c, dead, offsetMs, sql, false));
      for (int i = 0; i < dead.size(); i++) {
        taken.put(ByteBuffer.wrap(dead.get(i).key().digest()), observed.get(i));
      }
    }
    List<Observed> out = new ArrayList<>(requests.size());
    for (ClaimRequest r : requests) {
      ByteBuffer id = ByteBuffer.wrap(r.key().digest());
      Long token = inserted.get(id);
      // Neither inserted nor read: the record vanished in between (released, purged); the caller
      // claims it again.
      out.add(
          token != null
              ? Observed.acquired(token, false)
              : taken.containsKey(id) ? taken.get(id) : seen.get(id));
    }
    return out;
  }

  /** The records of ids the batch insert met, as committed now, by id. */
  private Map<ByteBuffer, Observed> readRest(Connection c, List<ClaimRequest> rest, long offsetMs)
      throws SQLException {
    Map<ByteBuffer, Observed> rows = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(readRestSql)) {
      planEachTime(ps);
      ps.setLong(1, offsetMs);
      byte[][] ids = new byte[rest.size()][];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = rest.get(i).key().digest();
      }
      ps.setArray(2, c.createArrayOf("bytea", ids));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.put(ByteBuffer.wrap(rs.getBytes(1)), Observed.row(rs, 2));
        }
      }
    }
    return rows;
  }

  /**
   * Transaction-scoped advisory locks keyed by the record id: a claim inside a caller's transaction
   * learns at once (or waits, in order) whether another open transaction holds the key, instead of
   * blocking on its uncommitted row. Returns the ids held elsewhere.
   */
  private static Set<ByteBuffer> lockKeys(Connection c, List<ClaimRequest> requests, boolean wait)
      throws SQLException {
    Long[] keys = new Long[requests.size()];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = ByteBuffer.wrap(requests.get(i).key().digest()).getLong();
    }
    String sorted = "(SELECT DISTINCT k FROM unnest(?::bigint[]) AS k ORDER BY k) AS sorted";
    String sql =
        wait
            // pg_advisory_xact_lock returns void; the inner query takes the locks in key order, the
            // outer says "held".
            ? "SELECT k, true FROM (SELECT k, pg_advisory_xact_lock(k) FROM "
                + sorted
                + ") AS locked"
            : "SELECT k, pg_try_advisory_xact_lock(k) FROM " + sorted;
    Set<Long> refused = new HashSet<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      Array array = c.createArrayOf("int8", keys);
      ps.setArray(1, array);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (!rs.getBoolean(2)) {
            refused.add(rs.getLong(1));
          }
        }
      }
    }
    Set<ByteBuffer> held = new HashSet<>();
    for (ClaimRequest r : requests) {
      if (refused.contains(ByteBuffer.wrap(r.key().digest()).getLong())) {
        held.add(ByteBuffer.wrap(r.key().digest()));
      }
    }
    return held;
  }

  @Override
  public void limitIdleTransaction(Connection c, Duration timeout) throws SQLException {
    // set_config(..., true) is SET LOCAL: it ends with the transaction, so the pooled session keeps
    // its own setting.
    try (PreparedStatement ps =
        c.prepareStatement("SELECT set_config('idle_in_transaction_session_timeout', ?, true)")) {
      ps.setString(1, Long.toString(timeout.toMillis()));
      ps.execute();
    }
  }

  @Override
  protected String purgeSql() {
    // SKIP LOCKED: never wait behind, nor delete under, a claim that holds the row right now.
    return "DELETE FROM "
        + table
        + " WHERE id IN (SELECT id FROM "
        + table
        + " WHERE "
        + purgeCondition()
        + " LIMIT ? FOR UPDATE SKIP LOCKED)";
  }
}
