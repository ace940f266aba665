package dev.once.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
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
 * The effect side of a broker inbox test: PostgreSQL (from {@link TestServers#postgres()}) with a
 * {@code <prefix>_effects} log (no unique constraint, so duplicates stay countable) and {@code
 * <prefix>_accounts}, both dropped on {@link #close}. A broker module's tests extend it with their
 * inbox table ({@link #dropAlso}).
 */
public class EffectTables implements AutoCloseable {

  /** The server. */
  public final TestDatabase db = TestServers.postgres();

  /** This instance's table prefix, unique per instance. */
  public final String prefix;

  /** A small pool on {@link #db}. */
  public final HikariDataSource pool;

  /**
   * Creates the two tables under a fresh prefix.
   *
   * @param prefixStart what the prefix starts with, e.g. {@code once_nats_}
   * @throws SQLException if the tables cannot be created
   */
  protected EffectTables(String prefixStart) throws SQLException {
    prefix = prefixStart + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
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
  }

  /** {@return the effect log's name} */
  public final String effects() {
    return prefix + "_effects";
  }

  /** {@return the accounts table's name} */
  public final String accounts() {
    return prefix + "_accounts";
  }

  /**
   * {@return the effect rows per message id}
   *
   * @throws SQLException if the query fails
   */
  public final Map<String, Integer> effectCounts() throws SQLException {
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

  /**
   * {@return the first column of the query's first row, as a long}
   *
   * @param sql a query with one row
   * @throws SQLException if the query fails
   */
  public final long scalar(String sql) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * {@return how many effect rows there are}
   *
   * @throws SQLException if the query fails
   */
  public final long effectRows() throws SQLException {
    return scalar("SELECT COUNT(*) FROM " + effects());
  }

  /**
   * Checks the bank workload's invariant (the broker chaos tests' {@code deposit <account>
   * <amount>} and {@code transfer <from> <to> <amount>} commands): the sum of {@link #accounts()}'
   * balances is {@code accounts * initial} plus the deposits committed so far, each as often as its
   * id has effect rows, and no balance is negative.
   *
   * @param accounts how many accounts the test created
   * @param initial each account's opening balance
   * @param sent every command sent, by id
   * @throws SQLException if a query fails
   */
  public final void assertBankConserved(int accounts, long initial, Map<String, String> sent)
      throws SQLException {
    long deposited = 0;
    for (Map.Entry<String, Integer> e : effectCounts().entrySet()) {
      String body = sent.get(e.getKey());
      if (body != null && body.startsWith("deposit ")) {
        deposited += Long.parseLong(body.substring(body.lastIndexOf(' ') + 1)) * e.getValue();
      }
    }
    long sum = scalar("SELECT COALESCE(SUM(balance), 0) FROM " + accounts());
    assertThat(sum).as("sum of balances").isEqualTo(accounts * initial + deposited);
    assertThat(scalar("SELECT COUNT(*) FROM " + accounts() + " WHERE balance < 0"))
        .as("accounts with a negative balance")
        .isZero();
  }

  /**
   * Appends one effect row on the batch's connection.
   *
   * @param c the batch's connection
   * @param effects the effect log's name
   * @param msgId the message's id
   * @param payload what the message carried
   * @throws SQLException if the insert fails
   */
  public static void log(Connection c, String effects, String msgId, String payload)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO " + effects + " (msg_id, payload) VALUES (?, ?)")) {
      ps.setString(1, msgId);
      ps.setString(2, payload);
      ps.executeUpdate();
    }
  }

  /**
   * Drops what a subclass created, before the pool closes.
   *
   * @param s a statement on the pool
   * @throws SQLException if a drop fails
   */
  protected void dropAlso(Statement s) throws SQLException {}

  @Override
  public void close() throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + effects());
      s.execute("DROP TABLE IF EXISTS " + accounts());
      dropAlso(s);
    } finally {
      pool.close();
    }
  }
}
