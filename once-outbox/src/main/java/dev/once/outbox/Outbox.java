package dev.once.outbox;

import dev.once.jdbc.SqlDialect;
import dev.once.jdbc.internal.SchemaScript;
import dev.once.outbox.internal.HeaderCodec;
import dev.once.outbox.internal.OutboxStatements;
import dev.once.outbox.internal.Uuid7;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Writes messages to the outbox table in the caller's transaction, on the caller's connection: the
 * message commits or rolls back with the change it announces, and an {@link OutboxRelay} publishes
 * it after the commit.
 *
 * <pre>{@code
 * Outbox outbox = Outbox.builder().build();       // table once_outbox, dialect from the connection
 * connection.setAutoCommit(false);
 * // ... the business change on connection ...
 * UUID id = outbox.enqueue(connection, "orders", orderId, json);
 * connection.commit();
 * }</pre>
 *
 * <p>The connection must be in a transaction ({@code autoCommit} off): a message written in
 * auto-commit mode would commit on its own, apart from its change, so it is refused. On PostgreSQL
 * a call also runs {@code pg_notify} on the table's channel, so a listening relay wakes at the
 * commit instead of at its next poll; at most one call per {@link Builder#notifyInterval
 * notifyInterval} does, because notifying commits queue behind one another (see {@link
 * Builder#notifyRelays(boolean)}). Thread-safe; one instance serves every connection.
 */
public final class Outbox {

  /** How often at most an outbox notifies by default: 10 ms. */
  public static final Duration DEFAULT_NOTIFY_INTERVAL = Duration.ofMillis(10);

  private static final Pattern TABLE_NAME =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?");

  private final String table;
  private final @Nullable SqlDialect dialect;
  private final boolean notifyRelays;
  private final long notifyIntervalNanos;
  // When this outbox last notified, by System.nanoTime(); ZERO interval: never read.
  private final AtomicLong lastNotified = new AtomicLong();
  private final Clock clock;
  private final Uuid7 ids;
  private volatile @Nullable OutboxStatements detected;

  private Outbox(Builder b) {
    this.table = b.table;
    this.dialect = b.dialect;
    this.notifyRelays = b.notifyRelays;
    this.notifyIntervalNanos = b.notifyInterval.toNanos();
    this.lastNotified.set(System.nanoTime() - notifyIntervalNanos);
    this.clock = b.clock;
    this.ids = new Uuid7(clock::millis);
  }

  /** {@return a builder with the defaults: table {@code once_outbox}, dialect detected} */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return the outbox table, as configured} */
  public String table() {
    return table;
  }

  /**
   * Writes one message without headers.
   *
   * @param connection the caller's connection, in a transaction
   * @param destination the topic or exchange
   * @param key the ordering key, or {@code null}
   * @param payload the body
   * @return the message's id
   * @throws IllegalArgumentException if the message is invalid (see {@link OutboxEntry}) or the
   *     connection is in auto-commit mode
   * @throws SQLException if the insert fails; the caller's transaction decides what happens next
   */
  public UUID enqueue(
      Connection connection, String destination, @Nullable String key, byte[] payload)
      throws SQLException {
    return enqueue(connection, new OutboxEntry(destination, key, payload));
  }

  /**
   * Writes one message.
   *
   * @param connection the caller's connection, in a transaction
   * @param destination the topic or exchange
   * @param key the ordering key, or {@code null}
   * @param payload the body
   * @param headers the headers
   * @return the message's id
   * @throws IllegalArgumentException if the message is invalid (see {@link OutboxEntry}) or the
   *     connection is in auto-commit mode
   * @throws SQLException if the insert fails; the caller's transaction decides what happens next
   */
  public UUID enqueue(
      Connection connection,
      String destination,
      @Nullable String key,
      byte[] payload,
      Map<String, String> headers)
      throws SQLException {
    return enqueue(connection, new OutboxEntry(destination, key, payload, headers));
  }

  /**
   * Writes one message.
   *
   * @param connection the caller's connection, in a transaction
   * @param entry the message
   * @return the message's id
   * @throws IllegalArgumentException if the connection is in auto-commit mode
   * @throws SQLException if the insert fails; the caller's transaction decides what happens next
   */
  public UUID enqueue(Connection connection, OutboxEntry entry) throws SQLException {
    return enqueueAll(connection, List.of(entry)).get(0);
  }

  /**
   * Writes messages in list order (their order for the relay), in one batch of inserts.
   *
   * @param connection the caller's connection, in a transaction
   * @param entries the messages
   * @return their ids, in list order
   * @throws IllegalArgumentException if an entry is null or the connection is in auto-commit mode
   * @throws SQLException if an insert fails; the caller's transaction decides what happens next
   */
  public List<UUID> enqueueAll(Connection connection, List<OutboxEntry> entries)
      throws SQLException {
    Objects.requireNonNull(connection, "connection");
    for (int i = 0; i < entries.size(); i++) {
      if (entries.get(i) == null) {
        throw new IllegalArgumentException("entry " + i + " is null");
      }
    }
    if (entries.isEmpty()) {
      return List.of();
    }
    if (connection.getAutoCommit()) {
      throw new IllegalArgumentException(
          "the connection is in auto-commit mode: the message would commit on its own, apart from"
              + " the change it announces; call setAutoCommit(false) and commit both together");
    }
    OutboxStatements sql = statements(connection);
    long now = clock.millis();
    List<UUID> written = new ArrayList<>(entries.size());
    try (PreparedStatement s = connection.prepareStatement(sql.insert())) {
      for (OutboxEntry e : entries) {
        UUID id = ids.next();
        sql.bindId(s, 1, id);
        s.setString(2, e.destination());
        if (e.key() == null) {
          s.setNull(3, Types.VARCHAR);
        } else {
          s.setString(3, e.key());
        }
        s.setBytes(4, e.payload());
        byte[] headers = HeaderCodec.encode(e.headers());
        if (headers == null) {
          s.setNull(5, Types.VARBINARY);
        } else {
          s.setBytes(5, headers);
        }
        s.setLong(6, now);
        if (entries.size() == 1) {
          s.executeUpdate();
        } else {
          s.addBatch();
        }
        written.add(id);
      }
      if (entries.size() > 1) {
        s.executeBatch();
      }
    }
    String notify = sql.notifyRelays();
    if (notifyRelays && notify != null && notifyNow()) {
      try (PreparedStatement s = connection.prepareStatement(notify)) {
        s.setString(1, table);
        try (ResultSet ignored = s.executeQuery()) {
          // pg_notify returns void; the notification is queued until the commit.
        }
      }
    }
    return written;
  }

  /**
   * Whether this write notifies: the first in each {@code notifyInterval}. The writes after it ride
   * on its notification: the relay it wakes keeps looking for new rows for a while (its linger),
   * longer than the interval.
   */
  private boolean notifyNow() {
    if (notifyIntervalNanos == 0) {
      return true;
    }
    long now = System.nanoTime();
    long last = lastNotified.get();
    return now - last >= notifyIntervalNanos && lastNotified.compareAndSet(last, now);
  }

  /**
   * Reads what waits in the table, in one query: for gauges and health checks, also where no relay
   * runs in this application.
   *
   * @param connection any connection to the database
   * @return the pending and parked rows and the oldest pending row's write time
   * @throws SQLException if the query fails
   */
  public OutboxBacklog backlog(Connection connection) throws SQLException {
    return statements(connection).readBacklog(connection);
  }

  /**
   * Creates the table and its indexes if they do not exist.
   *
   * @param connection any connection to the database; the DDL runs in its current mode
   * @throws SQLException if the DDL fails
   */
  public void createSchema(Connection connection) throws SQLException {
    SqlDialect d = dialect != null ? dialect : SqlDialect.detect(connection);
    SchemaScript.execute(connection, schemaSql(d, table));
  }

  /**
   * The schema DDL for {@code dialect}, with the table and its indexes renamed after {@code table}:
   * for your migrations.
   *
   * @param dialect the database's dialect
   * @param table a plain SQL identifier, optionally schema-qualified
   * @return the DDL statements, separated by {@code ;}
   * @throws IllegalArgumentException if {@code table} is not a plain identifier
   */
  public static String schemaSql(SqlDialect dialect, String table) {
    checkTableName(table);
    return SchemaScript.render(
        Outbox.class, schemaResource(dialect), "once_outbox", table, dialect);
  }

  /**
   * {@return the classpath resource of {@code dialect}'s schema} For example {@code
   * db/once/postgresql/V1__once_outbox.sql}.
   *
   * @param dialect the database's dialect
   */
  public static String schemaResource(SqlDialect dialect) {
    return "db/once/" + dialect.name().toLowerCase(Locale.ROOT) + "/V1__once_outbox.sql";
  }

  static String checkTableName(String table) {
    if (table == null || !TABLE_NAME.matcher(table).matches()) {
      throw new IllegalArgumentException(
          "table must be a plain SQL identifier, optionally schema-qualified, but was '"
              + table
              + "'");
    }
    return table;
  }

  private OutboxStatements statements(Connection connection) throws SQLException {
    OutboxStatements s = detected;
    if (s == null) {
      s = OutboxStatements.of(dialect != null ? dialect : SqlDialect.detect(connection), table);
      detected = s;
    }
    return s;
  }

  @Override
  public String toString() {
    return "Outbox[table " + table + (dialect == null ? "" : ", " + dialect) + "]";
  }

  /** Settings of an {@link Outbox}. */
  public static final class Builder {
    private String table = "once_outbox";
    private @Nullable SqlDialect dialect;
    private boolean notifyRelays = true;
    private Duration notifyInterval = DEFAULT_NOTIFY_INTERVAL;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /**
     * The table, optionally schema-qualified. Default {@code once_outbox}.
     *
     * @param table a plain SQL identifier
     * @return this builder
     * @throws IllegalArgumentException if {@code table} is not a plain identifier
     */
    public Builder table(String table) {
      this.table = checkTableName(table);
      return this;
    }

    /**
     * The dialect. Default: detected from the first connection written to, once.
     *
     * @param dialect the database's dialect
     * @return this builder
     */
    public Builder dialect(SqlDialect dialect) {
      this.dialect = Objects.requireNonNull(dialect, "dialect");
      return this;
    }

    /**
     * Whether a write on PostgreSQL also runs {@code pg_notify} so that listening relays wake at
     * its commit. Default true. PostgreSQL queues notifications in one cluster-wide queue and takes
     * a global lock on it while a notifying transaction commits, so notifying commits follow one
     * another, each waiting for the one before it to reach the disk. {@link #notifyInterval} keeps
     * that to one commit per interval; turned off, the relay finds new rows at its next poll.
     *
     * @param notifyRelays whether to notify
     * @return this builder
     */
    public Builder notifyRelays(boolean notifyRelays) {
      this.notifyRelays = notifyRelays;
      return this;
    }

    /**
     * At most one write per interval notifies, the first; the others in it do not. A relay woken by
     * a notification keeps looking for new rows for its {@link OutboxRelay.Builder#linger linger}
     * (100 ms by default), which covers the writes that did not notify unless a transaction stays
     * open longer than that after its write: its message then waits for the relay's next poll. Keep
     * it well under the relays' linger. Default {@link #DEFAULT_NOTIFY_INTERVAL}; {@link
     * Duration#ZERO}: every write notifies.
     *
     * @param notifyInterval zero or more
     * @return this builder
     */
    public Builder notifyInterval(Duration notifyInterval) {
      if (notifyInterval == null || notifyInterval.isNegative()) {
        throw new IllegalArgumentException(
            "notifyInterval must not be negative, but was " + notifyInterval);
      }
      this.notifyInterval = notifyInterval;
      return this;
    }

    /**
     * The clock that stamps {@code created_at} and the ids' time. Default the system clock.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** {@return the outbox} */
    public Outbox build() {
      return new Outbox(this);
    }
  }
}
