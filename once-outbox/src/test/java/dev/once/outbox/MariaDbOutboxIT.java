package dev.once.outbox;

import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;

/** The outbox on MariaDB 10.6+ (SKIP LOCKED). */
class MariaDbOutboxIT extends ServerOutboxTestBase {

  @Override
  protected TestDatabase database() {
    return TestServers.mariadb();
  }

  @Override
  protected String timeoutParameters() {
    return "connectTimeout=2000&socketTimeout=10000";
  }
}
