package dev.once.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.jdbc.internal.SchemaScript;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.security.MessageDigest;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The partitioned PostgreSQL schema's own functions on the real server, with partitions one second
 * wide so that records cross partition boundaries within a test: the claim function's per-key lock
 * keeps ids unique across partitions, and the maintenance functions create and drop partitions.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PartitionedSchemaIT {

  private static final TestDatabase DB = TestServers.postgres();
  private static final long SECOND = 1000;

  private final String table =
      "once_part_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  private HikariDataSource pool;

  @BeforeEach
  void createTable() throws SQLException {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(DB.jdbcUrl());
    config.setUsername(DB.user());
    config.setPassword(DB.password());
    config.setMaximumPoolSize(20);
    pool = new HikariDataSource(config);
    try (Connection c = pool.getConnection()) {
      SchemaScript.execute(
          c, JdbcIdempotencyStore.schemaSql(SqlDialect.POSTGRESQL, TableLayout.PARTITIONED, table));
    }
  }

  @AfterEach
  void dropTable() throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE " + table);
      s.execute("DROP SEQUENCE " + table + "_token_seq");
      for (String function :
          List.of(
              "_claim(bytea[], bytea[], bigint[], bigint[], bigint, boolean, bytea)",
              "_add_partitions(bigint, bigint, bigint, int)",
              "_drop_expired(bigint, int)")) {
        s.execute("DROP FUNCTION " + table + function);
      }
    } finally {
      pool.close();
    }
  }

  @Test
  void racingClaimsOfDeadRecordsAcrossPartitionBoundariesLeaveOneWinnerPerKeyAndRound()
      throws Exception {
    long now = databaseNow();
    assertThat(addPartitions(now, SECOND, 70 * SECOND, 1000)).isGreaterThanOrEqualTo(70);
    List<byte[]> keys = new ArrayList<>();
    for (int k = 0; k < 6; k++) {
      keys.add(sha256("key-" + k + "-" + UUID.randomUUID()));
    }
    int racers = 12;
    int rounds = 10;
    ExecutorService threads = Executors.newFixedThreadPool(racers);
    Set<String> partitionsOfFirstKey = new HashSet<>();
    try {
      for (int round = 0; round < rounds; round++) {
        // Each round's clock is 6 s past the last one's, whose records (lease and retention 5 s)
        // are dead by then: every racer may take them over, and a takeover moves the record to a
        // later partition.
        long offset = round * 6 * SECOND;
        CyclicBarrier start = new CyclicBarrier(racers);
        List<Future<List<Long>>> answers = new ArrayList<>();
        for (int r = 0; r < racers; r++) {
          List<byte[]> shuffled = new ArrayList<>(keys);
          Collections.shuffle(shuffled);
          answers.add(
              threads.submit(
                  () -> {
                    start.await();
                    try (Connection c = pool.getConnection()) {
                      return acquiredTokensInKeyOrder(c, shuffled, keys, offset, true, 5 * SECOND);
                    }
                  }));
        }
        int[] winners = new int[keys.size()];
        for (Future<List<Long>> answer : answers) {
          List<Long> tokens = answer.get(60, TimeUnit.SECONDS);
          for (int k = 0; k < keys.size(); k++) {
            if (tokens.get(k) != null) {
              winners[k]++;
            }
          }
        }
        for (int k = 0; k < keys.size(); k++) {
          assertThat(winners[k]).as("winners of key %d in round %d", k, round).isEqualTo(1);
        }
        partitionsOfFirstKey.add(partitionOf(keys.get(0)));
      }
    } finally {
      threads.shutdownNow();
      assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(duplicateIds()).as("ids stored more than once").isZero();
    assertThat(partitionsOfFirstKey)
        .as("partitions the first key's record moved through")
        .hasSize(rounds)
        .doesNotContain(table + "_default");
  }

  @Test
  void theWholeFileRunsAsOneScriptAndAgainWithoutChange() throws Exception {
    // What a migration tool that does not split the file (Liquibase's splitStatements: false)
    // sends: the driver runs the statements one after the other.
    String ddl =
        JdbcIdempotencyStore.schemaSql(SqlDialect.POSTGRESQL, TableLayout.PARTITIONED, table);
    long now = databaseNow();
    addPartitions(now, SECOND, 3 * SECOND, 1000);
    List<String> before = partitions();
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute(ddl);
    }
    assertThat(partitions()).isEqualTo(before);
    byte[] key = sha256("after-rerun-" + UUID.randomUUID());
    try (Connection c = pool.getConnection()) {
      assertThat(acquiredTokensInKeyOrder(c, List.of(key), List.of(key), 0, true))
          .doesNotContainNull();
    }
  }

  @Test
  void whileAnotherSessionMaintainsThePartitionsAPurgeSkipsThem() throws Exception {
    long now = databaseNow();
    addPartitions(now, SECOND, 3 * SECOND, 1000);
    List<String> before = partitions();
    try (Connection maintainer = pool.getConnection()) {
      maintainer.setAutoCommit(false);
      try (PreparedStatement ps =
          maintainer.prepareStatement(
              "SELECT pg_advisory_xact_lock(hashtext('dev.once partition maintenance'),"
                  + " hashtext(?::regclass::oid::text))")) {
        ps.setString(1, table);
        ps.execute();
      }
      assertThat(dropExpired(now + 60 * SECOND, 1000)).isZero();
      assertThat(addPartitions(now + 60 * SECOND, SECOND, 3 * SECOND, 1000)).isZero();
      assertThat(partitions()).isEqualTo(before);
      maintainer.rollback();
    }
    assertThat(addPartitions(now + 60 * SECOND, SECOND, 3 * SECOND, 1000)).isPositive();
    dropExpired(now + 60 * SECOND, 1000);
    assertThat(partitions()).doesNotContainAnyElementsOf(before.subList(1, before.size()));
  }

  @Test
  void aClaimerThatMayNotWaitReportsAKeyHeldByAnOpenTransaction() throws Exception {
    long now = databaseNow();
    addPartitions(now, SECOND, 10 * SECOND, 1000);
    byte[] key = sha256("held-" + UUID.randomUUID());
    try (Connection holder = pool.getConnection();
        Connection other = pool.getConnection()) {
      holder.setAutoCommit(false);
      assertThat(acquiredTokensInKeyOrder(holder, List.of(key), List.of(key), 0, true).get(0))
          .isNotNull();
      try (ResultSet rs = claim(other, List.of(key), 0, false)) {
        rs.next();
        assertThat(rs.getBoolean("c_held")).as("held by the open transaction").isTrue();
      }
      holder.commit();
      try (ResultSet rs = claim(other, List.of(key), 0, false)) {
        rs.next();
        assertThat(rs.getBoolean("c_held")).isFalse();
        assertThat(rs.getString("c_status"))
            .as("the committed record, as it stands")
            .isEqualTo("P");
      }
    }
  }

  @Test
  void aClaimOutsideReadCommittedIsRefusedWithTheLevel() throws Exception {
    try (Connection c = pool.getConnection()) {
      c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      c.setAutoCommit(false);
      try {
        assertThatThrownBy(() -> claim(c, List.of(sha256("rr")), 0, true).close())
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("need READ COMMITTED, but the transaction is REPEATABLE READ")
            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("25000"));
      } finally {
        c.rollback();
        c.setAutoCommit(true);
        c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
      }
    }
  }

  @Test
  void dropExpiredDropsOnlyPartitionsWhoseWholeRangeHasPassedAndCountsTheirRows() throws Exception {
    long now = databaseNow();
    addPartitions(now, SECOND, 10 * SECOND, 1000);
    assertThat(addPartitions(now, SECOND, 10 * SECOND, 1000)).as("created again").isZero();
    // Lease and retention 0: each record expires at its claim's clock, 0, 2, 4 and 6 s ahead, so
    // each in a partition of its own; one more lands 1 h ahead, where no partition exists.
    List<byte[]> keys = new ArrayList<>();
    for (long offset : new long[] {0, 2 * SECOND, 4 * SECOND, 6 * SECOND}) {
      byte[] key = sha256("expiring-" + offset + "-" + UUID.randomUUID());
      try (Connection c = pool.getConnection()) {
        assertThat(acquiredTokensInKeyOrder(c, List.of(key), List.of(key), offset, true, 0))
            .doesNotContainNull();
      }
      keys.add(key);
    }
    byte[] late = sha256("late-" + UUID.randomUUID());
    try (Connection c = pool.getConnection()) {
      acquiredTokensInKeyOrder(c, List.of(late), List.of(late), 3_600_000, true, 0);
    }
    assertThat(partitionOf(late)).isEqualTo(table + "_default");
    List<String> before = partitions();
    List<String> partitionsOfKeys = new ArrayList<>();
    for (byte[] key : keys) {
      partitionsOfKeys.add(partitionOf(key));
    }
    assertThat(partitionsOfKeys).doesNotHaveDuplicates().doesNotContain(table + "_default");

    // The end of the third record's partition: that partition and every one before it have passed.
    long thirdExpiry = longQuery("SELECT expires_at FROM " + table + " WHERE id = ?", keys.get(2));
    long dropAt = (thirdExpiry / SECOND + 1) * SECOND;
    assertThat(dropExpired(dropAt, 0)).as("rows of the partitions that have passed").isEqualTo(3);
    assertThat(rows()).isEqualTo(2);
    assertThat(partitions())
        .doesNotContainAnyElementsOf(partitionsOfKeys.subList(0, 3))
        .contains(partitionsOfKeys.get(3), table + "_default")
        .hasSize(
            before.size()
                - (int)
                    before.stream()
                        .filter(
                            p ->
                                !p.endsWith("_default")
                                    && p.compareTo(partitionsOfKeys.get(2)) <= 0)
                        .count());
    assertThat(dropExpired(dropAt, 0)).as("dropped again").isZero();
  }

  @Test
  void dropExpiredNeverWaitsBehindAnOpenClaimBeyondItsLockWait() throws Exception {
    long now = databaseNow();
    int created = addPartitions(now, SECOND, 4 * SECOND, 1000);
    byte[] key = sha256("open-" + UUID.randomUUID());
    try (Connection holder = pool.getConnection()) {
      holder.setAutoCommit(false);
      acquiredTokensInKeyOrder(holder, List.of(key), List.of(key), 0, true);
      long started = System.nanoTime();
      assertThat(dropExpired(now + 60 * SECOND, 200)).as("dropped while a claim is open").isZero();
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))
          .as("ms spent waiting for the lock")
          .isLessThan(5000);
      assertThat(partitions()).hasSize(created + 1);
      holder.commit();
    }
    assertThat(dropExpired(now + 60 * SECOND, 200)).as("rows dropped after the commit").isOne();
    assertThat(partitions()).containsExactly(table + "_default");
  }

  private List<Long> acquiredTokensInKeyOrder(
      Connection c, List<byte[]> claimOrder, List<byte[]> keyOrder, long offset, boolean wait)
      throws SQLException {
    return acquiredTokensInKeyOrder(c, claimOrder, keyOrder, offset, wait, SECOND);
  }

  /** Claims in {@code claimOrder}; answers each key's acquired token (or null) in keyOrder. */
  private List<Long> acquiredTokensInKeyOrder(
      Connection c,
      List<byte[]> claimOrder,
      List<byte[]> keyOrder,
      long offset,
      boolean wait,
      long leaseAndRetention)
      throws SQLException {
    List<Long> tokens = new ArrayList<>(Collections.nCopies(keyOrder.size(), null));
    try (ResultSet rs = claim(c, claimOrder, offset, wait, leaseAndRetention)) {
      while (rs.next()) {
        long token = rs.getLong("c_token");
        if (!rs.wasNull()) {
          byte[] claimed = claimOrder.get(rs.getInt("c_ord") - 1);
          for (int k = 0; k < keyOrder.size(); k++) {
            if (keyOrder.get(k) == claimed) {
              tokens.set(k, token);
            }
          }
        }
      }
    }
    return tokens;
  }

  private ResultSet claim(Connection c, List<byte[]> keys, long offset, boolean wait)
      throws SQLException {
    return claim(c, keys, offset, wait, SECOND);
  }

  private ResultSet claim(
      Connection c, List<byte[]> keys, long offset, boolean wait, long leaseAndRetention)
      throws SQLException {
    PreparedStatement ps =
        c.prepareStatement("SELECT * FROM " + table + "_claim(?, ?, ?, ?, ?, ?, NULL)");
    ps.closeOnCompletion();
    Long[] times = Collections.nCopies(keys.size(), leaseAndRetention).toArray(Long[]::new);
    byte[][] ids = keys.toArray(byte[][]::new);
    Array fingerprints =
        c.createArrayOf(
            "bytea", Collections.nCopies(keys.size(), sha256("fp")).toArray(byte[][]::new));
    ps.setArray(1, c.createArrayOf("bytea", ids));
    ps.setArray(2, fingerprints);
    ps.setArray(3, c.createArrayOf("int8", times));
    ps.setArray(4, c.createArrayOf("int8", times));
    ps.setLong(5, offset);
    ps.setBoolean(6, wait);
    return ps.executeQuery();
  }

  private int addPartitions(long now, long width, long ahead, int lockWaitMs) throws SQLException {
    return (int)
        longQuery("SELECT " + table + "_add_partitions(?, ?, ?, ?)", now, width, ahead, lockWaitMs);
  }

  private long dropExpired(long now, int lockWaitMs) throws SQLException {
    return longQuery("SELECT " + table + "_drop_expired(?, ?)", now, lockWaitMs);
  }

  private long databaseNow() throws SQLException {
    return longQuery("SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint");
  }

  private long rows() throws SQLException {
    return longQuery("SELECT count(*) FROM " + table);
  }

  private long duplicateIds() throws SQLException {
    return longQuery(
        "SELECT count(*) FROM (SELECT id FROM " + table + " GROUP BY id HAVING count(*) > 1) d");
  }

  private List<String> partitions() throws SQLException {
    List<String> names = new ArrayList<>();
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = ?::regclass"
                    + " ORDER BY 1")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          names.add(rs.getString(1));
        }
      }
    }
    return names;
  }

  private String partitionOf(byte[] key) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT tableoid::regclass::text FROM " + table + " WHERE id = ?")) {
      ps.setBytes(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("a row for the key").isTrue();
        return rs.getString(1);
      }
    }
  }

  private long longQuery(String sql, Object... parameters) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < parameters.length; i++) {
        ps.setObject(i + 1, parameters[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
