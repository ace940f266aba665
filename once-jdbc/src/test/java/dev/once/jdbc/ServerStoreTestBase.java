package dev.once.jdbc;

import dev.once.testkit.servers.TestDatabase;

/** {@link JdbcStoreTestBase} for a database server: the outage proxy sits between the pool and the server. */
abstract class ServerStoreTestBase extends JdbcStoreTestBase {

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
}
