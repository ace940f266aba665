package dev.once.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.once.testkit.ChildJvm;
import dev.once.testkit.EffectChecker;
import dev.once.testkit.servers.TcpProxy;
import dev.once.testkit.servers.TestDatabase;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** {@link OutboxTestBase} on a database server: outages through a proxy, and relays SIGKILLed. */
abstract class ServerOutboxTestBase extends OutboxTestBase {

  private final TestDatabase db = database();

  /** The server under test. */
  protected abstract TestDatabase database();

  /** URL parameters that bound connect and socket waits, so a cut connection fails promptly. */
  protected abstract String timeoutParameters();

  @Override
  protected String[] connection() {
    return new String[] {db.jdbcUrl(), db.user(), db.password()};
  }

  @Test
  void theRelayWaitsOutADatabaseOutageAndCatchesUp() throws Exception {
    try (TcpProxy proxy = TcpProxy.start(db.host(), db.port());
        HikariDataSource proxied =
            pool(
                db.withAddress("127.0.0.1", proxy.port()).jdbcUrl()
                    + (db.jdbcUrl().contains("?") ? "&" : "?")
                    + timeoutParameters(),
                db.user(),
                db.password(),
                4,
                1_000)) {
      CountingDataSource counting = new CountingDataSource(proxied);
      OutboxRelay relay =
          started(
              OutboxRelay.builder(counting, publisher)
                  .table(table)
                  .pollInterval(Duration.ofMillis(50))
                  .outageBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
                  .build());
      List<String> written = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        written.add(write("k" + (i % 3), "before-" + i).toString());
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> states().equals(Map.of("S", 20L)));

      proxy.cut();
      for (int i = 0; i < 20; i++) {
        written.add(write("k" + (i % 3), "during-" + i).toString());
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> counting.failures.get() >= 3);
      assertThat(publisher.published).hasSize(20);
      assertThat(relay.isRunning()).isTrue();

      proxy.restore();
      await().atMost(Duration.ofSeconds(60)).until(() -> states().equals(Map.of("S", 40L)));
      Map<String, Long> publications = new HashMap<>();
      publisher.published.forEach(m -> publications.merge(m.id().toString(), 1L, Long::sum));
      EffectChecker.Verdict verdict = EffectChecker.check(written, publications);
      System.out.println(
          "[outbox] outage on "
              + dialect
              + ": "
              + verdict
              + ", failed connections "
              + counting.failures);
      verdict.assertExactlyOnce("outage");
      assertThat(relay.isRunning()).isTrue();
    }
  }

  @Test
  void aRelaySigkilledMidBatchAgainAndAgainLosesNothing() throws Exception {
    long seed = System.nanoTime();
    System.out.println("[outbox] kill test on " + dialect + ", seed " + seed);
    String sink = table + "_sink";
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE " + sink + " (id VARCHAR(64) NOT NULL)");
    }
    List<String> committed = new CopyOnWriteArrayList<>();
    AtomicBoolean writing = new AtomicBoolean(true);
    List<Thread> writers = new ArrayList<>();
    Random seeds = new Random(seed);
    List<Throwable> writerFailures = new CopyOnWriteArrayList<>();
    for (int w = 0; w < 2; w++) {
      Random random = new Random(seeds.nextLong());
      int writer = w;
      Thread t =
          new Thread(
              () -> {
                int n = 0;
                while (writing.get() && n < 1500) {
                  try (Connection c = pool.getConnection()) {
                    c.setAutoCommit(false);
                    List<OutboxEntry> entries = new ArrayList<>();
                    for (int i = 0; i < 1 + random.nextInt(5); i++) {
                      entries.add(
                          new OutboxEntry(
                              "orders", "w" + writer + "-" + random.nextInt(4), bytes("m" + n++)));
                    }
                    List<UUID> ids = outbox.enqueueAll(c, entries);
                    if (random.nextInt(10) == 0) {
                      c.rollback();
                    } else {
                      c.commit();
                      ids.forEach(id -> committed.add(id.toString()));
                    }
                  } catch (SQLException | RuntimeException e) {
                    writerFailures.add(e);
                    return;
                  }
                }
              },
              "writer-" + w);
      writers.add(t);
      t.start();
    }
    String[] c = connection();
    int kills = 12;
    try {
      for (int round = 0; round < kills; round++) {
        ChildJvm child =
            ChildJvm.start(
                RelayChild.class,
                List.of("-Xmx128m"),
                List.of(c[0], c[1], c[2], table, sink, "hold"));
        try {
          try {
            await()
                .atMost(Duration.ofSeconds(60))
                .until(() -> child.saw("HOLD") || !child.process().isAlive());
          } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(
                "round "
                    + round
                    + ": no HOLD; states "
                    + states()
                    + ", child said "
                    + child.lines(),
                e);
          }
          assertThat(child.saw("HOLD")).as("child output: %s", child.lines()).isTrue();
        } finally {
          child.kill();
        }
      }
    } finally {
      writing.set(false);
      for (Thread t : writers) {
        t.join();
      }
    }
    assertThat(writerFailures).isEmpty();

    ChildJvm drain =
        ChildJvm.start(
            RelayChild.class, List.of("-Xmx128m"), List.of(c[0], c[1], c[2], table, sink, "drain"));
    try {
      await()
          .atMost(Duration.ofSeconds(120))
          .until(() -> !states().containsKey("P") && sinkCounts(sink).size() >= committed.size());
    } finally {
      drain.kill();
    }
    Map<String, Long> raw = sinkCounts(sink);
    Map<String, Long> first = new HashMap<>();
    raw.keySet().forEach(id -> first.put(id, 1L));
    long publications = raw.values().stream().mapToLong(Long::longValue).sum();
    EffectChecker.Verdict verdict = EffectChecker.check(committed, first);
    System.out.println(
        "[outbox] kill test on "
            + dialect
            + ", seed "
            + seed
            + ", "
            + kills
            + " kills: "
            + verdict
            + "; publications "
            + publications
            + ", re-sent after a kill "
            + (publications - raw.size()));
    verdict.assertExactlyOnce("first publications, seed " + seed);
    // Every kill landed after a batch reached the sink and before it was marked sent.
    assertThat(publications - raw.size()).isGreaterThanOrEqualTo(kills);
    try (Connection conn = pool.getConnection();
        Statement s = conn.createStatement()) {
      s.execute("DROP TABLE " + sink);
    }
  }

  private Map<String, Long> sinkCounts(String sink) throws SQLException {
    Map<String, Long> counts = new HashMap<>();
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id, COUNT(*) FROM " + sink + " GROUP BY id")) {
      while (rs.next()) {
        counts.put(rs.getString(1), rs.getLong(2));
      }
    }
    return counts;
  }

  /** Counts the connections the relay asked for and did not get. */
  static final class CountingDataSource implements DataSource {
    final AtomicInteger failures = new AtomicInteger();
    private final DataSource delegate;

    CountingDataSource(DataSource delegate) {
      this.delegate = delegate;
    }

    @Override
    public Connection getConnection() throws SQLException {
      try {
        return delegate.getConnection();
      } catch (SQLException e) {
        failures.incrementAndGet();
        throw e;
      }
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
      throw new SQLFeatureNotSupportedException();
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
      return delegate.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
      delegate.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
      delegate.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
      return delegate.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
      return delegate.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
      return delegate.unwrap(type);
    }

    @Override
    public boolean isWrapperFor(Class<?> type) throws SQLException {
      return delegate.isWrapperFor(type);
    }
  }
}
