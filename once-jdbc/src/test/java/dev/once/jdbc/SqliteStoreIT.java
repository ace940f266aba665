package dev.once.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.Outcome;
import dev.once.Scope;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The store contracts on SQLite as an application embeds it: a database file under {@code target/}
 * in WAL mode, synced on every commit. The contract's connections are deferred transactions (the
 * driver's default), so two transactions can be open at once and the transactional contract's races
 * happen; {@link #anImmediateTransactionQueuesAtBeginAndThenReplays} covers {@code
 * transaction_mode=IMMEDIATE}, what the payments example runs.
 */
class SqliteStoreIT extends JdbcStoreTestBase {

  static final String SETTINGS = "journal_mode=WAL&synchronous=FULL&busy_timeout=30000";

  private final Path file = databaseFile("store");
  private final ExecutorService background = Executors.newCachedThreadPool();

  static Path databaseFile(String name) {
    try {
      Path dir = Files.createDirectories(Paths.get("target", "sqlite"));
      return dir.resolve(name + "-" + UUID.randomUUID() + ".db").toAbsolutePath();
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot create target/sqlite", e);
    }
  }

  @Override
  protected String[] connection() {
    return new String[] {"jdbc:sqlite:" + file + "?" + SETTINGS, "", ""};
  }

  /** sqlite-jdbc reports neither a schema nor a catalog; the database file is schema "main". */
  @Override
  protected String currentSchema(Connection c) {
    return "main";
  }

  @Override
  protected List<Integer> supportedIsolationLevels() {
    return List.of(Connection.TRANSACTION_SERIALIZABLE);
  }

  @Override
  protected boolean databaseWideWriteLock() {
    return true;
  }

  @AfterAll
  void stopBackground() {
    background.shutdownNow();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "journal_mode=DELETE&synchronous=FULL&busy_timeout=5000 | journal_mode=WAL",
        "journal_mode=WAL&synchronous=NORMAL&busy_timeout=5000 | synchronous=FULL",
        "journal_mode=WAL&synchronous=OFF&busy_timeout=5000 | synchronous=FULL",
        "journal_mode=WAL&synchronous=FULL&busy_timeout=0 | busy_timeout",
      })
  void theStoreRefusesAConnectionWithoutTheSettingsItNeedsAndNamesTheSetting(
      String settings, String named) {
    Path other = databaseFile("settings");
    try (HikariDataSource badPool =
        pool("jdbc:sqlite:" + other + "?" + settings, "", "", 2, 5_000)) {
      assertThatThrownBy(() -> JdbcIdempotencyStore.builder(badPool).createSchema(true).build())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(named);
      assertThatThrownBy(
              () -> JdbcIdempotencyStore.builder(badPool).dialect(SqlDialect.SQLITE).build())
          .as("with the dialect named, too")
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(named);
    }
  }

  @Test
  void theDialectIsDetectedAndTheTokenCounterIsATable() throws Exception {
    assertThat(store.dialect()).isEqualTo(SqlDialect.SQLITE);
    assertThat(JdbcIdempotencyStore.schemaSql(SqlDialect.SQLITE, "payments_once"))
        .contains("CREATE TABLE IF NOT EXISTS payments_once_token_seq")
        .contains("INSERT OR IGNORE INTO payments_once_token_seq");
  }

  /**
   * A table in an attached database: SQLite wants the schema on the index's name and the indexed
   * table named bare, the opposite of the server databases.
   */
  @Test
  void aTableInAnAttachedDatabaseGetsItsSchemaCreatedAndWorks() throws Exception {
    assertThat(JdbcIdempotencyStore.schemaSql(SqlDialect.SQLITE, "aux.payments_once"))
        .contains("INDEX IF NOT EXISTS aux.payments_once_expires_at ON payments_once (")
        .contains("CREATE TABLE IF NOT EXISTS aux.payments_once_token_seq");
    com.zaxxer.hikari.HikariConfig config = new com.zaxxer.hikari.HikariConfig();
    config.setJdbcUrl(connection()[0]);
    config.setMaximumPoolSize(2);
    config.setConnectionInitSql("ATTACH DATABASE '" + databaseFile("attached") + "' AS aux");
    try (HikariDataSource attached = new HikariDataSource(config)) {
      JdbcIdempotencyStore inAux =
          JdbcIdempotencyStore.builder(attached)
              .table("aux.payments_once")
              .createSchema(true)
              .build();
      IdempotencyKey key = IdempotencyKey.of(Scope.of("t", "attached"), "k");
      ClaimRequest request =
          new ClaimRequest(key, Fingerprint.of("body"), Duration.ofMinutes(5), Duration.ofHours(1));

      assertThat(inAux.claim(request)).isInstanceOf(ClaimResult.Acquired.class);
      assertThat(inAux.claim(request)).isInstanceOf(ClaimResult.InProgress.class);
      try (Connection c = attached.getConnection();
          java.sql.Statement s = c.createStatement();
          java.sql.ResultSet rs =
              s.executeQuery(
                  "SELECT name FROM aux.sqlite_master WHERE type = 'index'"
                      + " AND name = 'payments_once_expires_at'")) {
        assertThat(rs.next()).as("the index is in the attached database").isTrue();
      }
    }
  }

  /**
   * The payments example's setting: each transaction takes the write lock at BEGIN. A second
   * request for the same key cannot even begin while the first is open, so it never sees the key in
   * flight: it waits at BEGIN and then replays what the first committed, running nothing.
   */
  @Test
  void anImmediateTransactionQueuesAtBeginAndThenReplays() throws Exception {
    try (HikariDataSource immediate =
        pool(connection()[0] + "&transaction_mode=IMMEDIATE", "", "", 4, 30_000)) {
      JdbcIdempotencyStore onImmediate =
          JdbcIdempotencyStore.builder(immediate).table(table).build();
      IdempotencyKey key = IdempotencyKey.of(Scope.of("t-" + UUID.randomUUID(), "immediate"), "k");
      ClaimRequest request =
          new ClaimRequest(key, Fingerprint.of("body"), Duration.ofMinutes(5), Duration.ofHours(1));
      Outcome outcome = Outcome.of("text/plain", "first".getBytes(StandardCharsets.UTF_8));

      try (Connection first = immediate.getConnection()) {
        first.setAutoCommit(false);
        IdempotencyStore t1 = onImmediate.onConnection(first);
        long token = ((ClaimResult.Acquired) t1.claim(request)).token();

        Future<ClaimResult> second =
            background.submit(
                () -> {
                  try (Connection c = immediate.getConnection()) {
                    c.setAutoCommit(false); // BEGIN IMMEDIATE: waits for the first transaction
                    try {
                      return onImmediate.onConnection(c).claim(request);
                    } finally {
                      c.commit();
                      c.setAutoCommit(true);
                    }
                  }
                });
        await("the second transaction waits at BEGIN while the first is open")
            .during(Duration.ofMillis(700))
            .atMost(Duration.ofSeconds(5))
            .until(() -> !second.isDone());

        t1.complete(key, token, outcome, Duration.ofHours(1));
        first.commit();
        first.setAutoCommit(true);
        assertThat(second.get(20, TimeUnit.SECONDS)).isEqualTo(new ClaimResult.Completed(outcome));
      }
    }
  }
}
