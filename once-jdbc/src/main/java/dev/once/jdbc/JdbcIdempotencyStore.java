package dev.once.jdbc;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Completion;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.LeaseLostException;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.StoreAdmin;
import dev.once.StoreException;
import dev.once.jdbc.internal.ClaimMode;
import dev.once.jdbc.internal.PartitionSettings;
import dev.once.jdbc.internal.SchemaScript;
import dev.once.jdbc.internal.SqlErrors;
import dev.once.jdbc.internal.SqlOperations;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * An {@link IdempotencyStore} in a PostgreSQL, MariaDB, SQLite or H2 table (MySQL is not supported
 * yet).
 *
 * <pre>{@code
 * JdbcIdempotencyStore store = JdbcIdempotencyStore.builder(dataSource)
 *     .dialect(SqlDialect.POSTGRESQL)      // optional: detected from the connection
 *     .createSchema(true)                   // optional: or copy db/once/<dialect>/V1__once_records.sql
 *     .build();
 *
 * // Standalone: the store commits each step on its own pooled connection.
 * Once once = Once.builder(store).build();
 *
 * // Transactional: the claim and the result commit or roll back with your business writes.
 * try (Connection c = dataSource.getConnection()) {
 *   c.setAutoCommit(false);
 *   Execution<String> e = once.withStore(store.onConnection(c)).execute(key, fp, codec, () -> debit(c));
 *   c.commit();
 * }
 * }</pre>
 *
 * <p>Claims never raise a unique violation (PostgreSQL and SQLite {@code ON CONFLICT}, MariaDB
 * {@code ON DUPLICATE KEY}, H2 {@code MERGE}), so a lost race never aborts the caller's
 * transaction. Every time decision uses the database clock. The table holds the SHA-256 of (scope,
 * key), never the raw key.
 *
 * <p>On PostgreSQL the table may be {@link TableLayout#PARTITIONED partitioned} by expiry ({@link
 * Builder#layout}): the purge then drops whole partitions instead of deleting rows, and claims go
 * through a function of the schema that keeps one record per key across partitions.
 *
 * <p><b>SQLite</b> is the embedded store that survives a killed process; H2 is for tests and
 * development (not durable under kills). SQLite's connections must be set up for it, and {@link
 * Builder#build()} refuses a connection that is not:
 *
 * <ul>
 *   <li>{@code journal_mode=WAL}: a commit appends to the write-ahead log before it returns, and
 *       readers (replays, fail-fast peeks) never wait behind the writer;
 *   <li>{@code synchronous=FULL}: the log is synced on every commit, so a power loss or OS crash
 *       loses nothing acknowledged either ({@code NORMAL} survives a killed process, not a power
 *       loss);
 *   <li>{@code busy_timeout=<ms>} above zero: how long a writer waits for the database's single
 *       write lock; at zero every concurrent claim would fail at once;
 *   <li>recommended, {@code transaction_mode=IMMEDIATE} for the application's own transactions
 *       ({@link #onConnection}, a Spring transaction): they then take the write lock when they
 *       begin and can never fail half-way on it. A deferred transaction that reads before its claim
 *       gets a serialization failure (SQLState {@code 40001}: roll back and retry) if another
 *       connection committed in between, and cannot wait for the lock at all.
 * </ul>
 *
 * <p>e.g. {@code
 * jdbc:sqlite:data/app.db?journal_mode=WAL&synchronous=FULL&busy_timeout=10000&transaction_mode=IMMEDIATE}.
 * SQLite lets one transaction write at a time, and a claim writes: a claim in a caller's
 * transaction holds the whole database, not just its key, until that transaction ends. Under {@code
 * transaction_mode=IMMEDIATE} the caller's transactions queue at {@code BEGIN}, so a claim inside
 * one never meets another open holder and {@link ConcurrentClaimPolicy} makes no difference; with
 * deferred transactions, see {@link ConcurrentClaimPolicy} for what each policy does.
 */
public final class JdbcIdempotencyStore implements IdempotencyStore {

  private static final Pattern TABLE_NAME =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?");

  private final DataSource dataSource;
  private final SqlDialect dialect;
  private final String table;
  private final String name;
  private final ConcurrentClaimPolicy concurrentClaims;
  private final Duration idleTransactionTimeout;
  private final Supplier<Duration> clockOffset;
  private final TableLayout layout;
  private final SqlOperations sql;
  private final View standalone;

  private JdbcIdempotencyStore(Builder b, SqlDialect dialect) {
    this.dataSource = b.dataSource;
    this.dialect = dialect;
    this.table = b.table;
    this.name = b.name != null ? b.name : dialect.name().toLowerCase(java.util.Locale.ROOT);
    this.concurrentClaims = b.concurrentClaims;
    this.idleTransactionTimeout = b.idleTransactionTimeout;
    this.clockOffset = b.clockOffset;
    this.layout = b.layout;
    this.sql =
        b.layout == TableLayout.PARTITIONED
            ? SqlOperations.partitioned(
                table,
                new PartitionSettings(b.partitionWidth, b.partitionsAhead, b.partitionLockWait))
            : SqlOperations.of(dialect, table);
    Runner pooled =
        new Runner() {
          @Override
          public <T> T run(@Nullable Scope scope, String action, SqlWork<T> work) {
            return withConnection(scope, action, work);
          }
        };
    this.standalone = new View(pooled, ClaimMode.STANDALONE);
  }

  /**
   * Starts a builder over {@code dataSource}, with the defaults documented on its setters.
   *
   * @param dataSource where connections come from, usually a pool; not {@code null}
   * @return a new builder
   */
  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  /** {@return the SQL dialect the store speaks, set or detected} */
  public SqlDialect dialect() {
    return dialect;
  }

  /** {@return the records table's layout} */
  public TableLayout layout() {
    return layout;
  }

  /** {@return the records table, as configured (possibly schema-qualified)} */
  public String table() {
    return table;
  }

  @Override
  public String name() {
    return name;
  }

  /**
   * A view of this store that runs every step on {@code connection}, inside whatever transaction
   * the caller has open there: the record commits or rolls back with the caller's own writes, and
   * nothing here commits, rolls back or changes auto-commit. The view is as thread-safe as the
   * connection (that is, not).
   *
   * <p>Inside a transaction the uncommitted claim itself keeps other claimers out, so leases matter
   * only after commit. A claimer that meets a key held by another open transaction follows the
   * {@link ConcurrentClaimPolicy}. On PostgreSQL with {@link Builder#idleTransactionTimeout} set,
   * the claim also bounds how long the transaction may then sit idle, so a holder that vanished
   * does not keep the key for hours.
   *
   * @param connection the caller's connection, with its transaction open; not {@code null}
   * @return a store view bound to that connection; use it on the connection's thread only
   */
  public IdempotencyStore onConnection(Connection connection) {
    Objects.requireNonNull(connection, "connection");
    Runner onCallersConnection =
        new Runner() {
          @Override
          public <T> T run(@Nullable Scope scope, String action, SqlWork<T> work) {
            try {
              return work.run(connection);
            } catch (SQLException e) {
              throw SqlErrors.translate(e, name, scope, action);
            }
          }
        };
    return new View(
        onCallersConnection,
        concurrentClaims == ConcurrentClaimPolicy.WAIT
            ? ClaimMode.TRANSACTION_WAIT
            : ClaimMode.TRANSACTION_FAIL_FAST);
  }

  /**
   * Creates the table and index if they do not exist, from this dialect's and layout's schema
   * resource; in the {@link TableLayout#PARTITIONED partitioned} layout also the partitions ahead
   * that {@link Builder#partitionsAhead} asks for.
   */
  public void createSchema() {
    String ddl = schemaSql(dialect, layout, table);
    withConnection(
        null,
        "create schema",
        c -> {
          int statements = SchemaScript.execute(c, ddl);
          sql.afterSchemaCreated(c, offsetMs());
          return statements;
        });
  }

  /**
   * The schema DDL for {@code dialect}, with the table (and index) renamed to {@code table}: for
   * your migrations.
   *
   * @param dialect the database's dialect
   * @param table a plain SQL identifier, optionally schema-qualified
   * @return the DDL statements, separated by {@code ;}
   * @throws IllegalArgumentException if {@code table} is not a plain identifier
   */
  public static String schemaSql(SqlDialect dialect, String table) {
    return schemaSql(dialect, TableLayout.PLAIN, table);
  }

  /**
   * The schema DDL for {@code dialect} in {@code layout}, with the table and every object derived
   * from it (index, sequence, partitions, functions) renamed after {@code table}: for your
   * migrations. The partitioned layout's file holds PL/pgSQL functions whose bodies contain {@code
   * ;}: run it as one script (Flyway and Liquibase's {@code sqlFile} do), not split at every {@code
   * ;}.
   *
   * @param dialect the database's dialect
   * @param layout the table's layout
   * @param table a plain SQL identifier, optionally schema-qualified
   * @return the DDL statements, separated by {@code ;}
   * @throws IllegalArgumentException if {@code table} is not a plain identifier, or the layout is
   *     not available for the dialect
   */
  public static String schemaSql(SqlDialect dialect, TableLayout layout, String table) {
    checkTableName(table);
    Objects.requireNonNull(layout, "layout");
    return SchemaScript.render(
        JdbcIdempotencyStore.class, layout.schemaResource(dialect), "once_records", table, dialect);
  }

  private long offsetMs() {
    return clockOffset.get().toMillis();
  }

  @Override
  public ClaimResult claim(ClaimRequest request) {
    return standalone.claim(request);
  }

  @Override
  public List<ClaimResult> claimAll(List<ClaimRequest> requests) {
    return standalone.claimAll(requests);
  }

  @Override
  public void complete(IdempotencyKey key, long token, Outcome outcome, Duration retention) {
    standalone.complete(key, token, outcome, retention);
  }

  @Override
  public void release(IdempotencyKey key, long token) {
    standalone.release(key, token);
  }

  @Override
  public void renew(IdempotencyKey key, long token, Duration lease) {
    standalone.renew(key, token, lease);
  }

  /**
   * {@inheritDoc}
   *
   * <p>In the {@link TableLayout#PARTITIONED partitioned} layout a purge first creates the
   * partitions ahead ({@link Builder#partitionsAhead}), then drops every partition whose whole
   * range has passed, however many records it holds (the answer counts them, so it may exceed
   * {@code limit}), and then deletes at most {@code limit} expired records from the default
   * partition, one by one. A record in a partition whose range has not wholly passed stays until it
   * has: up to one {@link Builder#partitionWidth} past its retention. When another session holds
   * the table's lock for longer than {@link Builder#partitionLockWait}, the drop is left to the
   * next purge.
   */
  @Override
  public int purgeExpired(int limit) {
    return standalone.purgeExpired(limit);
  }

  /**
   * {@inheritDoc} Each operation runs on a pooled connection, never in a caller's transaction; the
   * check is a {@code SELECT COUNT(*) ... WHERE 1 = 0} on the table.
   */
  @Override
  public StoreAdmin admin() {
    return new StoreAdmin() {
      @Override
      public void check() {
        withConnection(
            null,
            "check",
            c -> {
              sql.check(c);
              return Boolean.TRUE;
            });
      }

      @Override
      public Optional<RecordInfo> inspect(IdempotencyKey key) {
        return withConnection(key.scope(), "inspect", c -> sql.inspect(c, key.digest(), offsetMs()))
            .filter(row -> !row.dead())
            .map(
                row ->
                    new RecordInfo(
                        row.status().equals("C") ? State.COMPLETED : State.IN_PROGRESS,
                        row.token(),
                        row.status().equals("C") ? null : Instant.ofEpochMilli(row.leaseUntil()),
                        Instant.ofEpochMilli(row.expiresAt()),
                        row.outcome()));
      }

      @Override
      public boolean forceRelease(IdempotencyKey key) {
        return withConnection(key.scope(), "force release", c -> sql.forceRelease(c, key.digest()));
      }

      @Override
      public RecordCounts count() {
        long[] counts = withConnection(null, "count", c -> sql.count(c, offsetMs()));
        return new RecordCounts(counts[0], counts[1], counts[2]);
      }
    };
  }

  private interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  /** Where a view's statements run: a pooled connection per step, or the caller's connection. */
  private interface Runner {
    <T> T run(@Nullable Scope scope, String action, SqlWork<T> work);
  }

  /**
   * Runs work on a pooled connection; commits it if the pool hands out connections in manual-commit
   * mode. A deadlock victim is run again: the work was its own transaction, rolled back whole.
   */
  private <T> T withConnection(@Nullable Scope scope, String action, SqlWork<T> work) {
    for (int attempt = 1; ; attempt++) {
      try {
        return withConnectionOnce(scope, action, work);
      } catch (StoreException e) {
        if (attempt >= 5
            || !(e.getCause() instanceof SQLException s)
            || !SqlErrors.isSerializationFailure(s)) {
          throw e;
        }
      }
    }
  }

  private <T> T withConnectionOnce(@Nullable Scope scope, String action, SqlWork<T> work) {
    try (Connection c = dataSource.getConnection()) {
      boolean manual = !c.getAutoCommit();
      try {
        T result = work.run(c);
        if (manual) {
          c.commit();
        }
        return result;
      } catch (SQLException | RuntimeException e) {
        if (manual) {
          rollbackQuietly(c, e);
        }
        throw e;
      }
    } catch (SQLException e) {
      throw SqlErrors.translate(e, name, scope, action);
    }
  }

  /**
   * A claim in the caller's transaction: bound how long that transaction may then sit idle holding
   * it.
   */
  private void limitIdleTransaction(Connection c) throws SQLException {
    if (!idleTransactionTimeout.isZero()) {
      sql.limitIdleTransaction(c, idleTransactionTimeout);
    }
  }

  private static void rollbackQuietly(Connection c, Exception failure) {
    try {
      c.rollback();
    } catch (SQLException e) {
      failure.addSuppressed(e);
    }
  }

  private static void checkTableName(String table) {
    if (table == null || !TABLE_NAME.matcher(table).matches()) {
      throw new IllegalArgumentException(
          "table must be a plain SQL identifier, optionally schema-qualified, but was '"
              + table
              + "'");
    }
  }

  @Override
  public String toString() {
    return "JdbcIdempotencyStore["
        + name
        + ", "
        + dialect
        + ", table "
        + table
        + (layout == TableLayout.PLAIN ? "" : ", " + layout)
        + "]";
  }

  /**
   * The inbox's claim on its own transaction's connection: waits for holders like {@link
   * ConcurrentClaimPolicy#WAIT}, and where the dialect can ({@link
   * SqlOperations#claimsCompleted()}), writes acquired records completed with an empty outcome at
   * once, because the effect commits or rolls back with them.
   *
   * @return the answers, and whether the acquired ones are already completed
   */
  InboxClaims claimForInbox(Connection connection, List<ClaimRequest> requests) {
    if (requests.isEmpty()) {
      return new InboxClaims(List.of(), false);
    }
    ClaimMode mode =
        sql.claimsCompleted() ? ClaimMode.TRANSACTION_WAIT_COMPLETED : ClaimMode.TRANSACTION_WAIT;
    try {
      limitIdleTransaction(connection);
      return new InboxClaims(
          sql.claim(connection, requests, offsetMs(), mode), sql.claimsCompleted());
    } catch (SQLException e) {
      throw SqlErrors.translate(e, name, requests.get(0).key().scope(), "claim");
    }
  }

  /** What {@link #claimForInbox} answers. */
  record InboxClaims(List<ClaimResult> results, boolean completed) {}

  /** A key a view acquired without writing: what completing it must write. */
  private record Deferred(long token, byte[] fingerprint) {}

  /** The store's operations, run by a {@link Runner} in a {@link ClaimMode}. */
  private final class View implements IdempotencyStore {
    private final Runner runner;
    private final ClaimMode mode;

    /**
     * Keys this view acquired without writing ({@link SqlOperations#defersTransactionalClaims}), by
     * digest: completing one writes its record; renewing or releasing it has nothing to change.
     */
    private final @Nullable Map<ByteBuffer, Deferred> deferred;

    View(Runner runner, ClaimMode mode) {
      this.runner = runner;
      this.mode = mode;
      this.deferred =
          mode != ClaimMode.STANDALONE && sql.defersTransactionalClaims() ? new HashMap<>() : null;
    }

    @Override
    public ClaimResult claim(ClaimRequest request) {
      return claimAll(List.of(request)).get(0);
    }

    @Override
    public List<ClaimResult> claimAll(List<ClaimRequest> requests) {
      if (requests.isEmpty()) {
        return List.of();
      }
      if (deferred != null && !deferred.isEmpty()) {
        return claimAround(requests);
      }
      List<ClaimResult> results =
          runner.run(
              requests.get(0).key().scope(),
              "claim",
              c -> {
                if (mode != ClaimMode.STANDALONE) {
                  limitIdleTransaction(c);
                }
                return sql.claim(c, requests, offsetMs(), mode);
              });
      if (deferred != null) {
        for (int i = 0; i < results.size(); i++) {
          if (results.get(i) instanceof ClaimResult.Acquired acquired) {
            ClaimRequest r = requests.get(i);
            deferred.put(
                ByteBuffer.wrap(r.key().digest()),
                new Deferred(acquired.token(), r.fingerprint().digest()));
          }
        }
      }
      return results;
    }

    /**
     * A key this view already holds unwritten is in progress, as its in-progress row would say: the
     * advisory lock is this session's own, so the database would let it through.
     */
    private List<ClaimResult> claimAround(List<ClaimRequest> requests) {
      Objects.requireNonNull(deferred);
      List<ClaimRequest> others = new ArrayList<>();
      for (ClaimRequest r : requests) {
        if (!deferred.containsKey(ByteBuffer.wrap(r.key().digest()))) {
          others.add(r);
        }
      }
      Map<ClaimRequest, ClaimResult> answered = new HashMap<>();
      List<ClaimResult> otherResults = others.isEmpty() ? List.of() : claimAll(others);
      for (int i = 0; i < others.size(); i++) {
        answered.put(others.get(i), otherResults.get(i));
      }
      List<ClaimResult> out = new ArrayList<>(requests.size());
      for (ClaimRequest r : requests) {
        ClaimResult result = answered.get(r);
        out.add(result != null ? result : new ClaimResult.InProgress(r.lease()));
      }
      return out;
    }

    @Override
    public void complete(IdempotencyKey key, long token, Outcome outcome, Duration retention) {
      byte[] bytes = outcome.toBytes();
      Deferred unwritten = takeDeferred(key, token);
      requireCurrent(
          runner.run(
              key.scope(),
              "complete",
              c ->
                  unwritten != null
                      ? sql.completeDeferred(
                          c,
                          key.digest(),
                          unwritten.fingerprint(),
                          token,
                          bytes,
                          retention.toMillis(),
                          offsetMs())
                      : sql.complete(
                          c, key.digest(), token, bytes, retention.toMillis(), offsetMs())),
          key,
          token,
          "complete");
    }

    @Override
    public void completeAll(List<Completion> completions) {
      if (completions.isEmpty()) {
        return;
      }
      if (deferred != null && !deferred.isEmpty()) {
        for (Completion c : completions) {
          complete(c.key(), c.token(), c.outcome(), c.retention());
        }
        return;
      }
      int n = completions.size();
      List<byte[]> ids = new ArrayList<>(n);
      List<byte[]> outcomes = new ArrayList<>(n);
      long[] tokens = new long[n];
      long[] retentions = new long[n];
      for (int i = 0; i < n; i++) {
        Completion c = completions.get(i);
        ids.add(c.key().digest());
        outcomes.add(c.outcome().toBytes());
        tokens[i] = c.token();
        retentions[i] = c.retention().toMillis();
      }
      IdempotencyKey firstKey = completions.get(0).key();
      boolean[] done =
          runner.run(
              firstKey.scope(),
              "complete",
              c -> sql.completeAll(c, ids, tokens, outcomes, retentions, offsetMs()));
      for (int i = 0; i < n; i++) {
        requireCurrent(done[i], completions.get(i).key(), tokens[i], "complete");
      }
    }

    @Override
    public void release(IdempotencyKey key, long token) {
      if (takeDeferred(key, token) != null) {
        // Usually nothing was written and this deletes nothing; but a claim under an older snapshot
        // writes its record (see SqlOperations#defersTransactionalClaims). The lock ends with the
        // transaction either way.
        runner.run(key.scope(), "release", c -> sql.release(c, key.digest(), token));
        return;
      }
      requireCurrent(
          runner.run(key.scope(), "release", c -> sql.release(c, key.digest(), token)),
          key,
          token,
          "release");
    }

    @Override
    public void renew(IdempotencyKey key, long token, Duration lease) {
      if (deferred != null) {
        Deferred unwritten = deferred.get(ByteBuffer.wrap(key.digest()));
        if (unwritten != null && unwritten.token() == token) {
          return; // no row holds a lease: the transaction's lock holds the key
        }
      }
      requireCurrent(
          runner.run(
              key.scope(),
              "renew",
              c -> sql.renew(c, key.digest(), token, lease.toMillis(), offsetMs())),
          key,
          token,
          "renew");
    }

    private @Nullable Deferred takeDeferred(IdempotencyKey key, long token) {
      if (deferred == null) {
        return null;
      }
      ByteBuffer id = ByteBuffer.wrap(key.digest());
      Deferred unwritten = deferred.get(id);
      if (unwritten == null || unwritten.token() != token) {
        return null;
      }
      deferred.remove(id);
      return unwritten;
    }

    @Override
    public int purgeExpired(int limit) {
      if (limit < 1) {
        throw new IllegalArgumentException("limit must be positive, but was " + limit);
      }
      return runner.run(null, "purge", c -> sql.purge(c, limit, offsetMs()));
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public boolean joinsCallerTransaction() {
      return mode != ClaimMode.STANDALONE;
    }

    private void requireCurrent(boolean done, IdempotencyKey key, long token, String operation) {
      if (!done) {
        throw new LeaseLostException(key.scope(), name, token, operation);
      }
    }
  }

  /** Builds a {@link JdbcIdempotencyStore}; every setter rejects a bad value at once. */
  public static final class Builder {
    private final DataSource dataSource;
    private @Nullable SqlDialect dialect;
    private String table = "once_records";
    private @Nullable String name;
    private ConcurrentClaimPolicy concurrentClaims = ConcurrentClaimPolicy.FAIL_FAST;
    private Supplier<Duration> clockOffset = () -> Duration.ZERO;
    private boolean createSchema;
    private Duration idleTransactionTimeout = Duration.ZERO;
    private TableLayout layout = TableLayout.PLAIN;
    private Duration partitionWidth = Duration.ofDays(1);
    private Duration partitionsAhead = Duration.ofDays(8);
    private Duration partitionLockWait = Duration.ofMillis(50);

    private Builder(DataSource dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * The SQL dialect. Default: detected from the database's product name on {@link #build()}.
     *
     * @param dialect not {@code null}
     * @return this builder
     */
    public Builder dialect(SqlDialect dialect) {
      this.dialect = Objects.requireNonNull(dialect, "dialect");
      return this;
    }

    /**
     * The table, optionally schema-qualified. Default {@code once_records}.
     *
     * @param table a plain SQL identifier, optionally schema-qualified
     * @return this builder
     * @throws IllegalArgumentException if {@code table} is not a plain identifier
     */
    public Builder table(String table) {
      checkTableName(table);
      this.table = table;
      return this;
    }

    /**
     * The name in messages and metrics. Default the dialect in lower case, e.g. {@code postgresql}.
     *
     * @param name not {@code null}
     * @return this builder
     */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /**
     * What a claim inside a transaction does when another open transaction holds the key. Default
     * FAIL_FAST.
     *
     * @param policy not {@code null}
     * @return this builder
     */
    public Builder concurrentClaims(ConcurrentClaimPolicy policy) {
      this.concurrentClaims = Objects.requireNonNull(policy, "concurrentClaims");
      return this;
    }

    /**
     * Shifts the database clock as this store sees it, for tests that move time (leases,
     * retention). The supplier is read on every statement. Default: no shift.
     *
     * @param offset added to the database's clock; not {@code null}
     * @return this builder
     */
    public Builder clockOffset(Supplier<Duration> offset) {
      this.clockOffset = Objects.requireNonNull(offset, "clockOffset");
      return this;
    }

    /**
     * PostgreSQL: how long a transaction that claimed keys ({@link #onConnection}, {@link
     * JdbcInbox}) may sit idle, no statement running, before the server ends it and rolls it back
     * ({@code SET LOCAL idle_in_transaction_session_timeout}, for that transaction only). A client
     * that vanishes mid-transaction without closing its connection (a network partition, a host
     * gone) otherwise holds its keys, answered in progress to every retry, until the server's TCP
     * keepalive gives up on it: two hours and more by default. Choose it longer than the longest
     * pause your code makes inside such a transaction (a slow remote call between two statements):
     * a transaction idle for longer is rolled back, and a retry runs it again. Default {@link
     * Duration#ZERO}: the server's own setting applies. Other dialects ignore it (MariaDB's {@code
     * idle_transaction_timeout} has no transaction-local form: set it on the server or the pool).
     *
     * @param timeout zero (off), or 1 ms to {@link Integer#MAX_VALUE} ms
     * @return this builder
     * @throws IllegalArgumentException if {@code timeout} is outside that range
     */
    public Builder idleTransactionTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "idleTransactionTimeout");
      if (timeout.isNegative()
          || (!timeout.isZero() && timeout.toMillis() < 1)
          || timeout.toMillis() > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "idleTransactionTimeout must be zero (off) or between 1 ms and "
                + Integer.MAX_VALUE
                + " ms, but was "
                + timeout);
      }
      this.idleTransactionTimeout = timeout;
      return this;
    }

    /**
     * The records table's layout. Default {@link TableLayout#PLAIN}.
     *
     * <p>{@link TableLayout#PARTITIONED} (PostgreSQL only) partitions the table by range on {@code
     * expires_at}; {@link JdbcIdempotencyStore#purgeExpired} then drops partitions whose whole
     * range has passed instead of deleting rows, and creates the partitions ahead. Every claim goes
     * through the schema's {@code <table>_claim} function, which takes a transaction-scoped
     * advisory lock per key (all of a batch's keys, in sorted order) and looks the key up across
     * the partitions: that keeps one record per key, and it needs {@code READ COMMITTED} (a claim
     * in a {@code REPEATABLE READ} or {@code SERIALIZABLE} transaction fails with SQLState {@code
     * 25000}). A batch holds one lock per key until its transaction ends, from PostgreSQL's shared
     * lock table ({@code max_locks_per_transaction} times connections). The table name's last part
     * may be at most 46 characters, so that partition names fit PostgreSQL's 63.
     *
     * @param layout not {@code null}
     * @return this builder
     */
    public Builder layout(TableLayout layout) {
      this.layout = Objects.requireNonNull(layout, "layout");
      return this;
    }

    /**
     * {@link TableLayout#PARTITIONED}: the range of {@code expires_at} each partition covers, so
     * also how long a record may outlive its retention before its partition is dropped. Default 1
     * day.
     *
     * @param width a whole number of seconds, at least 1 s
     * @return this builder
     * @throws IllegalArgumentException if {@code width} is shorter than a second or not whole
     *     seconds
     */
    public Builder partitionWidth(Duration width) {
      Objects.requireNonNull(width, "partitionWidth");
      if (width.compareTo(Duration.ofSeconds(1)) < 0 || width.getNano() != 0) {
        throw new IllegalArgumentException(
            "partitionWidth must be a whole number of seconds, at least 1 s, but was " + width);
      }
      this.partitionWidth = width;
      return this;
    }

    /**
     * {@link TableLayout#PARTITIONED}: how far past now {@link #createSchema} and every purge keep
     * partitions created. Choose it longer than the longest retention plus lease you claim with: a
     * record whose expiry has no partition lands in the default partition, and is purged row by
     * row. Default 8 days (the inbox keeps its markers 7). Zero: Once creates no partitions; your
     * migrations or a scheduled job call {@code <table>_add_partitions} instead.
     *
     * @param ahead zero or positive
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder partitionsAhead(Duration ahead) {
      Objects.requireNonNull(ahead, "partitionsAhead");
      if (ahead.isNegative()) {
        throw new IllegalArgumentException(
            "partitionsAhead must not be negative, but was " + ahead);
      }
      this.partitionsAhead = ahead;
      return this;
    }

    /**
     * {@link TableLayout#PARTITIONED}: the longest a purge waits for the exclusive lock that
     * dropping a partition (or attaching one next to the default partition) needs. Claims that
     * arrive meanwhile queue behind the purge, so this bounds their extra wait; when the lock is
     * not had in time, the purge leaves the partition to the next one. Zero never waits, which
     * under a steady load of claims may never find the table free. Default 50 ms.
     *
     * @param wait zero to {@link Integer#MAX_VALUE} ms
     * @return this builder
     * @throws IllegalArgumentException if negative or longer
     */
    public Builder partitionLockWait(Duration wait) {
      Objects.requireNonNull(wait, "partitionLockWait");
      if (wait.isNegative() || wait.toMillis() > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "partitionLockWait must be between 0 and "
                + Integer.MAX_VALUE
                + " ms, but was "
                + wait);
      }
      this.partitionLockWait = wait;
      return this;
    }

    /**
     * Whether {@link #build()} creates the table if it is missing. Default false: ship the schema
     * in your migrations.
     *
     * @param createSchema whether to create it
     * @return this builder
     */
    public Builder createSchema(boolean createSchema) {
      this.createSchema = createSchema;
      return this;
    }

    /**
     * Builds the store; detects the dialect when none was set and checks the connection (one
     * connection for both; SQLite's always), and creates the schema if asked.
     *
     * @return the store; thread-safe
     * @throws dev.once.StoreUnavailableException if the database must be asked and cannot be
     *     reached
     * @throws IllegalStateException if a SQLite connection lacks a setting the store needs ({@code
     *     journal_mode=WAL}, {@code synchronous=FULL}, a {@code busy_timeout} above zero), or a
     *     detected MariaDB server is older than 10.5; the message names it
     * @throws IllegalArgumentException if the layout is {@link TableLayout#PARTITIONED} and the
     *     dialect is not PostgreSQL, or the table's name is too long for its partitions' names
     */
    public JdbcIdempotencyStore build() {
      SqlDialect d = dialect;
      // A dialect set explicitly needs no connection to build, so a store can be built while its
      // database is down (a MariaDB server older than 10.5 then fails the first claim instead).
      if (d == null || d == SqlDialect.SQLITE) {
        try (Connection c = dataSource.getConnection()) {
          if (d == null) {
            d = SqlDialect.detect(c);
          }
          // SQLite's durability and waiting are connection settings, and MariaDB's claim needs
          // 10.5: refuse a store without them now rather than fail every claim later.
          SqlOperations.of(d, table).checkConnection(c);
        } catch (SQLException e) {
          throw SqlErrors.translate(e, "jdbc", null, "dialect detection");
        }
      }
      if (layout == TableLayout.PARTITIONED) {
        layout.schemaResource(d); // refuses a dialect other than PostgreSQL
        String plain = table.substring(table.indexOf('.') + 1);
        if (plain.length() > 46) {
          throw new IllegalArgumentException(
              "a PARTITIONED table's name may be at most 46 characters, so that its partitions'"
                  + " names (<table>_pYYYYMMDDtHHMMSS) fit PostgreSQL's 63, but '"
                  + plain
                  + "' has "
                  + plain.length());
        }
      }
      JdbcIdempotencyStore store = new JdbcIdempotencyStore(this, d);
      if (createSchema) {
        store.createSchema();
      }
      return store;
    }
  }
}
