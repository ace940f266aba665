package dev.once.spring.boot.internal;

import java.sql.Connection;
import java.util.Objects;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Runs code with an inbox batch's JDBC connection bound to the application's DataSource the way a
 * Spring transaction binds it, marked active: {@code JdbcTemplate}, {@code JdbcClient} and
 * {@code @Transactional} (REQUIRED) code on that DataSource then use the batch's connection and
 * transaction instead of committing on their own. What the NATS and SQS consumer factories share.
 */
public final class BoundConnection {

  /** Code to run with the connection bound. */
  @FunctionalInterface
  public interface Action {
    /**
     * Runs.
     *
     * @throws Exception to fail the message
     */
    void run() throws Exception;
  }

  private BoundConnection() {}

  /**
   * Runs {@code action} with {@code connection} bound to {@code dataSource}.
   *
   * @param dataSource the application's DataSource, the key its JDBC code looks the connection up
   *     by
   * @param connection the batch's connection, its transaction open
   * @param action the handler
   * @throws Exception what {@code action} throws; an {@link IllegalStateException} if it returned
   *     normally after a {@code @Transactional} method inside it marked the transaction
   *     rollback-only
   */
  public static void run(DataSource dataSource, Connection connection, Action action)
      throws Exception {
    Objects.requireNonNull(dataSource, "dataSource");
    BatchConnection holder = new BatchConnection(connection);
    TransactionSynchronizationManager.bindResource(dataSource, holder);
    try {
      action.run();
    } finally {
      TransactionSynchronizationManager.unbindResource(dataSource);
    }
    if (holder.isRollbackOnly()) {
      throw new IllegalStateException(
          "the handler's transaction was marked rollback-only (a @Transactional method it called"
              + " failed and the failure was caught); the batch is rolled back");
    }
  }

  /** The inbox's connection, as a Spring transaction in progress. */
  private static final class BatchConnection extends ConnectionHolder {
    BatchConnection(Connection connection) {
      super(connection, true);
    }
  }
}
