package dev.once.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import dev.once.IdempotencyStore;
import dev.once.testkit.LostReplyContract;
import dev.once.testkit.servers.TcpProxy;
import dev.once.testkit.servers.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.TestInstance;

/**
 * {@link JdbcStoreTestBase} for a database server: the outage proxy sits between the pool and the
 * server, and so does the proxy of the lost-reply contract (which H2's TCP protocol cannot run: its
 * prepare is a round trip).
 */
abstract class ServerStoreTestBase extends NetworkStoreTestBase {

  private final TestDatabase db = database();

  /** The server under test. */
  protected abstract TestDatabase database();

  /** URL parameters that bound connect and socket waits, so a cut connection fails promptly. */
  protected abstract String timeoutParameters();

  @Override
  protected String[] connection() {
    return new String[] {db.jdbcUrl(), db.user(), db.password()};
  }

  @Override
  protected String outageTargetHost() {
    return db.host();
  }

  @Override
  protected int outageTargetPort() {
    return db.port();
  }

  @Override
  protected String outageUrl(int proxyPort) {
    String url = db.withAddress("127.0.0.1", proxyPort).jdbcUrl();
    return url + (url.contains("?") ? "&" : "?") + timeoutParameters();
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class LostReply extends LostReplyContract {
    private TcpProxy proxy;
    private HikariDataSource proxiedPool;
    private JdbcIdempotencyStore proxiedStore;
    private JdbcIdempotencyStore directStore;

    @BeforeAll
    void startProxy() {
      proxy = TcpProxy.start(db.host(), db.port());
      proxiedPool = pool(outageUrl(proxy.port()), db.user(), db.password(), 4, 1_000);
      proxiedStore =
          storeBuilder(proxiedPool)
              .table(table)
              .dialect(store.dialect())
              .name(store.name() + "-via-proxy")
              .build();
      // Not the shared store: the contract suite moves that one's clock.
      directStore = storeBuilder(pool).table(table).dialect(store.dialect()).build();
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
    protected IdempotencyStore directStore() {
      return directStore;
    }

    @Override
    protected void loseReplies() {
      proxy.loseReplies();
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
