package dev.once.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.testkit.IdempotencyStoreContract;
import dev.once.testkit.StoreOutageContract;
import dev.once.testkit.TransactionalStoreContract;
import dev.once.testkit.servers.TcpProxy;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Runs every store contract against one real database: the plain contract, the transactional contract and
 * the outage contract (through a TCP proxy the test cuts). Each class gets its own table.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class JdbcStoreTestBase {

  /** JDBC URL, user and password of the database under test. */
  protected abstract String[] connection();

  /** Host and port a TCP proxy forwards to, for the outage contract. */
  protected abstract String outageTargetHost();

  protected abstract int outageTargetPort();

  /** The JDBC URL that reaches the outage target through the proxy on {@code proxyPort}. */
  protected abstract String outageUrl(int proxyPort);

  protected final AtomicLong offsetMs = new AtomicLong();
  protected final String table = "once_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  protected HikariDataSource pool;
  protected JdbcIdempotencyStore store;
  protected JdbcIdempotencyStore waitingStore;

  @BeforeAll
  void startStore() {
    String[] c = connection();
    pool = pool(c[0], c[1], c[2], 80, 10_000);
    store = JdbcIdempotencyStore.builder(pool).table(table).createSchema(true)
        .clockOffset(() -> Duration.ofMillis(offsetMs.get())).build();
    waitingStore = JdbcIdempotencyStore.builder(pool).table(table)
        .concurrentClaims(ConcurrentClaimPolicy.WAIT).build();
    System.out.println("[once-jdbc] " + getClass().getSimpleName() + ": " + store + " on " + c[0]);
  }

  @AfterAll
  void dropTable() throws SQLException {
    try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
      s.execute("DROP TABLE " + table);
      s.execute("DROP SEQUENCE " + table + "_token_seq");
    } finally {
      pool.close();
    }
  }

  /** Lets a database adjust its pools; H2 must teach Hikari which of its errors mean a dead connection. */
  protected void configurePool(HikariConfig config) {
  }

  HikariDataSource pool(String url, String user, String password, int size, long connectionTimeoutMs) {
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
    assertThat(store.claim(new ClaimRequest(key, Fingerprint.empty(), Duration.ofSeconds(5), Duration.ofMinutes(1))))
        .isInstanceOf(ClaimResult.Acquired.class);
  }

  @Test
  void rawKeysAndTenantsNeverReachTheTable() throws SQLException {
    String secretKey = "secret-key-" + UUID.randomUUID();
    String tenant = "tenant-" + UUID.randomUUID();
    IdempotencyKey key = IdempotencyKey.of(Scope.of(tenant, "POST /payments"), secretKey);
    ClaimResult.Acquired acquired = (ClaimResult.Acquired) store.claim(
        new ClaimRequest(key, Fingerprint.of("body"), Duration.ofSeconds(5), Duration.ofMinutes(1)));
    store.complete(key, acquired.token(), Outcome.of("text/plain", "ok".getBytes(StandardCharsets.UTF_8)),
        Duration.ofMinutes(1));

    StringBuilder dump = new StringBuilder();
    try (Connection c = pool.getConnection(); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT * FROM " + table)) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        for (int i = 1; i <= columns; i++) {
          Object value = rs.getObject(i);
          dump.append(value instanceof byte[] raw ? new String(raw, StandardCharsets.ISO_8859_1) : String.valueOf(value))
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
  class Transactions extends TransactionalStoreContract {
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

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class Outage extends StoreOutageContract {
    private TcpProxy proxy;
    private HikariDataSource proxiedPool;
    private JdbcIdempotencyStore proxiedStore;

    @BeforeAll
    void startProxy() {
      proxy = TcpProxy.start(outageTargetHost(), outageTargetPort());
      String[] c = connection();
      proxiedPool = pool(outageUrl(proxy.port()), c[1], c[2], 4, 1_000);
      proxiedStore = JdbcIdempotencyStore.builder(proxiedPool).table(table).dialect(store.dialect())
          .createSchema(true).name(store.name() + "-via-proxy").build();
    }

    @AfterAll
    void stopProxy() {
      proxiedPool.close();
      proxy.close();
    }

    @Override
    protected IdempotencyStore store() {
      return proxiedStore;
    }

    @Override
    protected void cutConnection() {
      proxy.cut();
    }

    @Override
    protected void restoreConnection() {
      proxy.restore();
    }
  }
}
