package dev.once.jdbc;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import java.util.Locale;

/** The SQL databases {@link JdbcIdempotencyStore} speaks to. */
public enum SqlDialect {

  /** PostgreSQL 12 or later. */
  POSTGRESQL("postgresql"),
  /**
   * MariaDB 10.5 or later: a claim is one {@code INSERT ... RETURNING}, which older servers lack
   * (the store refuses them when it is built). MySQL is not supported yet: these statements use
   * sequences, {@code SET STATEMENT ... FOR} and {@code INSERT ... RETURNING}, which MySQL lacks.
   */
  MARIADB("mariadb"),
  /**
   * SQLite 3.42 or later (through {@code org.xerial:sqlite-jdbc}), the durable embedded store. The
   * connections must use {@code journal_mode=WAL}, {@code synchronous=FULL} (or {@code EXTRA}) and
   * a {@code busy_timeout} above zero, e.g. {@code
   * jdbc:sqlite:data/app.db?journal_mode=WAL&synchronous=FULL&busy_timeout=10000}; the store checks
   * them when it is built. With them, a commit has reached the write-ahead log (and been synced)
   * before it returns, so a killed process loses no acknowledged record.
   *
   * <p>SQLite lets one transaction write at a time: the first write of a transaction takes a lock
   * on the whole database until it ends. A claim is a write, so a claim in the caller's transaction
   * holds every key, not just its own, until that transaction ends; other claimers wait for it (up
   * to {@code busy_timeout}) or, failing fast, answer in progress. Transactions that read before
   * they write should begin with {@code BEGIN IMMEDIATE} ({@code transaction_mode=IMMEDIATE} in the
   * URL): a deferred transaction that has read cannot wait for the write lock, and SQLite fails its
   * first write at once (the store reports that as a serialization failure, SQLState {@code 40001}:
   * roll back and retry). See {@link JdbcIdempotencyStore} for what each setting is for.
   */
  SQLITE("sqlite"),
  /**
   * H2 2.x, for tests and development. Not durable: H2 2.5's MVStore was seen to lose committed
   * transactions when the process is killed while several transactions commit; use {@link #SQLITE}
   * for an embedded store that must survive a crash.
   */
  H2("h2");

  private final String folder;

  SqlDialect(String folder) {
    this.folder = folder;
  }

  /**
   * {@return the classpath resource holding this dialect's schema} For example {@code
   * db/once/postgresql/V1__once_records.sql}.
   */
  public String schemaResource() {
    return "db/once/" + folder + "/V1__once_records.sql";
  }

  /**
   * The dialect of the database behind {@code connection}, from its product name.
   *
   * @param connection an open connection; only its metadata is read
   * @return the dialect
   * @throws SQLException if the metadata cannot be read
   * @throws IllegalArgumentException if the product is not one Once supports
   */
  public static SqlDialect detect(Connection connection) throws SQLException {
    DatabaseMetaData meta = connection.getMetaData();
    return detect(meta.getDatabaseProductName(), meta.getDatabaseProductVersion());
  }

  static SqlDialect detect(String product, String version) {
    String p = product.toLowerCase(Locale.ROOT);
    if (p.contains("postgresql")) {
      return POSTGRESQL;
    }
    // MySQL's own driver calls a MariaDB server "MySQL"; the server's version string still says
    // MariaDB.
    if (p.contains("mariadb")
        || (p.contains("mysql")
            && version != null
            && version.toLowerCase(Locale.ROOT).contains("mariadb"))) {
      return MARIADB;
    }
    if (p.contains("mysql")) {
      throw new IllegalArgumentException(
          "MySQL ("
              + version
              + ") is not supported yet: Once's MariaDB statements"
              + " use sequences, SET STATEMENT and INSERT ... RETURNING, which MySQL lacks; supported: PostgreSQL 12+, MariaDB 10.5+, SQLite 3.42+, H2 2.x");
    }
    if (p.equals("h2")) {
      return H2;
    }
    if (p.equals("sqlite")) {
      return SQLITE;
    }
    throw new IllegalArgumentException(
        "Once has no SQL dialect for '"
            + product
            + "'; supported: PostgreSQL 12+, MariaDB 10.5+, SQLite 3.42+, H2 2.x");
  }
}
