package dev.once.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.IdempotencyStore;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.SqlDialect;
import dev.once.servlet.testapp.Client;
import dev.once.servlet.testapp.Client.Reply;
import dev.once.servlet.testapp.Node;
import dev.once.servlet.testapp.Stores;
import dev.once.servlet.testapp.TestApp;
import dev.once.testkit.servers.TcpProxy;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import jakarta.servlet.ServletException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The checklist against PostgreSQL ({@link JdbcIdempotencyStore}): each node has its own pool and
 * store instance over one table, the outage goes through a {@link TcpProxy} the test cuts, time
 * moves through the store's clock offset. Adds item 35 (atomic with business data), which needs a
 * transactional store.
 */
class PostgresIdempotencyFilterIT extends AbstractIdempotencyFilterIT {

  private final AtomicLong offsetMs = new AtomicLong();
  private final String table =
      "once_servlet_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  private final AtomicBoolean failCompletion = new AtomicBoolean();
  private TestDatabase db;
  private HikariDataSource pool;
  private HikariDataSource secondPool;
  private HikariDataSource proxiedPool;
  private TcpProxy proxy;
  private JdbcIdempotencyStore store;
  private JdbcIdempotencyStore secondStore;
  private JdbcIdempotencyStore proxiedStore;
  private Node atomic;
  private Node atomicSmall;

  @Override
  protected void startBackend() throws SQLException {
    db = TestServers.postgres();
    pool = pool(db.jdbcUrl(), 40, 10_000);
    secondPool = pool(db.jdbcUrl(), 40, 10_000);
    store =
        JdbcIdempotencyStore.builder(pool)
            .table(table)
            .createSchema(true)
            .clockOffset(() -> Duration.ofMillis(offsetMs.get()))
            .build();
    secondStore =
        JdbcIdempotencyStore.builder(secondPool)
            .table(table)
            .dialect(SqlDialect.POSTGRESQL)
            .name("postgresql-node-b")
            .clockOffset(() -> Duration.ofMillis(offsetMs.get()))
            .build();
    proxy = TcpProxy.start(db.host(), db.port());
    String url = db.withAddress("127.0.0.1", proxy.port()).jdbcUrl();
    proxiedPool =
        pool(url + (url.contains("?") ? "&" : "?") + "connectTimeout=2&socketTimeout=10", 4, 1_000);
    proxiedStore =
        JdbcIdempotencyStore.builder(proxiedPool)
            .table(table)
            .dialect(SqlDialect.POSTGRESQL)
            .name("postgresql-via-proxy")
            .clockOffset(() -> Duration.ofMillis(offsetMs.get()))
            .build();
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS once_servlet_orders (test_id TEXT NOT NULL, n INT NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS once_servlet_deferred (test_id TEXT NOT NULL,"
              + " CONSTRAINT once_servlet_deferred_once UNIQUE (test_id) DEFERRABLE INITIALLY DEFERRED)");
    }
    System.out.println("[once-servlet] " + getClass().getSimpleName() + ": " + store + " on " + db);
  }

