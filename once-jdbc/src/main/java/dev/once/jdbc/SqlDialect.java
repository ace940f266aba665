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
   * MariaDB 10.3 or later. MySQL is not supported yet: these statements use sequences and {@code
   * SET STATEMENT ... FOR}, which MySQL lacks.
   */
  MARIADB("mariadb"),
  /** H2 2.x, the embedded default. */
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
              + " use sequences and SET STATEMENT, which MySQL lacks; supported: PostgreSQL 12+, MariaDB 10.3+, H2 2.x");
    }
    if (p.equals("h2")) {
      return H2;
    }
    throw new IllegalArgumentException(
        "Once has no SQL dialect for '"
            + product
            + "'; supported: PostgreSQL 12+, MariaDB 10.3+, H2 2.x");
  }
}
