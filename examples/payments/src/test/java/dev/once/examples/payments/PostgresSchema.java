package dev.once.examples.payments;

import dev.once.testkit.servers.TcpProxy;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * A schema of its own in the test PostgreSQL ({@link TestServers#postgres()}: the local server, or
 * an embedded one), so that these tests never meet another module's tables; dropped on {@link
 * #close()}.
 */
final class PostgresSchema implements AutoCloseable {

  private final TestDatabase db = TestServers.postgres();
  final String name =
      "payments_it_"
          + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);

  PostgresSchema() {
    execute("CREATE SCHEMA " + name);
  }

  /** The application's DataSource settings for this schema. */
  Map<String, String> properties() {
    return properties(db);
  }

  /** The same, with the application reaching the server through {@code proxy}. */
  Map<String, String> properties(TcpProxy proxy) {
    return properties(db.withAddress("127.0.0.1", proxy.port()));
  }

  /** The server this schema lives in, reached directly. */
  TestDatabase server() {
    return db;
  }

  private Map<String, String> properties(TestDatabase server) {
    String url =
        server.jdbcUrl() + (server.jdbcUrl().contains("?") ? "&" : "?") + "currentSchema=" + name;
    return Map.of(
        "spring.datasource.url",
        url,
        "spring.datasource.username",
        server.user(),
        "spring.datasource.password",
        server.password());
  }

  private void execute(String sql) {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
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
