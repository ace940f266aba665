package dev.once.kafka.internal;

import dev.once.Scope;
import dev.once.StoreException;
import dev.once.jdbc.JdbcInbox;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

/**
 * The inbox consumer's offsets stored beside its effects ({@link OffsetTable}): written in each
 * batch's transaction, and read on assignment so that the database, not Kafka, decides where a
 * partition resumes. A partition assigned while the table cannot be read is {@link
 * PausedPartitions#hold held} until {@link #positionHeld()} reads it. Disabled (every method a
 * no-op) when built without a table: Kafka's committed offsets decide.
 */
public final class StoredOffsets implements ConsumerRebalanceListener {

  private final Consumer<?, ?> consumer;
  private final DataSource dataSource;
  private final @Nullable OffsetTable table; // null: offsets are not stored
  private final PausedPartitions paused;
  private final System.Logger log;

  /**
   * @param table the offsets table, or null to store none
   * @param log the consumer's logger (its waits and recoveries are logged there)
   */
  public StoredOffsets(
      Consumer<?, ?> consumer,
      DataSource dataSource,
      @Nullable OffsetTable table,
      PausedPartitions paused,
      System.Logger log) {
    this.consumer = consumer;
    this.dataSource = dataSource;
    this.table = table;
    this.paused = paused;
    this.log = log;
  }

  public boolean enabled() {
    return table != null;
  }

  /** Creates the offsets table if it is missing. */
  public void createSchema() {
    if (table == null) {
      return;
    }
    try (Connection c = dataSource.getConnection()) {
      table.createSchema(c);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "could not create the offsets table " + table.table() + ": " + e, e);
    }
  }

  /** Moves the stored next offsets forward to {@code next}, on the batch's connection. */
  public void advance(Connection c, Map<TopicPartition, Long> next) throws SQLException {
    if (table != null) {
      table.advance(c, consumer.groupMetadata().groupId(), next);
    }
  }

  /**
   * Runs {@code hook} (which stores offsets) in a transaction of its own: for a batch whose records
   * were all dead-lettered or skipped, nothing else of it is left to commit.
   */
  public void storeAlone(JdbcInbox.BatchHook hook) {
    if (table == null) {
      return;
    }
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        hook.beforeCommit(c);
        c.commit();
      } catch (Exception e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(autoCommit);
      }
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new StoreException(
          "could not store the offsets of a dead-lettered batch: " + e,
          "jdbc",
          Scope.global("kafka"),
          e);
    }
  }

  /**
   * Reads and seeks to the stored offsets of partitions assigned while the database was down, then
   * resumes them.
   *
   * @throws StoreException if the table still cannot be read (they stay paused)
   */
  public void positionHeld() {
    Set<TopicPartition> waiting = paused.heldAndAssigned();
    if (table == null || waiting.isEmpty()) {
      return;
    }
    Map<TopicPartition, Long> stored;
    try (Connection c = dataSource.getConnection()) {
      stored = table.read(c, consumer.groupMetadata().groupId(), waiting);
    } catch (SQLException e) {
      throw new StoreException(
          "could not read the stored offsets of " + waiting + "; they stay paused: " + e,
          "jdbc",
          Scope.global("kafka"),
          e);
    }
    stored.forEach(consumer::seek);
    paused.release(waiting);
    log.log(System.Logger.Level.INFO, "read the stored offsets of " + waiting + ", resumed them");
  }

  /**
   * On assignment, resume each partition at the offset stored with the effects, when there is one.
   * If the database cannot be read, the partitions are held paused (never read from Kafka's
   * committed offset, which may lag) until {@link #positionHeld()} succeeds.
   */
  @Override
  public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
    if (table == null || partitions.isEmpty()) {
      return;
    }
    Map<TopicPartition, Long> stored;
    try (Connection c = dataSource.getConnection()) {
      stored = table.read(c, consumer.groupMetadata().groupId(), partitions);
    } catch (SQLException | RuntimeException e) {
      paused.hold(partitions);
      log.log(
          System.Logger.Level.WARNING,
          "could not read the stored offsets of "
              + partitions
              + "; they stay paused until the database answers: "
              + e);
      return;
    }
    stored.forEach(consumer::seek);
  }

  @Override
  public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
    // Nothing in flight: every batch is committed (database, then Kafka) before the next poll.
    paused.forget(partitions);
  }
}
