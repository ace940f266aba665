package dev.once.outbox;

import dev.once.Purger;
import dev.once.internal.InboxDecisions;
import dev.once.jdbc.SqlDialect;
import dev.once.outbox.internal.ClaimedRow;
import dev.once.outbox.internal.Claimer;
import dev.once.outbox.internal.OutboxStatements;
import dev.once.outbox.internal.PostgresWakeup;
import dev.once.outbox.internal.Settlement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Publishes the outbox: claims a batch of pending rows in a transaction, hands them to the {@link
 * OutboxPublisher}, and in the same transaction marks the acknowledged ones sent and records the
 * refusals. A relay that dies mid-batch leaves its transaction to roll back; another relay (or this
 * one, restarted) publishes the batch again, and the inbox downstream drops the repeats by id.
 *
 * <pre>{@code
 * OutboxRelay relay = OutboxRelay.builder(dataSource, publisher).build();
 * relay.start();      // one background thread
 * ...
 * relay.close();      // stops it
 * }</pre>
 *
 * <p>Several relays may run at once, in one process or many: a claim locks its rows and passes over
 * rows other relays locked ({@code FOR UPDATE SKIP LOCKED}; on SQLite a claim holds the database's
 * write lock until its batch is marked, so relays take turns). A row is never published while an
 * earlier row of its key is neither sent nor parked. See {@code docs/outbox.md} for the exact order
 * guarantees, parking and retention.
 *
 * <p>Failures: a message the publisher refuses is tried again after a backoff with jitter and
 * parked after {@code maxAttempts} refusals (visible in the table as state {@code 'X'}; {@link
 * #retryParked} makes it pending again). A publisher that throws, or a database that fails, spends
 * no attempt: the batch rolls back and the loop waits out the outage with its own backoff and goes
 * on.
 */
public final class OutboxRelay implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(OutboxRelay.class.getName());
  private static final int MAX_ERROR_LENGTH = 1000;
  private static final Duration LISTEN_SLICE = Duration.ofMillis(250);

  /** The default {@link Builder#linger linger}: 100 ms. */
  public static final Duration DEFAULT_LINGER = Duration.ofMillis(100);

  /** How often the loop looks for new rows while it lingers. */
  private static final Duration LINGER_POLL = Duration.ofMillis(10);

  private final DataSource dataSource;
  private final OutboxPublisher publisher;
  private final String table;
  private final SqlDialect dialect;
  private final OutboxStatements sql;
  private final String name;
  private final int batchSize;
  private final int maxAttempts;
  private final InboxDecisions.Backoff backoff;
  private final InboxDecisions.Backoff outageBackoff;
  private final Duration pollInterval;
  private final Duration linger;
  private final boolean listen;
  private final @Nullable Duration retention;
  private final Duration purgeInterval;
  private final Clock clock;
  private final @Nullable Purger sentPurger;

  private final Object lock = new Object();
  private @Nullable Thread thread; // guarded by lock
  private volatile boolean running;

  private OutboxRelay(Builder b, SqlDialect dialect) {
    this.dataSource = b.dataSource;
    this.publisher = b.publisher;
    this.table = b.table;
    this.dialect = dialect;
    this.sql = OutboxStatements.of(dialect, table);
    this.name = b.name;
    this.batchSize = b.batchSize;
    this.maxAttempts = b.maxAttempts;
    this.backoff = b.backoff;
    this.outageBackoff = b.outageBackoff;
    this.pollInterval = b.pollInterval;
    this.linger = b.linger;
    this.listen = b.listen;
    this.retention = b.retention;
    this.purgeInterval = b.purgeInterval;
    this.clock = b.clock;
    Duration keep = b.retention;
    this.sentPurger =
        keep == null
            ? null
            : Purger.builder("outbox-" + name, limit -> purgeSentBatch(keep, limit))
                .batchSize(b.purgeBatchSize)
                .pause(b.purgePause)
                .build();
  }

  /**
   * {@return a builder}
   *
   * @param dataSource where the relay's connections come from
   * @param publisher the broker the messages go to
   */
  public static Builder builder(DataSource dataSource, OutboxPublisher publisher) {
    return new Builder(dataSource, publisher);
  }

  /** {@return the dialect the relay speaks} */
  public SqlDialect dialect() {
    return dialect;
  }

  /**
   * Claims, publishes and settles one batch, on the calling thread. For tests and for running the
   * relay from your own scheduler; {@link #start()} calls it in a loop.
   *
   * @return what the batch came to; {@link RelayResult#EMPTY} if nothing was due
   * @throws OutboxException if the database failed or the publisher threw: the batch rolled back
   *     and no attempt was spent
   * @throws InterruptedException if interrupted while the publisher waited; the batch rolled back
   */
  public RelayResult relayOnce() throws InterruptedException {
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      // Each statement must see rows other relays committed since the claim began.
      boolean sessionIsolation = dialect != SqlDialect.SQLITE && !sql.claimSetsIsolation();
      int isolation = sessionIsolation ? c.getTransactionIsolation() : -1;
      c.setAutoCommit(false);
      if (sessionIsolation) {
        c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
      }
      try {
        RelayResult result = relayBatch(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException | InterruptedException e) {
        rollbackQuietly(c, e);
        throw e;
      } finally {
        restore(c, autoCommit, isolation);
      }
    } catch (SQLException e) {
      throw new OutboxException("relay " + name + " could not relay a batch from " + table, e);
    }
  }

  private RelayResult relayBatch(Connection c) throws SQLException, InterruptedException {
    long now = clock.millis();
    Claimer.Claimed claimed = Claimer.claim(c, sql, now, batchSize);
    if (claimed.locked().isEmpty()) {
      return RelayResult.EMPTY;
    }
    List<ClaimedRow> batch = claimed.publishable();
    if (batch.isEmpty()) {
      return new RelayResult(claimed.locked().size(), 0, 0, 0, 0, claimed.locked().size());
    }
    List<OutboxMessage> messages = new ArrayList<>(batch.size());
    for (ClaimedRow row : batch) {
      messages.add(row.message());
    }
    Map<UUID, Exception> refusals;
    try {
      refusals = publisher.publish(messages);
    } catch (RuntimeException e) {
      throw new OutboxException(
          "publisher failed on a batch of " + messages.size() + " from " + table, e);
    }
    Settlement settled = Settlement.of(batch, refusals);
    long settledAt = clock.millis();
    markSent(c, settled.sent(), settledAt);
    int parked = markRefused(c, settled.refused(), settledAt);
    int deferred = claimed.locked().size() - batch.size() + settled.heldBack().size();
    return new RelayResult(
        claimed.locked().size(),
        batch.size(),
        settled.sent().size(),
        settled.refused().size() - parked,
        parked,
        deferred);
  }

  private void markSent(Connection c, List<ClaimedRow> rows, long now) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    long[] seqs = new long[rows.size()];
    for (int i = 0; i < seqs.length; i++) {
      seqs[i] = rows.get(i).seq();
    }
    if (Duration.ZERO.equals(retention)) {
      sql.deleteSent(c, seqs);
    } else {
      sql.markSent(c, seqs, now);
    }
  }

  private int markRefused(Connection c, List<Map.Entry<ClaimedRow, Exception>> rows, long now)
      throws SQLException {
    if (rows.isEmpty()) {
      return 0;
    }
    int parked = 0;
    try (PreparedStatement s = c.prepareStatement(sql.markRefused())) {
      for (Map.Entry<ClaimedRow, Exception> refused : rows) {
        ClaimedRow row = refused.getKey();
        int attempts = row.attempts() + 1;
        boolean park = attempts >= maxAttempts;
        parked += park ? 1 : 0;
        s.setInt(1, attempts);
        s.setString(2, park ? OutboxStatements.PARKED : OutboxStatements.PENDING);
        s.setLong(3, park ? 0 : now + TimeUnit.NANOSECONDS.toMillis(backoff.nanos(attempts)));
        s.setString(4, errorText(refused.getValue()));
        s.setLong(5, row.seq());
        s.addBatch();
      }
      s.executeBatch();
    }
    return parked;
  }

  private static String errorText(Exception e) {
    String text = String.valueOf(e);
    return text.length() <= MAX_ERROR_LENGTH ? text : text.substring(0, MAX_ERROR_LENGTH);
  }

  /**
   * Reads what waits in the table, in one query: for gauges, health checks and dashboards.
   *
   * @return the pending and parked rows and the oldest pending row's write time
   * @throws OutboxException if the database failed
   */
  public OutboxBacklog backlog() {
    try (Connection c = dataSource.getConnection()) {
      return sql.readBacklog(c);
    } catch (SQLException e) {
      throw new OutboxException("could not read the backlog of " + table, e);
    }
  }

  /**
   * Makes parked messages pending again, with no attempts spent. A retried message comes before
   * every later pending message of its key again, and after any that were sent while it was parked.
   *
   * @param ids the messages; ids that are not parked are passed over
   * @return how many were parked and are pending now
   * @throws OutboxException if the database failed
   */
  public int retryParked(Collection<UUID> ids) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement s = c.prepareStatement(sql.retryParkedById())) {
      int changed = 0;
      for (UUID id : ids) {
        sql.bindId(s, 1, Objects.requireNonNull(id, "id"));
        changed += s.executeUpdate();
      }
      return changed;
    } catch (SQLException e) {
      throw new OutboxException("could not retry parked messages in " + table, e);
    }
  }

  /**
   * Makes every parked message pending again, with no attempts spent.
   *
   * @return how many
   * @throws OutboxException if the database failed
   */
  public int retryAllParked() {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      return s.executeUpdate(sql.retryAllParked());
    } catch (SQLException e) {
      throw new OutboxException("could not retry parked messages in " + table, e);
    }
  }

  /**
   * Deletes the sent rows older than the retention, in batches of {@code purgeBatchSize} with a
   * pause between them so the writers' inserts are not held up; never a pending or parked row. Runs
   * in the relay's loop every {@code purgeInterval}; call it yourself if you run {@link
   * #relayOnce()} from your own scheduler.
   *
   * @return how many rows were deleted; 0 if the relay keeps sent rows forever
   * @throws OutboxException if the database failed
   * @throws InterruptedException if interrupted during a pause
   */
  public int purgeSent() throws InterruptedException {
    return sentPurger == null ? 0 : sentPurger.purgeOnce();
  }

  /** One batch of {@link #purgeSent()}: the sent rows older than the retention, at most limit. */
  private int purgeSentBatch(Duration keep, int limit) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      try (PreparedStatement s = c.prepareStatement(sql.purgeSent())) {
        s.setLong(1, clock.millis() - keep.toMillis());
        s.setInt(2, limit);
        return s.executeUpdate();
      }
    } catch (SQLException e) {
      throw new OutboxException("could not delete sent messages from " + table, e);
    }
  }

  /**
   * Starts the background thread that relays until {@link #close()}. It waits between empty batches
   * for {@code pollInterval}, or on PostgreSQL until a writer's notification, whichever comes
   * first.
   *
   * @throws IllegalStateException if it was started already
   */
  public void start() {
    synchronized (lock) {
      if (thread != null) {
        throw new IllegalStateException("relay " + name + " was started already");
      }
      running = true;
      Thread t = new Thread(this::loop, "once-outbox-relay-" + name);
      t.setDaemon(true);
      thread = t;
      t.start();
    }
  }

  /** {@return whether the background thread runs} */
  public boolean isRunning() {
    synchronized (lock) {
      return running && thread != null && thread.isAlive();
    }
  }

  private void loop() {
    PostgresWakeup wakeup =
        listen && dialect == SqlDialect.POSTGRESQL ? new PostgresWakeup(dataSource, table) : null;
    int outages = 0;
    long nextPurge = clock.millis();
    long lingerUntil = System.nanoTime();
    try {
      while (running) {
        try {
          RelayResult result = relayOnce();
          if (outages > 0) {
            LOG.log(System.Logger.Level.INFO, "relay {0} is relaying again", name);
          }
          outages = 0;
          if (retention != null && clock.millis() >= nextPurge) {
            purgeSent();
            nextPurge = clock.millis() + purgeInterval.toMillis();
          }
          if (result.published() > 0) {
            lingerUntil = System.nanoTime() + linger.toNanos();
          }
          // A batch that published nothing is waiting on other relays' keys: no reason to spin.
          if (result.claimed() < batchSize || result.published() == 0) {
            if (System.nanoTime() - lingerUntil < 0) {
              pause(LINGER_POLL.toMillis());
            } else if (awaitWork(wakeup)) {
              lingerUntil = System.nanoTime() + linger.toNanos();
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (RuntimeException e) {
          outages++;
          long waitNanos = outageBackoff.nanos(outages);
          LOG.log(
              outages == 1 ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
              "relay "
                  + name
                  + " failed ("
                  + outages
                  + " in a row), trying again in "
                  + TimeUnit.NANOSECONDS.toMillis(waitNanos)
                  + " ms",
              e);
          try {
            pause(TimeUnit.NANOSECONDS.toMillis(waitNanos));
          } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
    } finally {
      if (wakeup != null) {
        wakeup.close();
      }
    }
  }

  /** Waits for a writer's notification or the poll interval; true if a notification came. */
  private boolean awaitWork(@Nullable PostgresWakeup wakeup) throws InterruptedException {
    if (wakeup != null) {
      try {
        // In slices, so that close() is not kept waiting for a whole poll interval.
        long until = System.nanoTime() + pollInterval.toNanos();
        long left;
        while (running && (left = until - System.nanoTime()) > 0) {
          if (wakeup.await(Duration.ofNanos(Math.min(left, LISTEN_SLICE.toNanos())))) {
            return true;
          }
        }
        return false;
      } catch (SQLException e) {
        LOG.log(System.Logger.Level.DEBUG, "relay " + name + " lost its LISTEN; polling", e);
      }
    }
    pause(pollInterval.toMillis());
    return false;
  }

  private void pause(long millis) throws InterruptedException {
    synchronized (lock) {
      long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
      long left;
      while (running && (left = until - System.nanoTime()) > 0) {
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
    }
  }

  /**
   * Stops the background thread, waiting for its current batch to end (a batch whose publisher is
   * still waiting rolls back and is relayed again later). Does not close the publisher.
   */
  @Override
  public void close() {
    Thread t;
    synchronized (lock) {
      running = false;
      lock.notifyAll();
      t = thread;
    }
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join(pollInterval.toMillis() + 30_000);
        if (t.isAlive()) {
          t.interrupt();
          t.join(5_000);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void rollbackQuietly(Connection c, Exception cause) {
    try {
      c.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  /** Puts back what the round changed; an {@code isolation} of -1: the round left it alone. */
  private static void restore(Connection c, boolean autoCommit, int isolation) {
    try {
      if (isolation != -1 && c.getTransactionIsolation() != isolation) {
        c.setTransactionIsolation(isolation);
      }
      c.setAutoCommit(autoCommit);
    } catch (SQLException ignored) {
      // A broken connection goes back to its pool, which discards it.
    }
  }

  @Override
  public String toString() {
    return "OutboxRelay[" + name + ", " + dialect + ", table " + table + "]";
  }

  /** Settings of an {@link OutboxRelay}. */
  public static final class Builder {
    private final DataSource dataSource;
    private final OutboxPublisher publisher;
    private String table = "once_outbox";
    private @Nullable SqlDialect dialect;
    private String name = "relay";
    private int batchSize = 100;
    private int maxAttempts = 10;
    private InboxDecisions.Backoff backoff =
        new InboxDecisions.Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5));
    private InboxDecisions.Backoff outageBackoff =
        new InboxDecisions.Backoff(Duration.ofMillis(100), Duration.ofSeconds(30));
    private Duration pollInterval = Duration.ofSeconds(1);
    private Duration linger = DEFAULT_LINGER;
    private boolean listen = true;
    private @Nullable Duration retention = Duration.ofDays(7);
    private int purgeBatchSize = 1000;
    private Duration purgeInterval = Duration.ofMinutes(1);
    private Duration purgePause = Duration.ofMillis(50);
    private Clock clock = Clock.systemUTC();

    private Builder(DataSource dataSource, OutboxPublisher publisher) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
      this.publisher = Objects.requireNonNull(publisher, "publisher");
    }

    /**
     * The table. Default {@code once_outbox}.
     *
     * @param table a plain SQL identifier, optionally schema-qualified
     * @return this builder
     * @throws IllegalArgumentException if it is not one
     */
    public Builder table(String table) {
      this.table = Outbox.checkTableName(table);
      return this;
    }

    /**
     * The dialect. Default: detected from a connection when the relay is built.
     *
     * @param dialect the database's dialect
     * @return this builder
     */
    public Builder dialect(SqlDialect dialect) {
      this.dialect = Objects.requireNonNull(dialect, "dialect");
      return this;
    }

    /**
     * A name for the thread and the log. Default {@code relay}.
     *
     * @param name the name
     * @return this builder
     */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /**
     * The most rows one batch claims. Default 100.
     *
     * @param batchSize at least 1
     * @return this builder
     */
    public Builder batchSize(int batchSize) {
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize must be at least 1, but was " + batchSize);
      }
      this.batchSize = batchSize;
      return this;
    }

    /**
     * Refusals of one message before it is parked. Default 10.
     *
     * @param maxAttempts at least 1
     * @return this builder
     */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException(
            "maxAttempts must be at least 1, but was " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /**
     * The wait before a refused message is tried again: between half and all of {@code initial x
     * 2^(refusals-1)}, at most {@code max}. Default 1 s to 5 min.
     *
     * @param initial the first wait
     * @param max the longest wait
     * @return this builder
     */
    public Builder backoff(Duration initial, Duration max) {
      this.backoff = new InboxDecisions.Backoff(initial, max);
      return this;
    }

    /**
     * The wait of the loop after a database failure or a publisher that threw, growing the same way
     * with each failure in a row. Default 100 ms to 30 s.
     *
     * @param initial the first wait
     * @param max the longest wait
     * @return this builder
     */
    public Builder outageBackoff(Duration initial, Duration max) {
      this.outageBackoff = new InboxDecisions.Backoff(initial, max);
      return this;
    }

    /**
     * The wait after a batch that was not full before looking again. Default 1 s. On PostgreSQL a
     * writer's notification ends the wait early.
     *
     * @param pollInterval positive
     * @return this builder
     */
    public Builder pollInterval(Duration pollInterval) {
      if (pollInterval == null || pollInterval.isNegative() || pollInterval.isZero()) {
        throw new IllegalArgumentException(
            "pollInterval must be positive, but was " + pollInterval);
      }
      this.pollInterval = pollInterval;
      return this;
    }

    /**
     * After a round that published, or a writer's notification, the loop looks for new rows every
     * 10 ms for this long before it waits for the next notification or poll again, so the writes
     * that did not notify (an {@link Outbox} notifies at most once per {@link
     * Outbox.Builder#notifyInterval notifyInterval}) are found within it. Keep it longer than the
     * writers' {@code notifyInterval}. Default {@link OutboxRelay#DEFAULT_LINGER}; zero turns it
     * off.
     *
     * @param linger zero or more
     * @return this builder
     */
    public Builder linger(Duration linger) {
      if (linger == null || linger.isNegative()) {
        throw new IllegalArgumentException("linger must not be negative, but was " + linger);
      }
      this.linger = linger;
      return this;
    }

    /**
     * Whether the loop on PostgreSQL listens for writers' notifications on a connection of its own
     * (needs the PostgreSQL driver, {@code org.postgresql:postgresql}). Default true.
     *
     * @param listen whether to listen
     * @return this builder
     */
    public Builder listen(boolean listen) {
      this.listen = listen;
      return this;
    }

    /**
     * How long sent rows are kept before the loop deletes them; {@code null} keeps them forever.
     * Default 7 days. {@link Duration#ZERO}: a row is deleted in the round that publishes it, which
     * writes less than marking it sent and deleting it later (see {@code docs/outbox.md}).
     *
     * @param retention zero or more, or null
     * @return this builder
     */
    public Builder retention(@Nullable Duration retention) {
      if (retention != null && retention.isNegative()) {
        throw new IllegalArgumentException("retention must not be negative, but was " + retention);
      }
      this.retention = retention;
      return this;
    }

    /**
     * How retention deletes: at most {@code batchSize} rows per statement, {@code pause} between
     * statements, a round every {@code interval}. Default 1000, 50 ms, 1 min.
     *
     * @param batchSize at least 1
     * @param pause zero or more
     * @param interval zero or more
     * @return this builder
     */
    public Builder purge(int batchSize, Duration pause, Duration interval) {
      if (batchSize < 1) {
        throw new IllegalArgumentException(
            "purge batchSize must be at least 1, but was " + batchSize);
      }
      if (pause.isNegative() || interval.isNegative()) {
        throw new IllegalArgumentException("purge pause and interval must not be negative");
      }
      this.purgeBatchSize = batchSize;
      this.purgePause = pause;
      this.purgeInterval = interval;
      return this;
    }

    /**
     * The relay's clock: when a row is due, when it was sent. Default the system clock. Relays on
     * several machines compare their clocks with the times other relays wrote, so skew only moves a
     * retry earlier or later.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * {@return the relay, not started}
     *
     * @throws OutboxException if the dialect was not given and a connection to detect it failed
     */
    public OutboxRelay build() {
      SqlDialect d = dialect;
      if (d == null) {
        try (Connection c = dataSource.getConnection()) {
          d = SqlDialect.detect(c);
        } catch (SQLException e) {
          throw new OutboxException("could not detect the outbox database's dialect", e);
        }
      }
      return new OutboxRelay(this, d);
    }
  }
}
