package dev.once.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Execution;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.InProgressException;
import dev.once.Once;
import dev.once.Outcome;
import dev.once.ResultCodec;
import dev.once.Scope;
import dev.once.testkit.IdempotencyStoreContract;
import dev.once.testkit.SlowExecutionContract;
import dev.once.testkit.TransactionalStoreContract;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Runs the store contracts against one real database: the plain contract, the slow-execution
 * contract and the transactional contract ({@link NetworkStoreTestBase} adds the outage contract
 * for databases reached over a network). Each class gets its own table.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class JdbcStoreTestBase {

  /** JDBC URL, user and password of the database under test. */
  protected abstract String[] connection();

  protected final AtomicLong offsetMs = new AtomicLong();
  protected final String table =
      "once_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  protected HikariDataSource pool;
  protected JdbcIdempotencyStore store;
  protected JdbcIdempotencyStore waitingStore;

  @BeforeAll
  void startStore() {
    String[] c = connection();
    pool = pool(c[0], c[1], c[2], 80, 10_000);
    store =
        storeBuilder(pool)
            .table(table)
            .createSchema(true)
            .clockOffset(() -> Duration.ofMillis(offsetMs.get()))
            .build();
    waitingStore =
        storeBuilder(pool).table(table).concurrentClaims(ConcurrentClaimPolicy.WAIT).build();
    System.out.println("[once-jdbc] " + getClass().getSimpleName() + ": " + store + " on " + c[0]);
  }

  @AfterAll
  void dropTable() throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      dropSchema(s, table);
    } finally {
      pool.close();
    }
  }

  /**
   * A builder over {@code dataSource} for every store of this class; a subclass chooses the table's
   * layout here.
   */
  protected JdbcIdempotencyStore.Builder storeBuilder(DataSource dataSource) {
    return JdbcIdempotencyStore.builder(dataSource);
  }

  /** Drops what {@link JdbcIdempotencyStore#createSchema()} created for {@code name}. */
  protected void dropSchema(Statement s, String name) throws SQLException {
    s.execute("DROP TABLE " + name);
    // SQLite keeps its fencing tokens in a table, the others in a sequence.
    s.execute(
        (store.dialect() == SqlDialect.SQLITE ? "DROP TABLE " : "DROP SEQUENCE ")
            + name
            + "_token_seq");
  }

  /**
   * Lets a database adjust its pools; H2 must teach Hikari which of its errors mean a dead
   * connection.
   */
  protected void configurePool(HikariConfig config) {}

  HikariDataSource pool(
      String url, String user, String password, int size, long connectionTimeoutMs) {
    HikariConfig config = new HikariConfig();
    configurePool(config);
    config.setJdbcUrl(url);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(0);
    config.setConnectionTimeout(connectionTimeoutMs);
    config.setValidationTimeout(250);
    config.setInitializationFailTimeout(-1);
    return new HikariDataSource(config);
  }

  @Test
  void schemaCreationIsIdempotent() {
    store.createSchema();
    store.createSchema();
    IdempotencyKey key = IdempotencyKey.of(Scope.of("t-" + UUID.randomUUID(), "schema"), "k");
    assertThat(
            store.claim(
                new ClaimRequest(
                    key, Fingerprint.empty(), Duration.ofSeconds(5), Duration.ofMinutes(1))))
        .isInstanceOf(ClaimResult.Acquired.class);
  }

  /**
   * The schema (or database, on MariaDB) that the pool's connections start in: the one a
   * schema-qualified table name uses here.
   */
  protected String currentSchema(Connection c) throws SQLException {
    String schema = c.getSchema();
    return schema != null ? schema : c.getCatalog();
  }

  @Test
  void aSchemaQualifiedTableIsCreatedAndClaimedIn() throws SQLException {
    String qualified;
    try (Connection c = pool.getConnection()) {
      qualified = currentSchema(c) + "." + table + "_q";
    }
    JdbcIdempotencyStore qualifiedStore =
        storeBuilder(pool).table(qualified).createSchema(true).build();
    try {
      qualifiedStore.createSchema();
      IdempotencyKey key = IdempotencyKey.of(Scope.of("t-" + UUID.randomUUID(), "schema"), "k");
      ClaimRequest request =
          new ClaimRequest(key, Fingerprint.empty(), Duration.ofSeconds(5), Duration.ofMinutes(1));
      assertThat(qualifiedStore.claim(request)).isInstanceOf(ClaimResult.Acquired.class);
      assertThat(qualifiedStore.claim(request)).isInstanceOf(ClaimResult.InProgress.class);
      assertThat(store.claim(request))
          .as("the qualified table is another table than " + table)
          .isInstanceOf(ClaimResult.Acquired.class);
    } finally {
      try (Connection c = pool.getConnection();
          Statement s = c.createStatement()) {
        dropSchema(s, qualified);
      }
    }
  }

  @Test
  void rawKeysAndTenantsNeverReachTheTable() throws SQLException {
    String secretKey = "secret-key-" + UUID.randomUUID();
    String tenant = "tenant-" + UUID.randomUUID();
    IdempotencyKey key = IdempotencyKey.of(Scope.of(tenant, "POST /payments"), secretKey);
    ClaimResult.Acquired acquired =
        (ClaimResult.Acquired)
            store.claim(
                new ClaimRequest(
                    key, Fingerprint.of("body"), Duration.ofSeconds(5), Duration.ofMinutes(1)));
    store.complete(
        key,
        acquired.token(),
        Outcome.of("text/plain", "ok".getBytes(StandardCharsets.UTF_8)),
        Duration.ofMinutes(1));

    StringBuilder dump = new StringBuilder();
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT * FROM " + table)) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        for (int i = 1; i <= columns; i++) {
          Object value = rs.getObject(i);
          dump.append(
                  value instanceof byte[] raw
                      ? new String(raw, StandardCharsets.ISO_8859_1)
                      : String.valueOf(value))
              .append('|');
        }
      }
    }
    assertThat(dump.toString()).isNotEmpty().doesNotContain(secretKey).doesNotContain(tenant);
  }

  @Nested
  class Contract extends IdempotencyStoreContract {
    @Override
    protected IdempotencyStore store() {
      return store;
    }

    @Override
    protected void advanceClock(Duration amount) {
      offsetMs.addAndGet(amount.toMillis());
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class SlowExecution extends SlowExecutionContract {
    private final ExecutorService background = Executors.newCachedThreadPool();
    private JdbcIdempotencyStore anHourAhead;

    @BeforeAll
    void startStoreAhead() {
      anHourAhead =
          storeBuilder(pool)
              .table(table)
              .dialect(store.dialect())
              .clockOffset(() -> Duration.ofMillis(offsetMs.get()).plusHours(1))
              .build();
    }

    @AfterAll
    void stopBackground() {
      background.shutdownNow();
    }

    @Override
    protected IdempotencyStore store() {
      return store;
    }

    @Override
    protected IdempotencyStore storeAnHourAhead() {
      return anHourAhead;
    }

    /**
     * Atomic mode: nothing renews a claim inside the caller's transaction (its connection is the
     * caller's), and nothing needs to: the uncommitted claim keeps every other transaction out
     * until it commits, however long past its lease. So a duplicate gets "in progress", never a
     * second run, and after the commit the replay.
     */
    @Test
    void anAtomicActionSlowerThanItsLeaseHoldsItsKeyUntilItCommits() throws Exception {
      Once once = Once.builder(store).lease(LEASE).build();
      IdempotencyKey key =
          IdempotencyKey.of(Scope.of("t-" + UUID.randomUUID(), "atomic-slow"), "k");
      Fingerprint fp = Fingerprint.of("atomic");
      AtomicInteger runs = new AtomicInteger();
      CountDownLatch started = new CountDownLatch(1);
      CountDownLatch finish = new CountDownLatch(1);
      Future<Execution<String>> slow =
          background.submit(
              () -> {
                try (Connection c = pool.getConnection()) {
                  c.setAutoCommit(false);
                  Execution<String> e =
                      once.withStore(store.onConnection(c))
                          .execute(
                              key,
                              fp,
                              ResultCodec.utf8(),
                              () -> {
                                runs.incrementAndGet();
                                started.countDown();
                                try {
                                  finish.await(30, TimeUnit.SECONDS);
                                } catch (InterruptedException interrupted) {
                                  Thread.currentThread().interrupt();
                                }
                                return "first";
                              });
                  c.commit();
                  return e;
                }
              });
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

      await("every duplicate in its own transaction during three leases is in progress")
          .during(LEASE.multipliedBy(3))
          .atMost(LEASE.multipliedBy(3).plusSeconds(5))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () ->
                  inOwnTransaction(
                          c ->
                              catchThrowable(
                                  () ->
                                      once.withStore(store.onConnection(c))
                                          .execute(
                                              key,
                                              fp,
                                              ResultCodec.utf8(),
                                              () -> "again-" + runs.incrementAndGet())))
                      instanceof InProgressException);
      finish.countDown();

      assertThat(slow.get(10, TimeUnit.SECONDS)).isEqualTo(new Execution<>("first", false));
      Execution<String> replay =
          inOwnTransaction(
              c ->
                  once.withStore(store.onConnection(c))
                      .execute(
                          key, fp, ResultCodec.utf8(), () -> "late-" + runs.incrementAndGet()));
      assertThat(replay).isEqualTo(new Execution<>("first", true));
      assertThat(runs).hasValue(1);
    }

    private <T> T inOwnTransaction(java.util.function.Function<Connection, T> work)
        throws SQLException {
      try (Connection c = pool.getConnection()) {
        c.setAutoCommit(false);
        try {
          return work.apply(c);
        } finally {
          c.rollback();
        }
      }
    }
  }

  /** The isolation levels the database offers, weakest first. */
  protected List<Integer> supportedIsolationLevels() {
    return List.of(
        Connection.TRANSACTION_READ_COMMITTED,
        Connection.TRANSACTION_REPEATABLE_READ,
        Connection.TRANSACTION_SERIALIZABLE);
  }

  /** Whether one transaction writes at a time, locking the whole database (SQLite). */
  protected boolean databaseWideWriteLock() {
    return false;
  }

  @Nested
  class Transactions extends TransactionalStoreContract {
    @Override
    protected List<Integer> isolationLevels() {
      return supportedIsolationLevels();
    }

    @Override
    protected boolean oneWriterAtATime() {
      return databaseWideWriteLock();
    }

    @Override
    protected Connection openConnection() throws SQLException {
      return pool.getConnection();
    }

    @Override
    protected IdempotencyStore storeOn(Connection connection, boolean waitForConcurrentClaims) {
      return (waitForConcurrentClaims ? waitingStore : store).onConnection(connection);
    }

    @Override
    protected IdempotencyStore standaloneStore() {
      return store;
    }
  }
}
