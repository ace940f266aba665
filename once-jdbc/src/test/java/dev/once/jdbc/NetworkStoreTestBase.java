package dev.once.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import dev.once.IdempotencyStore;
import dev.once.testkit.StoreOutageContract;
import dev.once.testkit.servers.TcpProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.TestInstance;

/**
 * {@link JdbcStoreTestBase} for a database the store reaches over a network (a server, or H2's TCP
 * server), plus the outage contract: a TCP proxy the test cuts sits between a pool and the
 * database. An embedded SQLite file has no connection to cut.
 */
abstract class NetworkStoreTestBase extends JdbcStoreTestBase {

  /** Host and port a TCP proxy forwards to, for the outage contract. */
  protected abstract String outageTargetHost();

  protected abstract int outageTargetPort();

  /** The JDBC URL that reaches the outage target through the proxy on {@code proxyPort}. */
  protected abstract String outageUrl(int proxyPort);

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
      proxiedStore =
          storeBuilder(proxiedPool)
              .table(table)
              .dialect(store.dialect())
              .createSchema(true)
              .name(store.name() + "-via-proxy")
              .build();
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
