package dev.once.jdbc;

import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.net.URI;

/** The store contracts on PostgreSQL: the local server, or an embedded one when none answers. */
class PostgresStoreIT extends JdbcStoreTestBase {

  private final TestDatabase db = TestServers.postgres();
  private final URI address = URI.create(db.jdbcUrl().substring("jdbc:".length()));

  @Override
  protected String[] connection() {
    return new String[] {db.jdbcUrl(), db.user(), db.password()};
  }

  @Override
  protected String outageTargetHost() {
    return address.getHost();
  }

  @Override
  protected int outageTargetPort() {
    return address.getPort();
  }

  @Override
  protected String outageUrl(int proxyPort) {
    return "jdbc:postgresql://127.0.0.1:" + proxyPort + address.getPath() + "?connectTimeout=2&socketTimeout=10";
  }
}
