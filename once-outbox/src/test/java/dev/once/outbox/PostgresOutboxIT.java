package dev.once.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/** The outbox on PostgreSQL, with the LISTEN wake-up. */
class PostgresOutboxIT extends ServerOutboxTestBase {

  @Override
  protected TestDatabase database() {
    return TestServers.postgres();
  }

  @Override
  protected String timeoutParameters() {
    return "connectTimeout=2&socketTimeout=10";
  }

  @Test
  void aListeningRelayWakesAtTheWritersCommitNotAtItsNextPoll() throws Exception {
    started(relay().clock(java.time.Clock.systemUTC()).pollInterval(Duration.ofHours(1)).build());
    await().atMost(Duration.ofSeconds(30)).until(this::listening);

    write("k", "wake up");

    await().atMost(Duration.ofSeconds(20)).until(() -> publisher.published.size() == 1);
    assertThat(states()).containsExactly(java.util.Map.entry("S", 1L));
  }

  /**
   * The relay's round sets its own transaction up in one round trip: READ COMMITTED whatever the
   * session's default, no JIT, and an asynchronous commit; all of it ends with the transaction, so
   * a pooled connection goes back as it came.
   */
  @Test
  void aRelayRoundRunsReadCommittedWithoutJitAndCommitsAsynchronouslyForItselfOnly()
      throws Exception {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE");
      try {
        c.setAutoCommit(false);
        dev.once.outbox.internal.OutboxStatements.of(dev.once.jdbc.SqlDialect.POSTGRESQL, table)
            .beginClaim(c);
        assertThat(show(s, "transaction_isolation")).isEqualTo("read committed");
        assertThat(show(s, "jit")).isEqualTo("off");
        assertThat(show(s, "synchronous_commit")).isEqualTo("off");
        c.commit();
        assertThat(show(s, "synchronous_commit")).as("after the commit").isEqualTo("on");
        c.commit();
      } finally {
        c.setAutoCommit(true);
        s.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED");
      }
    }
  }

  private static String show(Statement s, String setting) throws Exception {
    try (ResultSet rs = s.executeQuery("SHOW " + setting)) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void aStoppedRelayLeavesNoListeningConnectionInThePool() throws Exception {
    OutboxRelay relay =
        started(
            relay().clock(java.time.Clock.systemUTC()).pollInterval(Duration.ofHours(1)).build());
    await().atMost(Duration.ofSeconds(30)).until(this::listening);

    relay.close();

    // Without UNLISTEN the relay's connection would idle in the pool with LISTEN as its last
    // statement, collecting notifications for whoever borrows it next.
    assertThat(listening()).isFalse();
    assertThat(pool.getHikariPoolMXBean().getTotalConnections()).isPositive();
  }

  @Test
  void withinItsNotifyIntervalAnOutboxNotifiesOnceAndALingeringRelayFindsTheRest()
      throws Exception {
    Outbox quiet = Outbox.builder().table(table).notifyInterval(Duration.ofHours(1)).build();
    try (Connection listener = pool.getConnection();
        Statement listen = listener.createStatement()) {
      listen.execute("LISTEN \"" + table + "\"");
      List<UUID> ids = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        ids.add(write(quiet, "k", "m" + i));
      }
      try (Connection c = pool.getConnection();
          Statement end = c.createStatement()) {
        end.execute("SELECT pg_notify('" + table + "', 'end')");
      }
      // Notifications arrive in commit order: those before "end" are the writers'.
      List<String> payloads = new ArrayList<>();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> {
                PGNotification[] got = listener.unwrap(PGConnection.class).getNotifications(100);
                for (PGNotification n : got == null ? new PGNotification[0] : got) {
                  payloads.add(n.getParameter());
                }
                return payloads.contains("end");
              });
      assertThat(payloads).containsExactly("", "end");
      listen.execute("UNLISTEN *");

      // A relay that never polls: its first round publishes the three, then it lingers, and only
      // its lingering can find a write that did not notify.
      started(
          relay()
              .clock(java.time.Clock.systemUTC())
              .pollInterval(Duration.ofHours(1))
              .linger(Duration.ofHours(1))
              .build());
      await().atMost(Duration.ofSeconds(20)).until(() -> publisher.published.size() == 3);
      UUID unannounced = write(quiet, "k", "did not notify");
      await().atMost(Duration.ofSeconds(20)).until(() -> publisher.published.size() == 4);
      assertThat(publisher.ids()).containsExactly(ids.get(0), ids.get(1), ids.get(2), unannounced);
    }
  }

  private UUID write(Outbox to, String key, String body) throws Exception {
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(false);
      UUID id = to.enqueue(c, "orders", key, bytes(body));
      c.commit();
      return id;
    }
  }

  private boolean listening() throws Exception {
    try (Connection c = pool.getConnection();
        PreparedStatement s =
            c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE query = ?")) {
      s.setString(1, "LISTEN \"" + table + "\"");
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getInt(1) == 1;
      }
    }
  }
}
