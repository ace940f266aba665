package dev.once.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.jdbc.SqlDialect;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The outbox in an attached SQLite database ({@code aux.outbox}): SQLite wants the schema on an
 * index's name and the indexed table named bare, the opposite of the server databases.
 */
class SqliteAttachedOutboxIT {

  @Test
  void anOutboxInAnAttachedDatabaseIsCreatedWrittenAndRelayed() throws Exception {
    assertThat(Outbox.schemaSql(SqlDialect.SQLITE, "aux.outbox"))
        .contains("INDEX IF NOT EXISTS aux.outbox_pending ON outbox (")
        .contains("INDEX IF NOT EXISTS aux.outbox_pending_key ON outbox (")
        .contains("CREATE TABLE IF NOT EXISTS aux.outbox");
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(
        "jdbc:sqlite:" + SqliteOutboxIT.databaseFile() + "?" + SqliteOutboxIT.SETTINGS);
    config.setMaximumPoolSize(2);
    config.setConnectionInitSql("ATTACH DATABASE '" + SqliteOutboxIT.databaseFile() + "' AS aux");
    try (HikariDataSource pool = new HikariDataSource(config)) {
      Outbox outbox = Outbox.builder().table("aux.outbox").build();
      UUID id;
      try (Connection c = pool.getConnection()) {
        outbox.createSchema(c);
        c.setAutoCommit(false);
        id = outbox.enqueue(c, "orders", "k", "hello".getBytes(StandardCharsets.UTF_8));
        c.commit();
      }
      List<UUID> published = new ArrayList<>();
      OutboxRelay relay =
          OutboxRelay.builder(
                  pool,
                  messages -> {
                    messages.forEach(m -> published.add(m.id()));
                    return java.util.Map.of();
                  })
              .table("aux.outbox")
              .build();

      assertThat(relay.relayOnce().sent()).isEqualTo(1);
      assertThat(published).containsExactly(id);
      try (Connection c = pool.getConnection();
          Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT count(*) FROM aux.sqlite_master WHERE type = 'index'"
                      + " AND name IN ('outbox_pending', 'outbox_pending_key')")) {
        rs.next();
        assertThat(rs.getInt(1)).as("both indexes are in the attached database").isEqualTo(2);
      }
    }
  }
}
