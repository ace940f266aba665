package dev.once.spring.boot.listener;

import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * Real PostgreSQL for the listener ITs: an effect log with NO unique constraint (a duplicate effect
 * stays countable) and the Once table, both with unique names, dropped by {@link #drop}.
 */
final class ListenerDb {

  static final TestDatabase DB = TestServers.postgres();

  final String prefix = "once_sl_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  final JdbcTemplate jdbc;

  ListenerDb() {
    jdbc = new JdbcTemplate(new DriverManagerDataSource(DB.jdbcUrl(), DB.user(), DB.password()));
    jdbc.execute(
        "CREATE TABLE "
            + effects()
            + " (id BIGSERIAL PRIMARY KEY, msg_id VARCHAR(100) NOT NULL,"
            + " payload VARCHAR(200) NOT NULL)");
  }

  String effects() {
    return prefix + "_effects";
  }

  String onceTable() {
    return prefix + "_once";
  }

  /** Spring properties for an application on this database. */
  Map<String, Object> properties() {
    Map<String, Object> p = new HashMap<>();
    p.put("spring.datasource.url", DB.jdbcUrl());
    p.put("spring.datasource.username", DB.user());
    p.put("spring.datasource.password", DB.password());
    p.put("spring.datasource.hikari.maximum-pool-size", "4");
    p.put("once.jdbc.table", onceTable());
    p.put("once.jdbc.create-schema", "always");
    p.put("test.effects", effects());
    return p;
  }

  Map<String, Integer> effectCounts() {
    Map<String, Integer> counts = new HashMap<>();
    jdbc.query(
        "SELECT msg_id, COUNT(*) FROM " + effects() + " GROUP BY msg_id",
        rs -> {
          counts.put(rs.getString(1), rs.getInt(2));
        });
    return counts;
  }

  long completedMarkers() {
    Long n =
        jdbc.queryForObject(
            "SELECT COUNT(*) FROM " + onceTable() + " WHERE status = 'C'", Long.class);
    return n == null ? 0 : n;
  }

  /** Forgets the effects, keeping the markers: for a second application in another scope. */
  void clearEffects() {
    jdbc.execute("DELETE FROM " + effects());
  }

  void drop() {
    jdbc.execute("DROP TABLE IF EXISTS " + effects());
    jdbc.execute("DROP TABLE IF EXISTS " + onceTable());
    jdbc.execute("DROP SEQUENCE IF EXISTS " + onceTable() + "_token_seq");
  }
}
