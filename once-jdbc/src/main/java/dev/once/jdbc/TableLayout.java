package dev.once.jdbc;

/** How {@link JdbcIdempotencyStore}'s records table is laid out, and so how its retention works. */
public enum TableLayout {

  /**
   * One table, every dialect: the purge deletes expired rows in bounded batches ({@code
   * db/once/<dialect>/V1__once_records.sql}). The default.
   */
  PLAIN,

  /**
   * PostgreSQL only: the table is partitioned by range on {@code expires_at}, and the purge drops
   * whole partitions once their range has passed instead of deleting rows, so retention writes no
   * WAL per record and leaves no dead tuples for vacuum ({@code
   * db/once/postgresql/V1__once_records_partitioned.sql}). A record outlives its retention by up to
   * one partition width. Claims take a transaction-scoped advisory lock per key and need {@code
   * READ COMMITTED}.
   */
  PARTITIONED;

  /**
   * {@return the classpath resource holding this layout's schema for {@code dialect}}
   *
   * @param dialect the database
   * @throws IllegalArgumentException if the layout is {@link #PARTITIONED} and the dialect is not
   *     PostgreSQL
   */
  public String schemaResource(SqlDialect dialect) {
    if (this == PLAIN) {
      return dialect.schemaResource();
    }
    if (dialect != SqlDialect.POSTGRESQL) {
      throw new IllegalArgumentException(
          "the PARTITIONED layout is for PostgreSQL only, but the dialect is " + dialect);
    }
    return "db/once/postgresql/V1__once_records_partitioned.sql";
  }
}
