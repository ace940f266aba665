package dev.once.benchmarks;

import dev.once.IdempotencyKey;
import dev.once.Outcome;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.SqlDialect;
import dev.once.testkit.servers.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * PostgreSQL, found or started by the test kit. Everything lives in schema {@value #SCHEMA},
 * dropped at the end. The ceiling is {@code INSERT ... ON CONFLICT DO NOTHING}: one row per
 * autocommit statement, or a whole batch through {@code unnest(?)} with {@code RETURNING}, so the
 * caller learns which keys were new, as a claim does. The peers (Camel, Spring Integration, the
 * naive check-then-insert) run here too.
 */
final class PostgresTarget extends JdbcTarget {

  static final String SCHEMA = "once_bench";

  private final TestDatabase db;

  /**
   * Rows the measured claims added to each growth table, shared by its single and batched
   * scenarios.
   */
  private final java.util.Map<String, AtomicLong> added =
      new java.util.concurrent.ConcurrentHashMap<>();

  private PostgresTarget(TestDatabase db, String url, int threads) throws SQLException {
    super(url, db.user(), db.password(), SqlDialect.POSTGRESQL, threads);
    this.db = db;
  }

  static PostgresTarget open(TestDatabase db, int threads) throws SQLException {
    try (Connection c = db.connect();
        java.sql.Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
      s.execute("CREATE SCHEMA " + SCHEMA);
    }
    String url =
        db.jdbcUrl() + (db.jdbcUrl().contains("?") ? "&" : "?") + "currentSchema=" + SCHEMA;
    return new PostgresTarget(db, url, threads);
  }

  @Override
  String name() {
    return "PostgreSQL";
  }

  @Override
  String where() {
    return db.description();
  }

  @Override
  String version() {
    try {
      return "PostgreSQL " + queryString("SHOW server_version");
    } catch (SQLException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  @Override
  List<String> settings() {
    return settingLines(
        "fsync",
        "SHOW fsync",
        "synchronous_commit",
        "SHOW synchronous_commit",
        "wal_sync_method",
        "SHOW wal_sync_method",
        "shared_buffers",
        "SHOW shared_buffers");
  }

  @Override
  ProcCpu.Source serverCpu() {
    if (!Benchmarks.isLoopback(db.host())) {
      return ProcCpu.none("not counted: the server runs at " + db.host() + ", not on this machine");
    }
    try {
      return ProcCpu.postgres(queryLong("SELECT pg_backend_pid()"));
    } catch (SQLException e) {
      return ProcCpu.none("not counted: " + e.getMessage());
    }
  }

  @Override
  long walBytes() {
    try {
      return queryLong("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint");
    } catch (SQLException e) {
      return -1;
    }
  }

  @Override
  String rawTableDdl() {
    return "CREATE TABLE " + RAW_TABLE + " (id bytea PRIMARY KEY)";
  }

  @Override
  String ceilingLabel(int batch) {
    return batch == 1
        ? "INSERT ON CONFLICT DO NOTHING"
        : "INSERT SELECT unnest(?) ON CONFLICT DO NOTHING RETURNING";
  }

  @Override
  Scenario.Factory ceiling(int batch) {
    return ds ->
        new Variant() {
          @Override
          public void reset() throws SQLException {
            execute(truncate(RAW_TABLE));
          }

          @Override
          public void process(List<IdempotencyKey> keys, Answers answers) throws SQLException {
            try (Connection c = ds.getConnection()) {
              if (keys.size() == 1) {
                try (PreparedStatement ps =
                    c.prepareStatement(
                        "INSERT INTO " + RAW_TABLE + " (id) VALUES (?) ON CONFLICT DO NOTHING")) {
                  ps.setBytes(1, keys.get(0).digest());
                  count(ps.executeUpdate(), 1, answers);
                }
              } else {
                try (PreparedStatement ps =
                    c.prepareStatement(
                        "INSERT INTO "
                            + RAW_TABLE
                            + " (id) SELECT unnest(?::bytea[]) ON CONFLICT DO NOTHING RETURNING id")) {
                  ps.setArray(1, c.createArrayOf("bytea", digests(keys)));
                  int inserted = 0;
                  try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                      inserted++;
                    }
                  }
                  count(inserted, keys.size(), answers);
                }
              }
            }
          }
        };
  }

  static void count(int inserted, int keys, Answers answers) {
    answers.fresh += inserted;
    answers.duplicate += keys - inserted;
  }

  @Override
  List<Scenario> extraScenarios(int dupPercent) {
    DataSource ds = pool;
    return List.of(
        new Scenario(
            name(),
            Scenario.Kind.PEER,
            Peers.CAMEL,
            1,
            dupPercent,
            ds,
            d -> Peers.camel(d, this::execute)),
        new Scenario(
            name(),
            Scenario.Kind.PEER,
            Peers.SPRING,
            1,
            dupPercent,
            ds,
            d -> Peers.spring(d, this::execute)),
        new Scenario(
            name(),
            Scenario.Kind.PEER,
            Peers.NAIVE,
            1,
            dupPercent,
            ds,
            d -> Peers.naive(d, this::execute)));
  }

  /**
   * Claim throughput as the table grows: one Once table per size, filled with real records (SHA-256
   * ids of the series, completed, unexpired) by one {@code INSERT ... SELECT generate_series},
   * vacuumed and analysed so autovacuum does not wake during the measurement. Before every
   * repetition each table is put back to its loaded rows (the empty one truncated, the others lose
   * the rows claims added, then VACUUM); the report shows how many rows each measured window met,
   * since claims add rows as they run.
   */
  List<Scenario> growthScenarios(List<Integer> sizes, long[] loadMillis) throws SQLException {
    List<Scenario> single = new ArrayList<>();
    List<Scenario> batched = new ArrayList<>();
    for (int i = 0; i < sizes.size(); i++) {
      int rows = sizes.get(i);
      String table = "once_grow_" + rows;
      long start = System.nanoTime();
      load(table, rows);
      loadMillis[i] = (System.nanoTime() - start) / 1_000_000;
      String label = String.format(java.util.Locale.ROOT, "Once claim, %,d keys loaded", rows);
      single.add(
          new Scenario(
              name(), Scenario.Kind.ONCE_CLAIM, label, 1, 0, pool, ds -> growth(ds, table, rows)));
      batched.add(
          new Scenario(
              name(),
              Scenario.Kind.ONCE_CLAIM,
              label,
              1000,
              0,
              pool,
              ds -> growth(ds, table, rows)));
    }
    single.addAll(batched);
    return single;
  }

  private void load(String table, int rows) throws SQLException {
    execute("DROP TABLE IF EXISTS " + table, "DROP SEQUENCE IF EXISTS " + table + "_token_seq");
    store(table).createSchema();
    if (rows == 0) {
      return;
    }
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO "
                    + table
                    + " (id, status, fingerprint, token, nonce, lease_until, expires_at, outcome)"
                    + " SELECT sha256(int8send(i)), 'C', ?, i, n.ms, n.ms, n.ms + 30 * 86400000::bigint, ?"
                    + " FROM generate_series(1::bigint, ?::bigint) AS i,"
                    + " (SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint AS ms) AS n")) {
      ps.setBytes(1, OnceVariants.FINGERPRINT.digest());
      ps.setBytes(2, Outcome.empty().toBytes());
      ps.setLong(3, rows);
      ps.executeUpdate();
    }
    execute(
        "SELECT setval('" + table + "_token_seq', " + (rows + 1L) + ")",
        "VACUUM (ANALYZE) " + table);
  }

  private Variant growth(DataSource ds, String table, long loaded) {
    JdbcIdempotencyStore store = store(ds, table);
    AtomicLong added = this.added.computeIfAbsent(table, t -> new AtomicLong());
    Variant claim =
        OnceVariants.claim(
            () -> store,
            () -> {
              if (loaded == 0) {
                execute(truncate(table));
              } else {
                // Loaded rows have tokens 1..loaded; every claim since took a larger one from the
                // sequence.
                execute("DELETE FROM " + table + " WHERE token > " + loaded, "VACUUM " + table);
              }
              added.set(0);
            });
    return new Variant() {
      @Override
      public void reset() throws Exception {
        claim.reset();
      }

      @Override
      public void process(List<IdempotencyKey> keys, Answers answers) throws Exception {
        int before = answers.fresh;
        claim.process(keys, answers);
        added.addAndGet(answers.fresh - before);
      }

      @Override
      public long existingRows() {
        return loaded + added.get();
      }
    };
  }

  @Override
  public void close() {
    try {
      execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
    } catch (SQLException e) {
      // the next run drops it first
    }
    pool.close();
  }
}
