package dev.once.spring.boot;

import dev.once.outbox.Outbox;
import dev.once.outbox.OutboxEntry;
import dev.once.outbox.OutboxException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Writes outbox messages in the current Spring-managed transaction: the message commits or rolls
 * back with the business rows written in that transaction ({@code JdbcTemplate}, {@code
 * JdbcClient}, {@code @Transactional} services), and the relay publishes it after the commit.
 *
 * <pre>{@code
 * @Transactional
 * public void place(Order order) {
 *   jdbc.update("INSERT INTO orders (id, total) VALUES (?, ?)", order.id(), order.total());
 *   outbox.enqueue("orders", order.id(), json(order));
 * }
 * }</pre>
 *
 * <p>Every method needs a transaction of the application's DataSource (a {@code
 * DataSourceTransactionManager} or {@code JdbcTransactionManager}; a {@code JpaTransactionManager}
 * exposes its JDBC connection the same way, not tested here): without one the message would commit
 * alone, before or without the change it announces, so it is refused with {@link
 * IllegalStateException}. A database failure throws {@link OutboxException}, which rolls a
 * {@code @Transactional} method back.
 */
public final class TransactionalOutbox {

  private final Outbox outbox;
  private final DataSource dataSource;

  /**
   * Writes through {@code outbox} on {@code dataSource}'s transactional connection.
   *
   * @param outbox the table and dialect settings
   * @param dataSource the DataSource whose Spring transaction the messages join
   */
  public TransactionalOutbox(Outbox outbox, DataSource dataSource) {
    this.outbox = Objects.requireNonNull(outbox, "outbox");
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
  }

  /** {@return the outbox this writes through} */
  public Outbox outbox() {
    return outbox;
  }

  /**
   * Writes one message with a UTF-8 text body.
   *
   * @param destination the topic or exchange
   * @param key the ordering key, or {@code null}
   * @param payload the body, sent as UTF-8
   * @return the message's id, the one the consumer's inbox dedupes on
   * @throws IllegalStateException if no transaction of the DataSource is active
   * @throws IllegalArgumentException if the message is invalid (see {@link OutboxEntry})
   * @throws OutboxException if the database failed
   */
  public UUID enqueue(String destination, @Nullable String key, String payload) {
    return enqueue(new OutboxEntry(destination, key, utf8(payload), Map.of()));
  }

  /**
   * Writes one message.
   *
   * @param destination the topic or exchange
   * @param key the ordering key, or {@code null}
   * @param payload the body
   * @param headers the headers
   * @return the message's id
   * @throws IllegalStateException if no transaction of the DataSource is active
   * @throws IllegalArgumentException if the message is invalid (see {@link OutboxEntry})
   * @throws OutboxException if the database failed
   */
  public UUID enqueue(
      String destination, @Nullable String key, byte[] payload, Map<String, String> headers) {
    return enqueue(new OutboxEntry(destination, key, payload, headers));
  }

  /**
   * Writes one message.
   *
   * @param entry the message
   * @return the message's id
   * @throws IllegalStateException if no transaction of the DataSource is active
   * @throws OutboxException if the database failed
   */
  public UUID enqueue(OutboxEntry entry) {
    return enqueueAll(List.of(entry)).get(0);
  }

  /**
   * Writes messages in list order, their order for the relay.
   *
   * @param entries the messages
   * @return their ids, in list order
   * @throws IllegalStateException if no transaction of the DataSource is active
   * @throws IllegalArgumentException if an entry is null
   * @throws OutboxException if the database failed
   */
  public List<UUID> enqueueAll(List<OutboxEntry> entries) {
    if (!TransactionSynchronizationManager.isActualTransactionActive()) {
      throw new IllegalStateException(
          "no transaction is active: an outbox message written now would commit on its own, apart"
              + " from the change it announces; call the outbox from a @Transactional method (or"
              + " inside TransactionTemplate.execute) that also writes that change");
    }
    Connection connection = DataSourceUtils.getConnection(dataSource);
    try {
      // A transaction of another resource (a broker's) leaves this DataSource's connection in
      // auto-commit mode.
      if (connection.getAutoCommit()) {
        throw new IllegalStateException(
            "the active transaction is not one of the outbox's DataSource (a transaction manager"
                + " for another resource?): the message would commit apart from it; use the"
                + " DataSource's transaction manager (DataSourceTransactionManager,"
                + " JdbcTransactionManager or JpaTransactionManager)");
      }
      return outbox.enqueueAll(connection, entries);
    } catch (SQLException e) {
      throw new OutboxException("could not write to the outbox " + outbox.table(), e);
    } finally {
      DataSourceUtils.releaseConnection(connection, dataSource);
    }
  }

  private static byte[] utf8(String payload) {
    if (payload == null) {
      throw new IllegalArgumentException("payload must not be null");
    }
    return payload.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "TransactionalOutbox[" + outbox + "]";
  }
}
