package dev.once.spring.boot.outbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * The outbox application on a SQLite file, set up as the starter's users would (WAL, synced
 * commits, a busy timeout; immediate transactions so writers queue on the one write lock).
 */
class SqliteOutboxAppIT extends OutboxAppContract {

  private final Path file;
  private final String url;
  private final JdbcTemplate direct;

  SqliteOutboxAppIT() {
    try {
      Path dir = Files.createDirectories(Paths.get("target", "sqlite"));
      file = dir.resolve("outbox-" + UUID.randomUUID() + ".db").toAbsolutePath();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    url =
        "jdbc:sqlite:"
            + file
            + "?journal_mode=WAL&synchronous=FULL&busy_timeout=30000&transaction_mode=IMMEDIATE";
    direct = new JdbcTemplate(new DriverManagerDataSource(url));
  }

  @Override
  Map<String, Object> databaseProperties() {
    return Map.of("spring.datasource.url", url);
  }

  @Override
  JdbcTemplate direct() {
    return direct;
  }

  @Override
  void dropDatabase() {
    try {
      Files.deleteIfExists(file);
      Files.deleteIfExists(Paths.get(file + "-wal"));
      Files.deleteIfExists(Paths.get(file + "-shm"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
