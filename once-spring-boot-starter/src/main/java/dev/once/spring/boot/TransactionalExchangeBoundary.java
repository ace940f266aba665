package dev.once.spring.boot;

import dev.once.IdempotencyStore;
import dev.once.StoreException;
import dev.once.StoreUnavailableException;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.servlet.ExchangeBoundary;
import jakarta.servlet.ServletException;
import java.io.IOException;
import java.sql.Connection;
import java.util.Objects;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionException;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.UnexpectedRollbackException;
import org.springframework.transaction.support.DefaultTransactionDefinition;

/**
 * Atomic mode: runs claim, handler and stored response in one Spring-managed transaction, so the
 * idempotency record and the handler's database writes commit together or not at all.
 *
 * <p>For a route whose store is {@code store}, {@link #run} begins a transaction with the
 * application's {@link PlatformTransactionManager} (propagation REQUIRED), takes that transaction's
 * connection from {@link DataSourceUtils#getConnection(DataSource)} and hands the filter {@link
 * JdbcIdempotencyStore#onConnection} bound to it. The handler's {@code @Transactional} services
 * (propagation REQUIRED, the default), its {@code JdbcTemplate} and {@code JdbcClient} join that
 * transaction. Then:
 *
 * <ul>
 *   <li>the exchange returns (a 2xx–4xx response stored, a replay, a 409 or 422 answered): commit.
 *       The record and the business rows become visible together; the filter sends the response
 *       only after the commit;
 *   <li>the exchange throws (the handler failed or answered 5xx, and the filter released the key
 *       and threw to undo it): roll back, so neither the business rows nor the record survive, and
 *       rethrow the same exception. A retry executes afresh;
 *   <li>a joined {@code @Transactional} method failed and marked the transaction rollback-only, yet
 *       the handler answered normally: the commit rolls back and throws Spring's {@code
 *       UnexpectedRollbackException}, so the client gets an error rather than a response whose
 *       effects were undone, and a retry executes afresh. Mark business exceptions that are final
 *       answers (a card decline) {@code noRollbackFor}.
 * </ul>
 *
 * While the transaction is open its uncommitted claim keeps other requests with the same key out on
 * every instance that shares the database: they get 409 at once ({@code
 * ConcurrentClaimPolicy.FAIL_FAST}) or wait for the commit and replay ({@code WAIT}).
 *
 * <p>A transaction that cannot begin (the database is down) is a {@link StoreUnavailableException}
 * and a failed commit a {@link StoreException}: the filter answers 503 and nothing was kept.
 *
 * <p>Only routes on {@code store} are atomic ({@link #isAtomic}): the starter gives routes with
 * another store (Redis, in-memory, another JDBC store) no boundary at all, so the filter runs them
 * in lease mode and answers as lease mode does (a completion that fails after the handler's own
 * commit still sends the handler's response). {@link #run} also passes such a route's exchange
 * through untouched. {@code store} must live in {@code dataSource}, the database {@code
 * transactionManager} manages. Thread-safe.
 */
public final class TransactionalExchangeBoundary implements ExchangeBoundary {

  private final JdbcIdempotencyStore store;
  private final DataSource dataSource;
  private final PlatformTransactionManager transactionManager;
  private final TransactionDefinition definition;

  /**
   * @param store the JDBC store whose routes run atomically
   * @param dataSource the database {@code store} lives in
   * @param transactionManager the application's transaction manager for {@code dataSource}
   */
  public TransactionalExchangeBoundary(
      JdbcIdempotencyStore store,
      DataSource dataSource,
      PlatformTransactionManager transactionManager) {
    this.store = Objects.requireNonNull(store, "store");
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.transactionManager = Objects.requireNonNull(transactionManager, "transactionManager");
    DefaultTransactionDefinition d =
        new DefaultTransactionDefinition(TransactionDefinition.PROPAGATION_REQUIRED);
    d.setName("once: idempotent exchange");
    this.definition = d;
  }

  /**
   * {@return whether routes on {@code routeStore} run in one transaction here} Only the JDBC store
   * this boundary was built with does.
   *
   * @param routeStore a route's store
   */
  public boolean isAtomic(@Nullable IdempotencyStore routeStore) {
    return routeStore == store;
  }

  @Override
  public <T> T run(IdempotencyStore routeStore, Exchange<T> exchange)
      throws IOException, ServletException {
    if (!isAtomic(routeStore)) {
      return exchange.run(routeStore);
    }
    TransactionStatus status;
    try {
      status = transactionManager.getTransaction(definition);
    } catch (TransactionException e) {
      // The database cannot be reached: fail closed (the filter answers 503), nothing ran.
      throw new StoreUnavailableException(
          "cannot begin a transaction: " + e.getMessage(), store.name(), null, e);
    }
    T result;
    try {
      Connection connection = DataSourceUtils.getConnection(dataSource);
      try {
        result = exchange.run(store.onConnection(connection));
      } finally {
        DataSourceUtils.releaseConnection(connection, dataSource);
      }
    } catch (Throwable failure) {
      // The contract: roll back, then rethrow exactly what the exchange threw.
      try {
        transactionManager.rollback(status);
      } catch (RuntimeException | Error rollbackFailure) {
        failure.addSuppressed(rollbackFailure);
      }
      throw failure;
    }
    try {
      transactionManager.commit(status);
    } catch (UnexpectedRollbackException e) {
      // A joined @Transactional method marked the transaction rollback-only: the handler's fault,
      // not the store's.
      throw e;
    } catch (TransactionException e) {
      throw new StoreException(
          "commit failed; the response and its writes were rolled back: " + e.getMessage(),
          store.name(),
          null,
          e);
    }
    return result;
  }

  @Override
  public String toString() {
    return "TransactionalExchangeBoundary[" + store + "]";
  }
}
