package dev.once.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.SQLExceptionOverride;
import java.nio.file.Paths;
import java.sql.SQLException;
import java.util.UUID;
import org.h2.tools.Server;
import org.junit.jupiter.api.AfterAll;

/**
 * The store contracts on H2 the way the demo service runs it: an embedded file database. The outage
 * contract needs a network hop to cut, so it talks to an H2 TCP server (an in-memory database)
 * through the proxy.
 */
class H2StoreIT extends NetworkStoreTestBase {

  private final String path =
      Paths.get("target", "h2", "once-it-" + UUID.randomUUID()).toAbsolutePath().toString();
  private final Server server = startServer();

  private static Server startServer() {
    try {
      return Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot start the H2 TCP server", e);
    }
  }

  /**
   * The H2 client reports a broken TCP session as error 90121 or 90067, SQLStates that Hikari does
   * not know as fatal; without this, the pool would keep handing out dead connections after the
   * server is back.
   */
  public static final class H2ConnectionLoss implements SQLExceptionOverride {
    @java.lang.Override
    public Override adjudicate(SQLException e) {
      int code = e.getErrorCode();
      return code == 90121 || code == 90067 || code == 90098
          ? Override.MUST_EVICT
          : Override.CONTINUE_EVICT;
    }
  }

  @java.lang.Override
  protected void configurePool(HikariConfig config) {
    config.setExceptionOverrideClassName(H2ConnectionLoss.class.getName());
  }

  @AfterAll
  void stopServer() {
    server.stop();
  }

  @java.lang.Override
  protected String[] connection() {
    return new String[] {"jdbc:h2:file:" + path + ";DB_CLOSE_DELAY=-1", "sa", ""};
  }

  @java.lang.Override
  protected String outageTargetHost() {
    return "127.0.0.1";
  }

  @Override
  protected int outageTargetPort() {
    return server.getPort();
  }

  @java.lang.Override
  protected String outageUrl(int proxyPort) {
    return "jdbc:h2:tcp://127.0.0.1:"
        + proxyPort
        + "/mem:outage-"
        + path.hashCode()
        + ";DB_CLOSE_DELAY=-1";
  }
}
