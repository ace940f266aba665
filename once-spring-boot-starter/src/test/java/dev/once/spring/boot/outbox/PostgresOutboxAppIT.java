package dev.once.spring.boot.outbox;

import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.util.Map;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/** The outbox application on PostgreSQL (the relay wakes on the writers' notifications). */
class PostgresOutboxAppIT extends OutboxAppContract {

  private static final TestDatabase DB = TestServers.postgres();

  private final JdbcTemplate direct =
      new JdbcTemplate(new DriverManagerDataSource(DB.jdbcUrl(), DB.user(), DB.password()));

  @Override
  Map<String, Object> databaseProperties() {
    return Map.of(
        "spring.datasource.url", DB.jdbcUrl(),
        "spring.datasource.username", DB.user(),
        "spring.datasource.password", DB.password(),
        "spring.datasource.hikari.maximum-pool-size", "6");
  }

  @Override
  JdbcTemplate direct() {
    return direct;
  }

  @Override
  void dropDatabase() {
    for (String table : new String[] {orders(), charges(), outboxTable(), prefix + "_once"}) {
      direct.execute("DROP TABLE IF EXISTS " + table);
    }
    direct.execute("DROP SEQUENCE IF EXISTS " + prefix + "_once_token_seq");
  }
}
