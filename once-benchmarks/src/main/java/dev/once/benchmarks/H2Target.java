package dev.once.benchmarks;

import dev.once.IdempotencyKey;
import dev.once.jdbc.SqlDialect;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * H2 as an embedded file database in a temporary folder, the way the quick-start service runs it.
 * The ceiling is {@code MERGE ... WHEN NOT MATCHED THEN INSERT} (H2 has no {@code ON CONFLICT});
 * its update count is the number of keys that were new.
 */
final class H2Target extends JdbcTarget {

  private final Path folder;
  private final String url;

  private H2Target(Path folder, int threads) throws SQLException {
    super(url(folder), "sa", "", SqlDialect.H2, threads);
    this.folder = folder;
    this.url = url(folder);
  }

  private static String url(Path folder) {
    return "jdbc:h2:file:" + folder.resolve("bench").toAbsolutePath() + ";DB_CLOSE_DELAY=-1";
  }

  static H2Target open(int threads) throws SQLException, IOException {
    return new H2Target(Files.createTempDirectory("once-bench-h2-"), threads);
  }

  @Override
  String name() {
    return "H2";
  }

  @Override
  String where() {
    return "embedded file database in the benchmark's JVM (" + folder + ")";
  }

  @Override
  String version() {
    try {
      return "H2 " + queryString("SELECT H2VERSION()");
    } catch (SQLException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  @Override
  ProcCpu.Source serverCpu() {
    return ProcCpu.none(
        "no server: H2 runs inside the benchmark's JVM, so its CPU is in the JVM column");
  }

  @Override
  String rawTableDdl() {
    return "CREATE TABLE " + RAW_TABLE + " (id BINARY(32) NOT NULL PRIMARY KEY)";
  }

  @Override
  String ceilingLabel(int batch) {
    return batch == 1
        ? "MERGE WHEN NOT MATCHED THEN INSERT"
        : "multi-row MERGE WHEN NOT MATCHED THEN INSERT";
  }

  @Override
  Scenario.Factory ceiling(int batch) {
    return ds ->
        new Variant() {
          @Override
          public void reset() throws SQLException {
            execute(truncate(RAW_TABLE));
          }

          @Override
          public void process(List<IdempotencyKey> keys, Answers answers) throws SQLException {
            String sql =
                "MERGE INTO "
                    + RAW_TABLE
                    + " r USING (VALUES "
                    + String.join(", ", Collections.nCopies(keys.size(), "(CAST(? AS BINARY(32)))"))
                    + ") AS s(id) ON r.id = s.id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)";
            try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
              for (int i = 0; i < keys.size(); i++) {
                ps.setBytes(i + 1, keys.get(i).digest());
              }
              PostgresTarget.count(ps.executeUpdate(), keys.size(), answers);
            }
          }
        };
  }

  @Override
  public void close() {
    pool.close();
    try (Connection c = java.sql.DriverManager.getConnection(url, "sa", "");
        java.sql.Statement s = c.createStatement()) {
      s.execute("SHUTDOWN");
    } catch (SQLException e) {
      // deleting the files anyway
    }
    try (Stream<Path> files = Files.walk(folder)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary folder; the OS cleans it eventually
    }
  }
}
