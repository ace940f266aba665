package dev.once.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import org.junit.jupiter.api.Test;

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
