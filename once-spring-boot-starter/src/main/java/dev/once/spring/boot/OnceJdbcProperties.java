package dev.once.spring.boot;

import dev.once.jdbc.ConcurrentClaimPolicy;
import dev.once.jdbc.TableLayout;
import java.time.Duration;

/**
 * {@code once.jdbc.*}: the JDBC store ({@code dev.once.jdbc.JdbcIdempotencyStore}) the starter
 * builds on the application's DataSource, also used by the idempotent listeners. Part of {@link
 * OnceProperties}.
 */
public class OnceJdbcProperties {
  /** Table of the records, optionally schema-qualified. */
  private String table = "once_records";

  /** When to create the table on start-up: always, embedded (in-memory databases only) or never. */
  private SchemaCreation createSchema = SchemaCreation.EMBEDDED;

  /**
   * In atomic mode, what a request does when another open transaction holds its key: fail-fast
   * (answer 409 at once) or wait (block until that transaction ends, then replay or run).
   */
  private ConcurrentClaimPolicy concurrentClaims = ConcurrentClaimPolicy.FAIL_FAST;

  /**
   * PostgreSQL: how long a transaction that holds claimed keys (atomic mode, the listeners' inbox)
   * may sit idle before the server rolls it back, so a client that vanished mid-transaction frees
   * its keys after this instead of after the server's TCP keepalive (hours). Longer than the
   * longest pause a handler makes inside its transaction (a slow remote call). 0 leaves the
   * server's setting.
   */
  private Duration idleTransactionTimeout = Duration.ofSeconds(90);

  /**
   * The table's layout: plain, or partitioned (PostgreSQL only: partitioned by expiry, and the
   * purger drops whole partitions instead of deleting rows; claims need READ COMMITTED).
   */
  private TableLayout layout = TableLayout.PLAIN;

  /**
   * {@return the {@code once.jdbc.table} property} Table of the records, optionally
   * schema-qualified. Default {@code once_records}.
   */
  public String getTable() {
    return table;
  }

  /**
   * Sets the {@code once.jdbc.table} property; see {@link #getTable()}.
   *
   * @param table the new value
   */
  public void setTable(String table) {
    this.table = table;
  }

  /**
   * {@return the {@code once.jdbc.create-schema} property} When to create the table on start-up:
   * always, embedded (in-memory databases only) or never. Default {@code embedded}.
   */
  public SchemaCreation getCreateSchema() {
    return createSchema;
  }

  /**
   * Sets the {@code once.jdbc.create-schema} property; see {@link #getCreateSchema()}.
   *
   * @param createSchema the new value
   */
  public void setCreateSchema(SchemaCreation createSchema) {
    this.createSchema = createSchema;
  }

  /**
   * {@return the {@code once.jdbc.concurrent-claims} property} In atomic mode, what a request does
   * when another open transaction holds its key: fail-fast (answer 409 at once) or wait (block
   * until that transaction ends, then replay or run). Default {@code fail-fast}.
   */
  public ConcurrentClaimPolicy getConcurrentClaims() {
    return concurrentClaims;
  }

  /**
   * Sets the {@code once.jdbc.concurrent-claims} property; see {@link #getConcurrentClaims()}.
   *
   * @param concurrentClaims the new value
   */
  public void setConcurrentClaims(ConcurrentClaimPolicy concurrentClaims) {
    this.concurrentClaims = concurrentClaims;
  }

  /**
   * {@return the {@code once.jdbc.idle-transaction-timeout} property} PostgreSQL: how long a
   * transaction that holds claimed keys (atomic mode, the listeners' inbox) may sit idle before the
   * server rolls it back, so a client that vanished mid-transaction frees its keys after this
   * instead of after the server's TCP keepalive (hours). Longer than the longest pause a handler
   * makes inside its transaction (a slow remote call). 0 leaves the server's setting. Default
   * {@code 90s}.
   */
  public Duration getIdleTransactionTimeout() {
    return idleTransactionTimeout;
  }

  /**
   * Sets the {@code once.jdbc.idle-transaction-timeout} property; see {@link
   * #getIdleTransactionTimeout()}.
   *
   * @param idleTransactionTimeout the new value
   */
  public void setIdleTransactionTimeout(Duration idleTransactionTimeout) {
    this.idleTransactionTimeout = idleTransactionTimeout;
  }

  /**
   * {@return the {@code once.jdbc.layout} property} The table's layout: plain, or partitioned
   * (PostgreSQL only: partitioned by expiry, and the purger drops whole partitions instead of
   * deleting rows; claims need READ COMMITTED). Default {@code plain}.
   */
  public TableLayout getLayout() {
    return layout;
  }

  /**
   * Sets the {@code once.jdbc.layout} property; see {@link #getLayout()}.
   *
   * @param layout the new value
   */
  public void setLayout(TableLayout layout) {
    this.layout = layout;
  }

  /** When the starter creates the JDBC store's table. */
  public enum SchemaCreation {
    /** On every start (the DDL is {@code CREATE ... IF NOT EXISTS}). */
    ALWAYS,
    /**
     * Only for an in-memory database (H2, HSQLDB or Derby in memory), as Spring Boot's own SQL
     * initialisation.
     */
    EMBEDDED,
    /** Never: ship {@code db/once/<dialect>/V1__once_records.sql} in your migrations. */
    NEVER
  }
}
