package dev.once.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mariadb.jdbc.MariaDbDataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The schema files shipped the way docs/operations.md tells users to: copied into the application's
 * own Flyway migrations under its next free version, next to its own {@code V1}, and migrated by
 * real Flyway (the version Spring Boot manages). A store that creates nothing then claims,
 * completes and replays on the result, and its schema check passes.
 */
class FlywayMigrationIT {

  @TempDir Path migrations;

  @Test
  void postgresqlRecordsMigrateNextToTheApplicationsOwnV1() throws Exception {
    migrateAndUseOnPostgres(TableLayout.PLAIN);
  }

  @Test
  void postgresqlPartitionedRecordsAndTheirFunctionBodiesMigrate() throws Exception {
    migrateAndUseOnPostgres(TableLayout.PARTITIONED);
  }

  /** In a schema of its own, which the store's connections see alone. */
  private void migrateAndUseOnPostgres(TableLayout layout) throws Exception {
    TestDatabase db = TestServers.postgres();
    String schema = newName();
    execute(db, "CREATE SCHEMA " + schema);
    try {
      PGSimpleDataSource store = new PGSimpleDataSource();
      store.setURL(db.jdbcUrl());
      store.setUser(db.user());
      store.setPassword(db.password());
      store.setCurrentSchema(schema);
      migrateAndUse(db, schema, store, SqlDialect.POSTGRESQL, layout, "postgresql");
    } finally {
      execute(db, "DROP SCHEMA " + schema + " CASCADE");
    }
  }

  @Test
  void mariadbRecordsMigrateNextToTheApplicationsOwnV1() throws Exception {
    TestDatabase db = TestServers.mariadb();
    String database = newName();
    execute(db, "CREATE DATABASE " + database);
    try {
      MariaDbDataSource store = new MariaDbDataSource(withDatabase(db.jdbcUrl(), database));
      store.setUser(db.user());
      store.setPassword(db.password());
      migrateAndUse(db, database, store, SqlDialect.MARIADB, TableLayout.PLAIN, "mariadb");
    } finally {
      execute(db, "DROP DATABASE " + database);
    }
  }

  @Test
  void h2RecordsMigrateNextToTheApplicationsOwnV1() throws Exception {
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL("jdbc:h2:mem:" + newName() + ";DB_CLOSE_DELAY=-1");
    String url = h2.getURL();
    TestDatabase db = new TestDatabase("H2 in memory", url, "sa", "");
    h2.setUser("sa");
    migrateAndUse(db, null, h2, SqlDialect.H2, TableLayout.PLAIN, "h2");
  }

  /**
   * The application's {@code V1__orders.sql}, Once's file copied as {@code V2__once_records.sql};
   * migrated twice (the second run has nothing to do); then a store on {@code storeSource} with no
   * schema creation of its own.
   */
  private void migrateAndUse(
      TestDatabase db,
      String schema,
      javax.sql.DataSource storeSource,
      SqlDialect dialect,
      TableLayout layout,
      String folder)
      throws IOException {
    Files.writeString(
        migrations.resolve("V1__orders.sql"),
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, note VARCHAR(100));\n");
    String file =
        layout == TableLayout.PARTITIONED
            ? "V1__once_records_partitioned.sql"
            : "V1__once_records.sql";
    Files.writeString(
        migrations.resolve("V2__once_records.sql"), resource("db/once/" + folder + "/" + file));

    var config =
        Flyway.configure()
            .dataSource(db.jdbcUrl(), db.user(), db.password())
            .locations("filesystem:" + migrations);
    if (schema != null) {
      config = config.schemas(schema);
    }
    Flyway flyway = config.load();
    MigrateResult first = flyway.migrate();
    assertThat(first.migrationsExecuted).isEqualTo(2);
    assertThat(flyway.migrate().migrationsExecuted).isZero();

    JdbcIdempotencyStore store =
        JdbcIdempotencyStore.builder(storeSource).dialect(dialect).layout(layout).build();
    store.admin().check();
    IdempotencyKey key = IdempotencyKey.of(Scope.global("flyway"), "order-" + UUID.randomUUID());
    ClaimRequest request =
        new ClaimRequest(key, Fingerprint.empty(), Duration.ofSeconds(30), Duration.ofHours(1));
    ClaimResult claimed = store.claim(request);
    assertThat(claimed).isInstanceOf(ClaimResult.Acquired.class);
    Outcome outcome = Outcome.of("text/plain", "charged".getBytes(StandardCharsets.UTF_8));
    store.complete(key, ((ClaimResult.Acquired) claimed).token(), outcome, Duration.ofHours(1));
    assertThat(store.claim(request)).isEqualTo(new ClaimResult.Completed(outcome));
    assertThat(store.purgeExpired(100)).isZero();
  }

  private static String resource(String path) throws IOException {
    try (InputStream in =
        Objects.requireNonNull(
            FlywayMigrationIT.class.getClassLoader().getResourceAsStream(path), path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static String newName() {
    return "flyway_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  }

  /** {@code url} on another database of the same server. */
  private static String withDatabase(String url, String database) {
    return url.replaceFirst("^(jdbc:[a-z]+://[^/]+/)[^?;]*", "$1" + database);
  }

  private static void execute(TestDatabase db, String sql) throws SQLException {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
