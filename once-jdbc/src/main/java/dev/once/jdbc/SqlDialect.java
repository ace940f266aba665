package dev.once.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;

/** The SQL databases {@link JdbcIdempotencyStore} speaks to. */
public enum SqlDialect {

  /** PostgreSQL 12 or later. */
  POSTGRESQL("postgresql"),
  /** MariaDB 10.3 or later; MySQL 8 runs the same statements except the fail-fast claim. */
  MARIADB("mariadb"),
  /** H2 2.x, the embedded default. */
  H2("h2");

  private final String folder;

  SqlDialect(String folder) {
    this.folder = folder;
  }

  /** The classpath resource holding this dialect's schema, e.g. {@code db/once/postgresql/V1__once_records.sql}. */
  public String schemaResource() {
    return "db/once/" + folder + "/V1__once_records.sql";
  }

  /**
   * The dialect of the database behind {@code connection}, from its product name.
   *
   * @throws IllegalArgumentException if the product is not one Once supports
   */
  public static SqlDialect detect(Connection connection) throws SQLException {
    String product = connection.getMetaData().getDatabaseProductName();
    String p = product.toLowerCase(Locale.ROOT);
    if (p.contains("postgresql")) {
      return POSTGRESQL;
    }
    if (p.contains("mariadb") || p.contains("mysql")) {
      return MARIADB;
    }
    if (p.equals("h2")) {
      return H2;
    }
    throw new IllegalArgumentException("Once has no SQL dialect for '" + product
        + "'; supported: PostgreSQL, MariaDB/MySQL, H2");
  }
}