  private HikariDataSource pool(String url, int size, long connectionTimeoutMs) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setUsername(db.user());
    config.setPassword(db.password());
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(0);
    config.setConnectionTimeout(connectionTimeoutMs);
    config.setValidationTimeout(250);
    config.setInitializationFailTimeout(-1);
    return new HikariDataSource(config);
  }

  @Override
  protected void stopBackend() throws SQLException {
    if (atomic != null) {
      atomic.close();
    }
    if (atomicSmall != null) {
      atomicSmall.close();
    }
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE " + table);
      s.execute("DROP SEQUENCE " + table + "_token_seq");
    } finally {
      proxiedPool.close();
      proxy.close();
      secondPool.close();
      pool.close();
    }
  }

  @Override
  protected IdempotencyStore store() {
    return store;
  }

  @Override
  protected IdempotencyStore secondNodeStore() {
    return secondStore;
  }

  @Override
  protected void advanceClock(Duration amount) {
    offsetMs.addAndGet(amount.toMillis());
  }

  @Override
  protected IdempotencyStore outageStore() {
    return proxiedStore;
  }

  @Override
  protected void cutStore() {
    proxy.cut();
  }

  @Override
  protected void restoreStore() {
    proxy.restore();
  }

  @Override
  protected Optional<String> storeDump() throws SQLException {
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
        dump.append('\n');
      }
    }
    return Optional.of(dump.toString());
  }

  /**
   * A unit of work as the Spring starter will build one: a JDBC transaction that the handler's own
   * writes join (through {@link TestApp#TRANSACTION}) and that the store joins through {@code
   * onConnection}.
   */
  private ExchangeBoundary jdbcTransaction() {
    return new ExchangeBoundary() {
      @Override
      public <T> T run(IdempotencyStore routeStore, Exchange<T> exchange)
          throws IOException, ServletException {
        try (Connection c = pool.getConnection()) {
          c.setAutoCommit(false);
          TestApp.TRANSACTION.set(c);
          try {
            T result =
                exchange.run(new Stores.FailingCompletion(store.onConnection(c), failCompletion));
            c.commit();
            return result;
          } catch (Throwable t) {
            c.rollback();
            throw t;
          } finally {
            TestApp.TRANSACTION.remove();
          }
        } catch (SQLException e) {
          throw new ServletException(e);
        }
      }
    };
  }

  private int orders(String testId) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement s =
            c.prepareStatement("SELECT count(*) FROM once_servlet_orders WHERE test_id = ?")) {
      s.setString(1, testId);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  /**
   * Lease mode on a store that keeps real time (the in-memory variant's clock only moves when a
   * test says so): the lease is renewed while the handler runs, so no retry takes the key over,
   * however long it runs.
   */
  @Test
  void f33b_aHandlerThreeTimesSlowerThanItsLeaseRunsOnceWhileRetriesGet409() {
    String t = newTest();
    String key = newKey();
    TestApp.Gate slow = TestApp.gate();
    CompletableFuture<Reply> first =
        post("/slow", t, key).header("X-Gate", slow.id()).json(JSON_X).sendAsync();
    await().atMost(Duration.ofSeconds(30)).until(() -> slow.arrived() == 1);

    List<Integer> statuses = new CopyOnWriteArrayList<>();
    await("every retry during three leases gets 409 request-in-progress")
        .during(SLOW_LEASE.multipliedBy(3))
        .atMost(SLOW_LEASE.multipliedBy(3).plusSeconds(5))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              Reply retry = post("/slow", t, key).json(JSON_X).send();
              statuses.add(retry.status());
              return retry.status() == 409 && retry.text().contains("request-in-progress");
            });
    slow.open();

    Reply done = first.join();
    assertFresh(done, 201);
    assertReplayOf(post("/slow", t, key).json(JSON_X).send(), done);
    assertThat(statuses).hasSizeGreaterThan(10).containsOnly(409);
    assertThat(TestApp.count(t)).as("handler runs").isEqualTo(1);
  }

  private Node atomic() {
    if (atomic == null) {
      atomic =
          Node.start(
              IdempotencyFilter.builder(store)
                  .routes(
                      RouteResolver.of(
                          IdempotentRoute.builder("POST", "/tx")
                              .boundary(jdbcTransaction())
                              .build(),
                          IdempotentRoute.builder("POST", "/tx-slow")
                              .lease(SLOW_LEASE)
                              .boundary(jdbcTransaction())
                              .build()))
                  .build());
    }
    return atomic;
  }

  /**
   * Atomic mode holds a key by its open transaction, not by its lease: nothing renews the
   * uncommitted claim (its connection belongs to the request's thread), and nothing needs to,
   * because no other transaction can take it over before it commits. So duplicates during a handler
   * three times its lease get 409, never a second run.
   */
  @Test
  void f35b_anAtomicHandlerThreeTimesSlowerThanItsLeaseRunsOnceWhileRetriesGet409()
      throws SQLException {
    Node node = atomic();
    String t = newTest();
    String key = newKey();
    TestApp.Gate slow = TestApp.gate();
    CompletableFuture<Reply> first =
        Client.post(node.url("/tx-slow"))
            .test(t)
            .key(key)
            .header("X-Gate", slow.id())
            .json(JSON_X)
            .sendAsync();
    await().atMost(Duration.ofSeconds(30)).until(() -> slow.arrived() == 1);

    List<Integer> statuses = new CopyOnWriteArrayList<>();
    await("every retry during three leases gets 409 request-in-progress")
        .during(SLOW_LEASE.multipliedBy(3))
        .atMost(SLOW_LEASE.multipliedBy(3).plusSeconds(5))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              Reply retry = Client.post(node.url("/tx-slow")).test(t).key(key).json(JSON_X).send();
              statuses.add(retry.status());
              return retry.status() == 409 && retry.text().contains("request-in-progress");
            });
    slow.open();

    Reply done = first.join();
    assertFresh(done, 201);
    assertReplayOf(Client.post(node.url("/tx-slow")).test(t).key(key).json(JSON_X).send(), done);
    assertThat(statuses).hasSizeGreaterThan(10).containsOnly(409);
    assertThat(TestApp.count(t)).as("handler runs").isEqualTo(1);
    assertThat(orders(t)).as("business rows").isEqualTo(1);
  }

  @Test
  void f35_atomicWithBusinessData() throws SQLException {
    Node atomic = atomic();
    String t = newTest();

    // A failure between the business insert and the record's completion: neither is committed.
    String key = newKey();
    failCompletion.set(true);
    try {
      assertProblem(
          Client.post(atomic.url("/tx")).test(t).key(key).json(JSON_X).send(),
          503,
          BASE,
          "store-unavailable");
    } finally {
      failCompletion.set(false);
    }
    assertThat(TestApp.count(t)).isEqualTo(1);
    assertThat(orders(t)).as("business rows after the failed completion").isZero();

    // The handler throws after its insert: rolled back with the claim.
    assertThat(
            Client.post(atomic.url("/tx"))
                .test(t)
                .key(key)
                .header("X-Fail", "1")
                .json(JSON_X)
                .send()
                .status())
        .isEqualTo(500);
    assertThat(orders(t)).isZero();

    // The handler answers 503 after its insert: rolled back, key released.
    Reply unavailable =
        Client.post(atomic.url("/tx"))
            .test(t)
            .key(key)
            .header("X-Status", "503")
            .json(JSON_X)
            .send();
    assertThat(unavailable.status()).isEqualTo(503);
    assertThat(orders(t)).isZero();

    // The handler answers a transient 429 after its insert: not the key's answer, so rolled back
    // and released.
    assertThat(
            Client.post(atomic.url("/tx"))
                .test(t)
                .key(key)
                .header("X-Status", "429")
                .json(JSON_X)
                .send()
                .status())
        .isEqualTo(429);
    assertThat(orders(t)).isZero();

    // The retry runs and commits both; a further retry replays and writes nothing.
    Reply done = Client.post(atomic.url("/tx")).test(t).key(key).json(JSON_X).send();
    assertFresh(done, 201);
    assertThat(orders(t)).isEqualTo(1);
    assertReplayOf(Client.post(atomic.url("/tx")).test(t).key(key).json(JSON_X).send(), done);
    assertThat(orders(t)).isEqualTo(1);
    assertThat(TestApp.count(t)).isEqualTo(5);
  }

  /**
   * Atomic mode never lets a byte reach the client before the commit: a commit that fails after the
   * handler (a deferred constraint) leaves the client without a 2xx and the database without the
   * effect, whether the response was small, an event stream, larger than the capture limit or
   * asynchronous.
   */
  @Test
  void aCommitThatFailsAfterTheHandlerNeverSendsA2xx() throws SQLException {
    if (atomicSmall == null) {
      atomicSmall =
          Node.start(
              IdempotencyFilter.builder(store)
                  .maxResponseBytes(64 * 1024)
                  .routes(
                      RouteResolver.of(
                          IdempotentRoute.builder("POST", "/tx")
                              .boundary(jdbcTransaction())
                              .build(),
                          IdempotentRoute.builder("POST", "/sse")
                              .boundary(jdbcTransaction())
                              .build(),
                          IdempotentRoute.builder("POST", "/big")
                              .boundary(jdbcTransaction())
                              .build(),
                          IdempotentRoute.builder("POST", "/async-wrapped")
                              .boundary(jdbcTransaction())
                              .build()))
                  .build());
    }
    String t = newTest();
    for (String path : List.of("/big", "/sse", "/tx")) {
      Reply reply =
          Client.post(atomicSmall.url(path))
              .test(t)
              .key(newKey())
              .header("X-Violate-At-Commit", "1")
              .json(JSON_X)
              .send();
      assertThat(reply.status())
          .as("%s whose commit fails: %s", path, reply)
          .isGreaterThanOrEqualTo(500);
      assertThat(reply.text()).doesNotContain("data: first");
    }
    assertThat(orders(t)).as("effects of the failed commits").isZero();

    // A body beyond the capture limit cannot be held until the commit: rolled back, a clear 500,
    // key released.
    String big = newKey();
    assertProblem(
        Client.post(atomicSmall.url("/big")).test(t).key(big).json(JSON_X).send(),
        500,
        BASE,
        "response-not-holdable");
    assertProblem(
        Client.post(atomicSmall.url("/big")).test(t).key(big).json(JSON_X).send(),
        500,
        BASE,
        "response-not-holdable");
    assertThat(orders(t)).isZero();

    // An asynchronous answer would be written after the commit: abandoned, rolled back, a clear
    // 500.
    TestApp.Gate later = TestApp.gate();
    assertProblem(
        Client.post(atomicSmall.url("/async-wrapped"))
            .test(t)
            .key(newKey())
            .header("X-Async-Gate", later.id())
            .json(JSON_X)
            .send(),
        500,
        BASE,
        "response-not-holdable");
    later.open();
    await().atMost(Duration.ofSeconds(30)).until(() -> later.passed() == 1);
    assertThat(orders(t)).isZero();

    // An event stream the handler writes whole is held like any response, committed, then sent and
    // replayed.
    String events = newKey();
    Reply stream = Client.post(atomicSmall.url("/sse")).test(t).key(events).json(JSON_X).send();
    assertFresh(stream, 200);
    assertThat(stream.text()).contains("data: first").contains("data: second");
    assertThat(orders(t)).isEqualTo(1);
    assertReplayOf(
        Client.post(atomicSmall.url("/sse")).test(t).key(events).json(JSON_X).send(), stream);
    assertThat(TestApp.count(t)).isEqualTo(7);
  }
}
