package dev.once.outbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.UUID;

/**
 * The outbox on SQLite as the payments example embeds it: a WAL file synced on every commit, with a
 * busy timeout so writers and relays wait for the one write lock.
 */
class SqliteOutboxIT extends OutboxTestBase {

  static final String SETTINGS = "journal_mode=WAL&synchronous=FULL&busy_timeout=30000";

  private final Path file = databaseFile();

  static Path databaseFile() {
    try {
      Path dir = Files.createDirectories(Paths.get("target", "sqlite"));
      return dir.resolve("outbox-" + UUID.randomUUID() + ".db").toAbsolutePath();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  protected String[] connection() {
    return new String[] {"jdbc:sqlite:" + file + "?" + SETTINGS, "", ""};
  }

  @Override
  protected int raceMessages() {
    return 1000;
  }
}
