package dev.once.spring.boot.internal;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Completion;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.KeyPolicy;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.StoreException;
import dev.once.jdbc.JdbcIdempotencyStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.DefaultTransactionDefinition;

/**
 * The part the Kafka and RabbitMQ listener adapters share: one Spring transaction in which a batch's message ids
 * are claimed in one statement, the listener runs for the fresh ones (its JdbcTemplate / JPA writes join the same
 * transaction through the thread-bound connection) and the markers are completed; then one commit. Whatever throws
 * rolls everything back, markers included, and is rethrown unchanged so the container's error handling sees it.
 *
 * <p>Not part of the public API.
 */
public final class ListenerInbox {

  /** What runs inside the transaction once the ids are claimed; {@code fresh[i]} says message i is new. */
  @FunctionalInterface
  public interface Work {
    void run(boolean[] fresh) throws Throwable;
  }

  // A claim that loses a deadlock or a serialization check is retried before the listener ever ran: such a
  // failure must not spend one of the error handler's attempts and send a healthy message to the dead letters.
  private static final int MAX_CLAIM_ATTEMPTS = 8;

  private final JdbcIdempotencyStore store;
  private final DataSource dataSource;
  private final PlatformTransactionManager transactionManager;
  private final TransactionDefinition definition;
  private final KeyPolicy keyPolicy;
  private final Duration retention;

  public ListenerInbox(JdbcIdempotencyStore store, DataSource dataSource, PlatformTransactionManager transactionManager,
                       Duration retention) {
    this.store = Objects.requireNonNull(store, "store");
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.transactionManager = Objects.requireNonNull(transactionManager, "transactionManager");
    if (retention == null || retention.isNegative() || retention.isZero()) {
      throw new IllegalArgumentException("retention must be positive, but was " + retention);
    }
    this.retention = retention;
    this.keyPolicy = KeyPolicy.defaults();
    DefaultTransactionDefinition d = new DefaultTransactionDefinition(TransactionDefinition.PROPAGATION_REQUIRED);
    d.setName("once: idempotent listener");
    this.definition = d;
  }

  /** Whether {@code id} is an id the store accepts (else the message is treated as having none). */
  public boolean isValidId(String id) {
    if (id == null || id.isBlank()) {
      return false;
    }
    try {
      keyPolicy.key(Scope.global("check"), id);
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /**
   * Claims {@code ids} under {@code consumer} and runs {@code work} in one transaction, then commits.
   *
   * @return per message whether it was applied in this transaction (false: a duplicate, skipped)
   */
  public boolean[] process(String consumer, List<String> ids, Work work) throws Throwable {
    Scope scope = Scope.global(consumer);
    List<ClaimRequest> requests = new ArrayList<>(ids.size());
    for (String id : ids) {
      // The id alone identifies a message: a redelivery must match whatever its payload bytes look like.
      requests.add(new ClaimRequest(keyPolicy.key(scope, id), Fingerprint.empty(), Duration.ofMinutes(5), retention));
    }
    for (int attempt = 1; ; attempt++) {
      try {
        return processOnce(requests, work);
      } catch (ClaimFailed e) {
        if (attempt >= MAX_CLAIM_ATTEMPTS || !e.transientFailure) {
          throw e.getCause();
        }
        LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(1_000_000L, 20_000_000L) * attempt);
      }
    }
  }

  private boolean[] processOnce(List<ClaimRequest> requests, Work work) throws Throwable {
    TransactionStatus status = transactionManager.getTransaction(definition);
    boolean[] fresh;
    try {
      Connection connection = DataSourceUtils.getConnection(dataSource);
      try {
        IdempotencyStore tx = store.onConnection(connection);
        List<Completion> completions = new ArrayList<>();
        fresh = claim(tx, requests, completions);
        work.run(fresh);
        if (!completions.isEmpty()) {
          // One round trip; inside this transaction no one else can have taken the keys over.
          tx.completeAll(completions);
        }
      } finally {
        DataSourceUtils.releaseConnection(connection, dataSource);
      }
    } catch (Throwable failure) {
      try {
        transactionManager.rollback(status);
      } catch (RuntimeException | Error rollbackFailure) {
        failure.addSuppressed(rollbackFailure);
      }
      throw failure;
    }
    // A failed commit throws here: nothing was kept, the container redelivers.
    transactionManager.commit(status);
    return fresh;
  }

  private boolean[] claim(IdempotencyStore tx, List<ClaimRequest> requests, List<Completion> completions) {
    List<ClaimResult> claims;
    try {
      claims = tx.claimAll(requests);
    } catch (StoreException e) {
      throw new ClaimFailed(e, isTransient(e));
    }
    boolean[] fresh = new boolean[requests.size()];
    Set<IdempotencyKey> seen = new HashSet<>();
    for (int i = 0; i < requests.size(); i++) {
      IdempotencyKey key = requests.get(i).key();
      ClaimResult claim = claims.get(i);
      boolean firstInBatch = seen.add(key);
      if (claim instanceof ClaimResult.Acquired acquired && firstInBatch) {
        fresh[i] = true;
        completions.add(new Completion(key, acquired.token(), Outcome.empty(), retention));
      } else if (!(claim instanceof ClaimResult.Completed) && firstInBatch) {
        // Held by a live lease outside this transaction (a store not configured to wait): neither apply nor skip.
        throw new ClaimFailed(new StoreException("message id " + requests.get(i).key().value()
            + " is held by another consumer (" + claim + "); the delivery is retried", store.name(), key.scope(),
            null), true);
      }
    }
    return fresh;
  }

  private static boolean isTransient(StoreException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException s && s.getSQLState() != null
          && (s.getSQLState().equals("40001") || s.getSQLState().equals("40P01"))) {
        return true;
      }
    }
    return false;
  }

  /** Carries a claim failure out of the transaction so that it alone is retried; never seen by callers. */
  private static final class ClaimFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean transientFailure;

    ClaimFailed(StoreException cause, boolean transientFailure) {
      super(cause);
      this.transientFailure = transientFailure;
    }

    @Override
    public synchronized StoreException getCause() {
      return (StoreException) super.getCause();
    }
  }
}
