package dev.once.spring.boot.internal;

import dev.once.KeyPolicy;
import dev.once.OnceListener;
import dev.once.Scope;
import dev.once.StoreException;
import dev.once.internal.InboxDecisions;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.JdbcInbox;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.DefaultTransactionDefinition;

/**
 * The part the Kafka and RabbitMQ listener adapters share: one Spring transaction in which a
 * batch's message ids are claimed in one statement, the listener runs for the fresh ones (its
 * JdbcTemplate / JPA writes join the same transaction through the thread-bound connection) and the
 * markers are completed; then one commit. Whatever throws rolls everything back, markers included,
 * and is rethrown unchanged so the container's error handling sees it. After the commit, the
 * duplicates it skipped are reported to the {@link OnceListener} ({@link
 * OnceListener#inboxDuplicates}), per source; the adapters report their dead letters to {@link
 * #listener()}.
 *
 * <p>Not part of the public API.
 */
public final class ListenerInbox {

  /**
   * What runs inside the transaction once the ids are claimed; {@code fresh[i]} says message i is
   * new.
   */
  @FunctionalInterface
  public interface Work {
    void run(boolean[] fresh) throws Throwable;
  }

  /**
   * The waits of an idempotent listener during a database outage, as the plain inboxes': 100 ms
   * doubling to 10 s.
   */
  public static final InboxDecisions.Backoff OUTAGE_BACKOFF =
      new InboxDecisions.Backoff(Duration.ofMillis(100), Duration.ofSeconds(10));

  /**
   * Counts the outages of a listener in a row and says how long to wait before the next try ({@link
   * #OUTAGE_BACKOFF}, with jitter); a call that went through starts it again from the shortest
   * wait. Thread-safe.
   */
  public static final class OutageBackoff {
    private static final InboxDecisions DECISIONS =
        new InboxDecisions(
            1, new InboxDecisions.Backoff(Duration.ZERO, Duration.ZERO), OUTAGE_BACKOFF);

    private final AtomicInteger consecutive = new AtomicInteger();

    /** Counts one more outage; returns how many there were in a row, this one included. */
    public int failed() {
      return consecutive.incrementAndGet();
    }

    /** A call went through: the outage, if any, is over. */
    public void succeeded() {
      consecutive.set(0);
    }

    /** The wait in nanoseconds before the next try after {@code consecutive} outages in a row. */
    public static long waitNanos(int consecutive) {
      return DECISIONS.outageWait(consecutive);
    }
  }

  // A claim that loses a deadlock or a serialization check is retried before the listener ever ran:
  // such a
  // failure must not spend one of the error handler's attempts and send a healthy message to the
  // dead letters.
  private static final int MAX_CLAIM_ATTEMPTS = 8;

  private final JdbcIdempotencyStore store;
  private final DataSource dataSource;
  private final PlatformTransactionManager transactionManager;
  private final TransactionDefinition definition;
  private final KeyPolicy keyPolicy;
  private final Duration retention;
  private final OnceListener listener;
  private final Map<String, JdbcInbox> inboxes = new ConcurrentHashMap<>();

  public ListenerInbox(
      JdbcIdempotencyStore store,
      DataSource dataSource,
      PlatformTransactionManager transactionManager,
      Duration retention,
      OnceListener listener) {
    this.listener = OnceListener.guarded(Objects.requireNonNull(listener, "listener"));
    this.store = Objects.requireNonNull(store, "store");
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.transactionManager = Objects.requireNonNull(transactionManager, "transactionManager");
    if (retention == null || retention.isNegative() || retention.isZero()) {
      throw new IllegalArgumentException("retention must be positive, but was " + retention);
    }
    this.retention = retention;
    this.keyPolicy = KeyPolicy.defaults();
    DefaultTransactionDefinition d =
        new DefaultTransactionDefinition(TransactionDefinition.PROPAGATION_REQUIRED);
    d.setName("once: idempotent listener");
    this.definition = d;
  }

  /** {@return the listener the duplicates and dead letters are reported to, guarded} */
  public OnceListener listener() {
    return listener;
  }

  /**
   * A message's id, decided as by every inbox adapter ({@link InboxDecisions#resolveId}): a
   * throwing id function, no id without a {@code fallback}, or an id the key policy refuses,
   * rejects the message.
   */
  public InboxDecisions.ResolvedId resolveId(
      Supplier<String> idOf, @Nullable Supplier<String> fallback) {
    return InboxDecisions.resolveId(idOf, fallback, keyPolicy, Scope.global("listener"));
  }

