package dev.once.examples.payments;

import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * A schema of its own in the test PostgreSQL ({@link TestServers#postgres()}: the local server, or an embedded one),
 * so that these tests never meet another module's tables; dropped on {@link #close()}.
 */
final class PostgresSchema implements AutoCloseable {

  private final TestDatabase db = TestServers.postgres();
  final String name = "payments_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12)
      .toLowerCase(Locale.ROOT);

  PostgresSchema() {
    execute("CREATE SCHEMA " + name);
  }

  /** The application's DataSource settings for this schema. */
  Map<String, String> properties() {
    String url = db.jdbcUrl() + (db.jdbcUrl().contains("?") ? "&" : "?") + "currentSchema=" + name;
    return Map.of("spring.datasource.url", url,
        "spring.datasource.username", db.user(),
        "spring.datasource.password", db.password());
  }

  private void execute(String sql) {
    try (Connection c = db.connect(); Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + " failed on " + db, e);
    }
  }

  @Override
  public void close() {
    execute("DROP SCHEMA IF EXISTS " + name + " CASCADE");
  }
}
