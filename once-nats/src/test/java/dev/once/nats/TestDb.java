package dev.once.nats;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.jdbc.ConcurrentClaimPolicy;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * PostgreSQL (from {@link TestServers#postgres()}) with a unique {@code <prefix>_effects} log (no
 * unique constraint, so duplicates stay countable), {@code <prefix>_accounts} and the inbox table
 * {@code <prefix>_once}; all dropped on {@link #close}.
 */
final class TestDb implements AutoCloseable {

  final TestDatabase db = TestServers.postgres();
  final String prefix =
      "once_nats_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  final HikariDataSource pool;

  TestDb() throws SQLException {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(db.jdbcUrl());
    config.setUsername(db.user());
    config.setPassword(db.password());
    config.setMaximumPoolSize(3);
    pool = new HikariDataSource(config);
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE "
              + effects()
              + " (id BIGSERIAL PRIMARY KEY, msg_id VARCHAR(100) NOT NULL,"
              + " payload VARCHAR(200) NOT NULL, committed_at TIMESTAMPTZ NOT NULL DEFAULT now())");
      s.execute("CREATE TABLE " + accounts() + " (id INT PRIMARY KEY, balance BIGINT NOT NULL)");
    }
    store().createSchema();
  }

  String effects() {
    return prefix + "_effects";
  }

  String accounts() {
    return prefix + "_accounts";
  }

  String onceTable() {
    return prefix + "_once";
  }

  JdbcIdempotencyStore store() {
    return store(pool);
  }

  JdbcIdempotencyStore store(javax.sql.DataSource ds) {
    return JdbcIdempotencyStore.builder(ds)
        .table(onceTable())
        .concurrentClaims(ConcurrentClaimPolicy.WAIT)
        .build();
  }

  /** Effect rows per message id. */
  Map<String, Integer> effectCounts() throws SQLException {
    Map<String, Integer> counts = new HashMap<>();
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT msg_id, COUNT(*) FROM " + effects() + " GROUP BY msg_id")) {
      while (rs.next()) {
        counts.put(rs.getString(1), rs.getInt(2));
      }
    }
    return counts;
  }

  long scalar(String sql) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  long effectRows() throws SQLException {
    return scalar("SELECT COUNT(*) FROM " + effects());
  }

  /** Appends one effect row on the batch's connection. */
  static void log(Connection c, String effects, String msgId, String payload) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO " + effects + " (msg_id, payload) VALUES (?, ?)")) {
      ps.setString(1, msgId);
      ps.setString(2, payload);
      ps.executeUpdate();
    }
  }

  @Override
  public void close() throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + effects());
      s.execute("DROP TABLE IF EXISTS " + accounts());
      s.execute("DROP TABLE IF EXISTS " + onceTable());
      s.execute("DROP SEQUENCE IF EXISTS " + onceTable() + "_token_seq");
    } finally {
      pool.close();
    }
  }
}
