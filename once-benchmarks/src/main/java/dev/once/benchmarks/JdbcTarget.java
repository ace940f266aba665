package dev.once.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.IdempotencyKey;
import dev.once.jdbc.ConcurrentClaimPolicy;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.SqlDialect;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * A SQL store: one pool shared by Once, the ceiling and the peers, with one connection per client
 * thread and two spare, all opened up front so no scenario pays for a connect. Once's table is
 * {@value #ONCE_TABLE} and the ceiling's {@value #RAW_TABLE}; both are emptied before every
 * repetition.
 */
abstract class JdbcTarget extends Target {

  static final String ONCE_TABLE = "once_bench";
  static final String RAW_TABLE = "bench_raw";

  protected final HikariDataSource pool;
  protected final SqlDialect dialect;

  JdbcTarget(String url, String user, String password, SqlDialect dialect, int threads)
      throws SQLException {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(threads + 2);
    config.setMinimumIdle(threads + 2);
    config.setPoolName("bench-" + dialect.name().toLowerCase(java.util.Locale.ROOT));
    this.pool = new HikariDataSource(config);
    this.dialect = dialect;
    try {
      execute(
          "DROP TABLE IF EXISTS " + ONCE_TABLE,
          "DROP SEQUENCE IF EXISTS " + ONCE_TABLE + "_token_seq",
          "DROP TABLE IF EXISTS " + RAW_TABLE,
          rawTableDdl());
      store(ONCE_TABLE).createSchema();
    } catch (SQLException | RuntimeException e) {
      pool.close();
      throw e;
    }
  }

  /** CREATE TABLE for the ceiling: the key alone, as its primary key. */
  abstract String rawTableDdl();

  /** SQL that empties a table quickly. */
  String truncate(String table) {
    return "TRUNCATE TABLE " + table;
  }

  JdbcIdempotencyStore store(String table) {
    return JdbcIdempotencyStore.builder(pool).dialect(dialect).table(table).build();
  }

  JdbcIdempotencyStore store(DataSource ds, String table) {
    return JdbcIdempotencyStore.builder(ds).dialect(dialect).table(table).build();
  }

  @Override
  DataSource dataSource() {
    return pool;
  }

  @Override
  Scenario.Factory onceClaim(int batch) {
    return ds ->
        OnceVariants.claim(() -> store(ds, ONCE_TABLE), () -> execute(truncate(ONCE_TABLE)));
  }

  @Override
  Scenario.Factory onceCycle(int batch) {
    // WAIT: a consumer waits for a concurrent transaction on the same key instead of spinning on
    // redelivery.
    return ds ->
        OnceVariants.transactionalCycle(
            JdbcIdempotencyStore.builder(ds)
                .dialect(dialect)
                .table(ONCE_TABLE)
                .concurrentClaims(ConcurrentClaimPolicy.WAIT)
                .build(),
            ds,
            () -> execute(truncate(ONCE_TABLE)));
  }

  @Override
  String cycleLabel(int batch) {
    return batch == 1 ? "Once execute, 1 tx" : "Once claimAll + complete each, 1 tx";
  }

  void execute(String... sql) throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      for (String statement : sql) {
        s.execute(statement);
      }
    }
  }

  String queryString(String sql) throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  long queryLong(String sql) throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static byte[][] digests(List<IdempotencyKey> keys) {
    byte[][] out = new byte[keys.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = keys.get(i).digest();
    }
    return out;
  }

  /** "name = value" lines for the report. */
  List<String> settingLines(String... nameAndSql) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < nameAndSql.length; i += 2) {
      try {
        out.add(nameAndSql[i] + " = " + queryString(nameAndSql[i + 1]));
      } catch (SQLException e) {
        out.add(nameAndSql[i] + ": not readable (" + e.getMessage() + ")");
      }
    }
    return out;
  }

  @Override
  public void close() {
    try {
      execute(
          "DROP TABLE IF EXISTS " + RAW_TABLE,
          "DROP TABLE IF EXISTS " + ONCE_TABLE,
          "DROP SEQUENCE IF EXISTS " + ONCE_TABLE + "_token_seq");
    } catch (SQLException e) {
      // leave it; the next run drops it first
    }
    pool.close();
  }
}