  /**
   * Whether a failed {@link #process} is an outage of the database rather than the message's fault:
   * the claim failed for good (it is not a lost race, which {@code process} retries itself), or the
   * listener's exception comes from a lost connection. Such a failure must not spend one of the
   * message's attempts.
   */
  public static boolean isOutage(Throwable failure) {
    return failure instanceof StoreException
        || failure instanceof ConnectionLostAtCommit
        || InboxDecisions.isConnectionLost(failure);
  }

  /**
   * Claims {@code ids} under {@code consumer} and runs {@code work} in one transaction, then
   * commits; then reports the skipped duplicates, counted per {@code sourceOf} their position.
   *
   * @param sourceOf the source (topic or queue, as the listener is told it) of message i
   * @return per message whether it was applied in this transaction (false: a duplicate, skipped)
   */
  public boolean[] process(
      String consumer, List<String> ids, IntFunction<String> sourceOf, Work work) throws Throwable {
    // No listener on the JdbcInbox: it would report the duplicates before the caller's commit, so a
    // batch rolled back and redelivered would be counted twice.
    JdbcInbox inbox =
        inboxes.computeIfAbsent(
            consumer,
            c ->
                JdbcInbox.builder(dataSource, store)
                    .consumer(c)
                    .retention(retention)
                    .keyPolicy(keyPolicy)
                    .build());
    for (int attempt = 1; ; attempt++) {
      try {
        boolean[] fresh = processOnce(inbox, ids, work);
        reportDuplicates(consumer, fresh, sourceOf);
        return fresh;
      } catch (ClaimFailed e) {
        if (attempt >= MAX_CLAIM_ATTEMPTS || !e.transientFailure) {
          throw e.getCause();
        }
        LockSupport.parkNanos(
            ThreadLocalRandom.current().nextLong(1_000_000L, 20_000_000L) * attempt);
      }
    }
  }

  private boolean[] processOnce(JdbcInbox inbox, List<String> ids, Work work) throws Throwable {
    TransactionStatus status = transactionManager.getTransaction(definition);
    boolean[] fresh;
    Connection physical;
    try {
      Connection connection = DataSourceUtils.getConnection(dataSource);
      physical = physicalOf(connection);
      try {
        try {
          // Claims and writes the markers; the listener's writes and the commit below go with them.
          fresh = inbox.claimInTransaction(connection, ids);
        } catch (StoreException e) {
          throw new ClaimFailed(e, JdbcInbox.isTransient(e));
        }
        work.run(fresh);
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
    try {
      transactionManager.commit(status);
    } catch (RuntimeException | Error commitFailure) {
      // The container redelivers. If the connection died under the commit, the driver's I/O error
      // may not be what
      // we see: Spring rolls back after a failed commit, and that rollback, on the pool's stand-in
      // for the dead
      // connection, fails with a bare "connection is closed" that replaces the commit's own
      // exception.
      if (!isOutage(commitFailure) && isClosed(physical)) {
        throw new ConnectionLostAtCommit(commitFailure);
      }
      throw commitFailure;
    }
    return fresh;
  }

  private void reportDuplicates(String consumer, boolean[] fresh, IntFunction<String> sourceOf) {
    Map<String, Integer> bySource = new LinkedHashMap<>();
    for (int i = 0; i < fresh.length; i++) {
      if (!fresh[i]) {
        bySource.merge(sourceOf.apply(i), 1, Integer::sum);
      }
    }
    bySource.forEach(
        (source, count) -> listener.inboxDuplicates(consumer, source, store.name(), count));
  }

  /** The driver's connection beneath a pool's proxy, whose state outlives the proxy's. */
  private static Connection physicalOf(Connection connection) {
    try {
      return connection.unwrap(Connection.class);
    } catch (SQLException | RuntimeException notAWrapper) {
      return connection;
    }
  }

  private static boolean isClosed(Connection physical) {
    try {
      return physical.isClosed();
    } catch (SQLException | RuntimeException e) {
      return true;
    }
  }

  /** The commit failed because its connection was lost; whether the server committed is unknown. */
  private static final class ConnectionLostAtCommit extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ConnectionLostAtCommit(Throwable cause) {
      super(
          "the database connection was lost at the commit (whether it committed is unknown: a redelivery is "
              + "skipped if it did)",
          cause);
    }
  }

  /**
   * Carries a claim failure out of the transaction so that it alone is retried; never seen by
   * callers.
   */
  private static final class ClaimFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean transientFailure;

    ClaimFailed(StoreException cause, boolean transientFailure) {
      super(cause);
      this.transientFailure = transientFailure;
    }

    @Override
    public synchronized @Nullable StoreException getCause() {
      return (StoreException) super.getCause();
    }
  }
}
