package dev.once.jdbc;

import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;

/** The store contracts on MariaDB: the local server, or an embedded one when none answers. */
class MariaDbStoreIT extends ServerStoreTestBase {

  @Override
  protected TestDatabase database() {
    return TestServers.mariadb();
  }

  @Override
  protected String timeoutParameters() {
    return "connectTimeout=2000&socketTimeout=10000";
  }
}
