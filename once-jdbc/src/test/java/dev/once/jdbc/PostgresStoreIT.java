package dev.once.jdbc;

import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;

/** The store contracts on PostgreSQL: the local server, or an embedded one when none answers. */
class PostgresStoreIT extends ServerStoreTestBase {

  @Override
  protected TestDatabase database() {
    return TestServers.postgres();
  }

  @Override
  protected String timeoutParameters() {
    return "connectTimeout=2&socketTimeout=10";
  }
}
