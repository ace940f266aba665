package dev.once.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.LeaseLostException;
import dev.once.Outcome;
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

  /** Rows this transaction inserted into and updated in the store's table so far. */
  private long[] writesInThisTransaction(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT n_tup_ins, n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = '"
                    + table
                    + "'")) {
      return rs.next() ? new long[] {rs.getLong(1), rs.getLong(2)} : new long[] {0, 0};
    }
  }

  /**
   * Whether this layout's claims in a caller's transaction write their record at once (the
   * partitioned claim function does) instead of at completion.
   */
  protected boolean writesTransactionalClaimsAtOnce() {
    return false;
  }

  /** The status of the key's record as this transaction sees it, or null. */
  private String statusSeenBy(Connection c, ClaimRequest request) throws SQLException {
    try (var ps = c.prepareStatement("SELECT status FROM " + table + " WHERE id = ?")) {
      ps.setBytes(1, request.key().digest());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  @Test
  void aFreshKeyClaimedAndCompletedInATransactionIsWrittenOnce() throws SQLException {
    ClaimRequest request = newRequest();
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(false);
      var view = store.onConnection(c);
      long token = ((ClaimResult.Acquired) view.claim(request)).token();
      assertThat(statusSeenBy(c, request))
          .as("the record after the claim")
          .isEqualTo(writesTransactionalClaimsAtOnce() ? "P" : null);
      view.complete(
          request.key(), token, Outcome.of("text/plain", new byte[] {1}), Duration.ofHours(1));
      assertThat(statusSeenBy(c, request)).as("the record after completion").isEqualTo("C");
      if (!writesTransactionalClaimsAtOnce()) {
        assertThat(writesInThisTransaction(c))
            .as("rows inserted, updated by claim and completion")
            .containsExactly(1, 0);
      }
      c.commit();
    }
    assertThat(store.claim(request)).isInstanceOf(ClaimResult.Completed.class);
  }

  @Test
  void aLeaseModeClaimerBeatsAnUnwrittenTransactionalClaimAndOnlyOneCompletes() throws Exception {
    // A lease-mode claimer takes no advisory lock, so it does not see a transactional claim that
    // has written nothing yet: one of the two completes, never both (the other gets
    // LeaseLostException, and its transaction rolls back).
    ClaimRequest request = newRequest();
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(false);
      var view = store.onConnection(c);
      long token = ((ClaimResult.Acquired) view.claim(request)).token();

      long leaseToken = ((ClaimResult.Acquired) store.claim(request)).token();
      store.complete(
          request.key(), leaseToken, Outcome.of("text/plain", new byte[] {2}), Duration.ofHours(1));

      assertThatThrownBy(
              () ->
                  view.complete(
                      request.key(),
                      token,
                      Outcome.of("text/plain", new byte[] {1}),
                      Duration.ofHours(1)))
          .isInstanceOf(LeaseLostException.class);
      c.rollback();
    }
    ClaimResult replay = store.claim(request);
    assertThat(replay).isInstanceOf(ClaimResult.Completed.class);
    assertThat(((ClaimResult.Completed) replay).outcome().body()).containsExactly(2);
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
