package dev.once.benchmarks;

import dev.once.IdempotencyKey;
import dev.once.jdbc.SqlDialect;
import dev.once.testkit.servers.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;

/**
 * MariaDB (or MySQL), found or started by the test kit. The ceiling is {@code INSERT IGNORE}: one
 * row per autocommit statement, or a multi-row {@code INSERT IGNORE ... RETURNING id} for a batch,
 * which returns the rows it inserted, so the caller learns which keys were new, as a claim does.
 */
final class MariaDbTarget extends JdbcTarget {

  private final TestDatabase db;

  MariaDbTarget(TestDatabase db, int threads) throws SQLException {
    super(db.jdbcUrl(), db.user(), db.password(), SqlDialect.MARIADB, threads);
    this.db = db;
  }

  @Override
  String name() {
    return "MariaDB";
  }

  @Override
  String where() {
    return db.description();
  }

  @Override
  String version() {
    try {
      String v = queryString("SELECT VERSION()");
      return v != null && v.toLowerCase(java.util.Locale.ROOT).contains("mariadb")
          ? "MariaDB " + v
          : "MySQL " + v;
    } catch (SQLException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  @Override
  List<String> settings() {
    return settingLines(
        "innodb_flush_log_at_trx_commit",
        "SELECT @@innodb_flush_log_at_trx_commit",
        "log_bin",
        "SELECT @@log_bin",
        "transaction isolation",
        "SELECT @@tx_isolation",
        "innodb_buffer_pool_size",
        "SELECT @@innodb_buffer_pool_size");
  }

  @Override
  ProcCpu.Source serverCpu() {
    if (!Benchmarks.isLoopback(db.host())) {
      return ProcCpu.none("not counted: the server runs at " + db.host() + ", not on this machine");
    }
    OptionalLong pid = OptionalLong.empty();
    try {
      String pidFile = queryString("SELECT @@pid_file");
      if (pidFile != null && Files.isReadable(Path.of(pidFile))) {
        pid = OptionalLong.of(Long.parseLong(Files.readString(Path.of(pidFile)).strip()));
      }
    } catch (SQLException | IOException | NumberFormatException e) {
      // fall back to the process name
    }
    if (pid.isEmpty()) {
      pid = ProcCpu.onlyProcessNamed("mariadbd");
    }
    if (pid.isEmpty()) {
      pid = ProcCpu.onlyProcessNamed("mysqld");
    }
    return ProcCpu.process(
        pid,
        "mariadbd",
        "not counted: neither @@pid_file nor a single mariadbd/mysqld process identifies the server");
  }

  /** InnoDB's redo log sequence number: bytes of redo written so far. */
  @Override
  long walBytes() {
    try (Connection c = pool.getConnection();
        java.sql.Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW GLOBAL STATUS LIKE 'Innodb_lsn_current'")) {
      return rs.next() ? Long.parseLong(rs.getString(2)) : -1;
    } catch (SQLException | NumberFormatException e) {
      return -1;
    }
  }

  @Override
  String rawTableDdl() {
    return "CREATE TABLE " + RAW_TABLE + " (id BINARY(32) NOT NULL PRIMARY KEY) ENGINE = InnoDB";
  }

  @Override
  String ceilingLabel(int batch) {
    return batch == 1 ? "INSERT IGNORE" : "multi-row INSERT IGNORE ... RETURNING";
  }

  @Override
  Scenario.Factory ceiling(int batch) {
    String single = "INSERT IGNORE INTO " + RAW_TABLE + " (id) VALUES (?)";
    String multi =
        "INSERT IGNORE INTO "
            + RAW_TABLE
            + " (id) VALUES "
            + String.join(", ", Collections.nCopies(batch, "(?)"))
            + " RETURNING id";
    return ds ->
        new Variant() {
          @Override
          public void reset() throws SQLException {
            execute(truncate(RAW_TABLE));
          }

          @Override
          public void process(List<IdempotencyKey> keys, Answers answers) throws SQLException {
            try (Connection c = ds.getConnection()) {
              if (keys.size() == 1) {
                try (PreparedStatement ps = c.prepareStatement(single)) {
                  ps.setBytes(1, keys.get(0).digest());
                  PostgresTarget.count(ps.executeUpdate(), 1, answers);
                }
              } else {
                String sql =
                    keys.size() == batch
                        ? multi
                        : "INSERT IGNORE INTO "
                            + RAW_TABLE
                            + " (id) VALUES "
                            + String.join(", ", Collections.nCopies(keys.size(), "(?)"))
                            + " RETURNING id";
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                  for (int i = 0; i < keys.size(); i++) {
                    ps.setBytes(i + 1, keys.get(i).digest());
                  }
                  int inserted = 0;
                  try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                      inserted++;
                    }
                  }
                  PostgresTarget.count(inserted, keys.size(), answers);
                }
              }
            }
          }
        };
  }
}
