package dev.once.benchmarks;

import dev.once.IdempotencyKey;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.apache.camel.processor.idempotent.jdbc.JdbcMessageIdRepository;
import org.springframework.integration.jdbc.metadata.JdbcMetadataStore;

/**
 * What a user would otherwise pick, on the same PostgreSQL, each with its own table from its
 * documented schema and used as documented: one key per call, one transaction per key. The key is
 * the digest's hex, as Once stores the digest.
 */
final class Peers {

  static final String CAMEL = "Camel JdbcMessageIdRepository.add";
  static final String SPRING = "Spring Integration JdbcMetadataStore.putIfAbsent";
  static final String NAIVE = "naive SELECT then INSERT";
  private static final String CAMEL_TABLE = "CAMEL_MESSAGEPROCESSED";

  private Peers() {}

  /** Runs SQL on the target's pool. */
  @FunctionalInterface
  interface Sql {
    void execute(String... statements) throws SQLException;
  }

  /**
   * Camel's JDBC idempotent repository ({@code camel-sql}): {@code add} runs {@code SELECT
   * COUNT(*)} then {@code INSERT} in one Spring transaction. Its table is the one the repository
   * creates on start ({@code JdbcMessageIdRepository}'s documented default schema, {@code
   * getCreateString()}: primary key (processorName, messageId)).
   */
  static Variant camel(DataSource ds, Sql sql) throws Exception {
    JdbcMessageIdRepository repository = new JdbcMessageIdRepository(ds, "once-bench");
    // Its own create-on-start probes with a SELECT that fails inside the same transaction as the
    // CREATE, which
    // PostgreSQL then refuses ("current transaction is aborted"); so run its documented CREATE
    // TABLE first.
    sql.execute("DROP TABLE IF EXISTS " + CAMEL_TABLE);
    sql.execute(repository.getCreateString()); // its default table, CAMEL_MESSAGEPROCESSED
    repository.start();
    return new Variant() {
      @Override
      public void reset() throws SQLException {
        sql.execute("TRUNCATE TABLE " + CAMEL_TABLE);
      }

      @Override
      public void process(List<IdempotencyKey> keys, Answers answers) {
        for (IdempotencyKey key : keys) {
          if (repository.add(key.digestHex())) {
            answers.fresh++;
          } else {
            answers.duplicate++;
          }
        }
      }

      @Override
      public void close() {
        repository.stop();
      }
    };
  }

  /**
   * Spring Integration's {@code JdbcMetadataStore.putIfAbsent}: an {@code INSERT ... SELECT ...
   * HAVING COUNT(*) = 0}, then a {@code SELECT} of the existing value when nothing was inserted.
   * Table {@code INT_METADATA_STORE} from the {@code schema-postgresql.sql} shipped in its jar.
   */
  static Variant spring(DataSource ds, Sql sql) throws Exception {
    sql.execute(
        springMetadataTableDdl().replaceFirst("(?i)CREATE TABLE", "CREATE TABLE IF NOT EXISTS"));
    JdbcMetadataStore store = new JdbcMetadataStore(ds);
    store.afterPropertiesSet();
    return new Variant() {
      @Override
      public void reset() throws SQLException {
        sql.execute("TRUNCATE TABLE INT_METADATA_STORE");
      }

      @Override
      public void process(List<IdempotencyKey> keys, Answers answers) {
        for (IdempotencyKey key : keys) {
          if (store.putIfAbsent(key.digestHex(), "1") == null) {
            answers.fresh++;
          } else {
            answers.duplicate++;
          }
        }
      }
    };
  }

  /**
   * The {@code CREATE TABLE INT_METADATA_STORE} statement of Spring Integration's PostgreSQL
   * schema.
   */
  static String springMetadataTableDdl() throws IOException {
    String resource = "org/springframework/integration/jdbc/schema-postgresql.sql";
    try (InputStream in = JdbcMetadataStore.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is missing from spring-integration-jdbc");
      }
      String schema = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      Matcher m =
          Pattern.compile("(?is)CREATE TABLE INT_METADATA_STORE\\s*\\(.*?\\);").matcher(schema);
      if (!m.find()) {
        throw new IllegalStateException("no CREATE TABLE INT_METADATA_STORE in " + resource);
      }
      String ddl = m.group();
      return ddl.substring(0, ddl.length() - 1);
    }
  }

  /**
   * The check-then-act anti-pattern, the floor: {@code SELECT} the key, {@code INSERT} it if
   * absent, each statement in autocommit. (Two consumers racing on one key would both see it
   * absent; here no two threads share a key, so it is only measured, never wrong.)
   */
  static Variant naive(DataSource ds, Sql sql) throws SQLException {
    sql.execute("CREATE TABLE IF NOT EXISTS bench_naive (id bytea PRIMARY KEY)");
    return new Variant() {
      @Override
      public void reset() throws SQLException {
        sql.execute("TRUNCATE TABLE bench_naive");
      }

      @Override
      public void process(List<IdempotencyKey> keys, Answers answers) throws SQLException {
        try (Connection c = ds.getConnection()) {
          for (IdempotencyKey key : keys) {
            byte[] id = key.digest();
            boolean seen;
            try (PreparedStatement ps =
                c.prepareStatement("SELECT 1 FROM bench_naive WHERE id = ?")) {
              ps.setBytes(1, id);
              try (ResultSet rs = ps.executeQuery()) {
                seen = rs.next();
              }
            }
            if (seen) {
              answers.duplicate++;
            } else {
              try (PreparedStatement ps =
                  c.prepareStatement("INSERT INTO bench_naive (id) VALUES (?)")) {
                ps.setBytes(1, id);
                ps.executeUpdate();
              }
              answers.fresh++;
            }
          }
        }
      }
    };
  }
}
