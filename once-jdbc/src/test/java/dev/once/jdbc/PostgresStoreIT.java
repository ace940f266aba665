package dev.once.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.Scope;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

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

  private JdbcIdempotencyStore bounded(Duration idle) {
    return storeBuilder(pool)
        .table(table)
        .dialect(SqlDialect.POSTGRESQL)
        .idleTransactionTimeout(idle)
        .build();
  }

  private static ClaimRequest newRequest() {
    IdempotencyKey key = IdempotencyKey.of(Scope.of("t-" + UUID.randomUUID(), "idle"), "k");
    return new ClaimRequest(
        key, Fingerprint.of("idle request"), Duration.ofHours(1), Duration.ofHours(1));
  }

  /** The key's answer to a claim in a transaction of its own, rolled back at once. */
  private ClaimResult claimElsewhere(ClaimRequest request) throws SQLException {
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(false);
      try {
        return store.onConnection(c).claim(request);
      } finally {
        c.rollback();
      }
    }
  }

  @Test
  void aTransactionThatClaimedAKeyAndFellSilentIsEndedAfterTheIdleTimeoutAndFreesTheKey()
      throws Exception {
    ClaimRequest request = newRequest();
    try (Connection silent = pool.getConnection()) {
      silent.setAutoCommit(false);
      assertThat(bounded(Duration.ofSeconds(1)).onConnection(silent).claim(request))
          .isInstanceOf(ClaimResult.Acquired.class);
      assertThat(claimElsewhere(request)).isInstanceOf(ClaimResult.InProgress.class);

      // The holder sends nothing more, as a client cut off by a partition: the server ends its
      // transaction.
      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> claimElsewhere(request) instanceof ClaimResult.Acquired);
      assertThatThrownBy(() -> silent.createStatement().execute("SELECT 1"))
          .isInstanceOf(SQLException.class);
    }
  }

  @Test
  void theIdleTimeoutLastsOnlyForTheTransactionThatClaimed() throws Exception {
    try (Connection c = pool.getConnection()) {
      String before = idleTimeout(c);
      c.setAutoCommit(false);
      bounded(Duration.ofMillis(4321)).onConnection(c).claim(newRequest());
      assertThat(idleTimeout(c)).isEqualTo("4321ms");
      c.rollback();
      assertThat(idleTimeout(c)).isEqualTo(before);
      c.setAutoCommit(true);
    }
  }

  @Test
  void withoutAnIdleTimeoutTheServersSettingStands() throws Exception {
    try (Connection c = pool.getConnection()) {
      String before = idleTimeout(c);
      c.setAutoCommit(false);
      store.onConnection(c).claim(newRequest());
      assertThat(idleTimeout(c)).isEqualTo(before);
      c.rollback();
      c.setAutoCommit(true);
    }
  }

  private static String idleTimeout(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW idle_in_transaction_session_timeout")) {
      rs.next();
      return rs.getString(1);
    }
  }
}
