package dev.once.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.LeaseLostException;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.testkit.ChildJvm;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Claims raced by several JVMs, and claimers killed with SIGKILL mid-flight, on the real PostgreSQL
 * and MariaDB servers and on one SQLite file shared by the processes. The children run {@link
 * ClaimWorker}.
 */
class MultiProcessIT {

  private final List<ChildJvm> children = new ArrayList<>();
  private final List<HikariDataSource> pools = new ArrayList<>();

  static Stream<TestDatabase> databases() {
    return Stream.of(TestServers.postgres(), TestServers.mariadb(), JdbcInboxIT.sqlite());
  }

  private final List<String> dropStatements = new ArrayList<>();

  @AfterEach
  void killChildrenDropTablesAndClosePools() throws SQLException {
    children.forEach(c -> c.process().destroyForcibly());
    for (HikariDataSource pool : pools) {
      try (Connection c = pool.getConnection();
          Statement s = c.createStatement()) {
        for (String drop : dropStatements) {
          s.execute(drop);
        }
      } finally {
        pool.close();
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void fourProcessesRacingForThreeHundredKeysAcquireEachExactlyOnce(TestDatabase db)
      throws Exception {
    Fixture f = fixture(db);
    int keys = 300;
    for (int i = 0; i < 4; i++) {
      children.add(
          start(db, "race", f.table, f.tenant, Integer.toString(keys), Long.toString(1000 + i)));
    }
    await()
        .atMost(Duration.ofMinutes(2))
        .until(() -> children.stream().allMatch(c -> c.saw("DONE")));

    Map<Integer, Integer> acquisitions = new HashMap<>();
    for (ChildJvm c : children) {
      assertThat(c.process().isAlive() ? 0 : c.process().exitValue())
          .as("exit code of a racer")
          .isZero();
      for (String line : c.lines()) {
        if (line.startsWith("ACQUIRED ")) {
          acquisitions.merge(Integer.parseInt(line.substring(9)), 1, Integer::sum);
        }
      }
    }
    System.out.println(
        "[once-jdbc] "
            + db.description()
            + ": 4 processes, "
            + keys
            + " keys, acquisitions per process: "
            + children.stream().map(c -> c.count("ACQUIRED ")).toList());
    assertThat(acquisitions).hasSize(keys);
    assertThat(acquisitions.values()).allMatch(n -> n == 1);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void aClaimerKilledInsideItsTransactionLeavesNeitherRecordNorBusinessRow(TestDatabase db)
      throws Exception {
    Fixture f = fixture(db);
    ChildJvm holder = start(db, "hold-transaction", f.table, f.tenant, "k", f.businessTable);
    children.add(holder);
    await().atMost(Duration.ofSeconds(60)).until(() -> holder.saw("HELD"));
    assertThat(holder.firstWith("HELD")).contains("Acquired");

    IdempotencyKey key = IdempotencyKey.of(Scope.of(f.tenant, "multi-process"), "k");
    ClaimRequest request =
        new ClaimRequest(key, Fingerprint.of("same"), Duration.ofMinutes(5), Duration.ofHours(1));
    try (Connection c = f.pool.getConnection()) {
      c.setAutoCommit(false);
      assertThat(f.store.onConnection(c).claim(request))
          .as("while the holder's transaction is open")
          .isInstanceOf(ClaimResult.InProgress.class);
      c.rollback();
    }

    holder.process().destroyForcibly().waitFor();

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(f.store.claim(request))
                    .as("after SIGKILL")
                    .isInstanceOf(ClaimResult.Acquired.class));
    assertThat(count(f.pool, f.businessTable))
        .as("business rows of the killed transaction")
        .isZero();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void aLeaseHolderKilledMidActionIsTakenOverAfterItsLeaseAndItsTokenIsFenced(TestDatabase db)
      throws Exception {
    Fixture f = fixture(db);
    ChildJvm holder = start(db, "hold-lease", f.table, f.tenant, "k");
    children.add(holder);
    await().atMost(Duration.ofSeconds(60)).until(() -> holder.saw("HELD"));
    long deadToken = Long.parseLong(holder.firstWith("HELD").substring(5).trim());
    holder.process().destroyForcibly().waitFor();

    IdempotencyKey key = IdempotencyKey.of(Scope.of(f.tenant, "multi-process"), "k");
    ClaimRequest request =
        new ClaimRequest(key, Fingerprint.of("same"), Duration.ofMinutes(1), Duration.ofHours(1));
    assertThat(f.store.claim(request))
        .as("the dead holder's lease is still live")
        .isInstanceOf(ClaimResult.InProgress.class);

    f.offsetMs.addAndGet(Duration.ofSeconds(61).toMillis());
    ClaimResult takeover = f.store.claim(request);
    assertThat(takeover).isInstanceOf(ClaimResult.Acquired.class);
    assertThat(((ClaimResult.Acquired) takeover).token()).isGreaterThan(deadToken);

    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> f.store.complete(key, deadToken, Outcome.empty(), Duration.ofHours(1)))
        .isInstanceOf(LeaseLostException.class);
    f.store.complete(
        key,
        ((ClaimResult.Acquired) takeover).token(),
        Outcome.of("text/plain", new byte[] {1}),
        Duration.ofHours(1));
    assertThat(f.store.claim(request))
        .isEqualTo(new ClaimResult.Completed(Outcome.of("text/plain", new byte[] {1})));
  }

  private record Fixture(
      HikariDataSource pool,
      JdbcIdempotencyStore store,
      String table,
      String businessTable,
      String tenant,
      AtomicLong offsetMs) {}

  private Fixture fixture(TestDatabase db) throws SQLException {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(db.jdbcUrl());
    config.setUsername(db.user());
    config.setPassword(db.password());
    config.setMaximumPoolSize(4);
    HikariDataSource pool = new HikariDataSource(config);
    pools.add(pool);
    String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    String table = "once_mp_" + suffix;
    String businessTable = "once_mp_business_" + suffix;
    AtomicLong offset = new AtomicLong();
    JdbcIdempotencyStore store =
        JdbcIdempotencyStore.builder(pool)
            .table(table)
            .createSchema(true)
            .clockOffset(() -> Duration.ofMillis(offset.get()))
            .build();
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE " + businessTable + " (id VARCHAR(100) PRIMARY KEY)");
    }
    dropStatements.addAll(
        List.of(
            "DROP TABLE " + table,
            "DROP TABLE " + businessTable,
            // SQLite keeps its fencing tokens in a table, the others in a sequence.
            (store.dialect() == SqlDialect.SQLITE ? "DROP TABLE " : "DROP SEQUENCE ")
                + table
                + "_token_seq"));
    return new Fixture(pool, store, table, businessTable, "t-" + suffix, offset);
  }

  private static long count(HikariDataSource pool, String table) throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static ChildJvm start(TestDatabase db, String mode, String... args) {
    List<String> all =
        new ArrayList<>(
            List.of(mode, db.jdbcUrl(), db.user(), db.password().isEmpty() ? "-" : db.password()));
    all.addAll(List.of(args));
    return ChildJvm.start(ClaimWorker.class, List.of(), all);
  }
}
