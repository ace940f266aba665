package dev.once.spring.boot.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.SqlDialect;
import dev.once.spring.boot.OnceStoreHealthIndicator;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A JDBC store's health on a real PostgreSQL: up, down when unreachable, down without its table.
 */
class PostgresStoreHealthIT {

  private static final TestDatabase DB = TestServers.postgres();

  private static HikariDataSource pool() {
    HikariDataSource pool = new HikariDataSource();
    pool.setJdbcUrl(DB.jdbcUrl());
    pool.setUsername(DB.user());
    pool.setPassword(DB.password());
    pool.setMaximumPoolSize(2);
    pool.setConnectionTimeout(2_000);
    return pool;
  }

  @Test
  void upWhenTheTableAnswersDownWhenTheDataSourceIsClosed() {
    String table = "once_health_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    HikariDataSource pool = pool();
    try {
      JdbcIdempotencyStore store =
          JdbcIdempotencyStore.builder(pool).table(table).createSchema(true).build();
      OnceStoreHealthIndicator health = new OnceStoreHealthIndicator(store);

      Health up = health.health();
      assertThat(up.getStatus()).isEqualTo(Status.UP);
      assertThat(up.getDetails()).containsEntry("store", "postgresql");

      pool.close();
      Health down = health.health();
      assertThat(down.getStatus()).isEqualTo(Status.DOWN);
      assertThat(down.getDetails()).containsEntry("store", "postgresql");
      assertThat(String.valueOf(down.getDetails().get("error")))
          .contains("store 'postgresql'")
          .contains("check")
          .containsIgnoringCase("closed");
    } finally {
      pool.close();
      try (HikariDataSource cleanup = pool()) {
        JdbcTemplate direct = new JdbcTemplate(cleanup);
        direct.execute("DROP TABLE IF EXISTS " + table);
        direct.execute("DROP SEQUENCE IF EXISTS " + table + "_token_seq");
      }
    }
  }

  @Test
  void downNamingTheTableWhenTheSchemaIsMissing() {
    try (HikariDataSource pool = pool()) {
      JdbcIdempotencyStore store =
          JdbcIdempotencyStore.builder(pool)
              .table("once_never_created")
              .dialect(SqlDialect.POSTGRESQL)
              .build();

      Health down = new OnceStoreHealthIndicator(store).health();

      assertThat(down.getStatus()).isEqualTo(Status.DOWN);
      assertThat(String.valueOf(down.getDetails().get("error")))
          .contains("once_never_created")
          .contains("does not exist");
    }
  }
}
