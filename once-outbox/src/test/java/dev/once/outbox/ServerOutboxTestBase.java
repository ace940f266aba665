package dev.once.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.once.testkit.EffectChecker;
import dev.once.testkit.servers.TcpProxy;
import dev.once.testkit.servers.TestDatabase;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** {@link CrossProcessOutboxTestBase} on a database server, with outages through a proxy. */
abstract class ServerOutboxTestBase extends CrossProcessOutboxTestBase {

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
