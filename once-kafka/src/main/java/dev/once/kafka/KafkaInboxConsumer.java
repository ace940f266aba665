package dev.once.kafka;

import dev.once.Scope;
import dev.once.StoreException;
import dev.once.StoreUnavailableException;
import dev.once.internal.InboxDecisions;
import dev.once.jdbc.JdbcInbox;
import dev.once.kafka.internal.OffsetTable;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;

/**
 * A Kafka consumer whose handler's database effects happen exactly once per message id, on top of
 * Kafka's at-least-once delivery.
 *
 * <pre>{@code
 * KafkaInboxConsumer<String, String> inbox = KafkaInboxConsumer.builder(kafkaConsumer, dataSource, jdbcInbox,
 *         (connection, record) -> applyTransfer(connection, record.value()))
 *     .topics(List.of("transfers"))
 *     .deadLetters(kafkaProducer)                // poison and id-less records go to "transfers.DLT"
 *     .createSchema(true)                        // once_kafka_offsets
 *     .build();
 * executor.submit(inbox::run);                   // ... inbox.close() stops it and closes the consumer
 * }</pre>
 *
 * <p>Per polled batch: one {@link JdbcInbox#process} transaction claims every id of the batch in
 * one statement, runs the handler for fresh ids only, writes the batch's next offsets to {@code
 * once_kafka_offsets} (unless {@link Builder#offsetsInDatabase(boolean) offsetsInDatabase(false)})
 * and commits; only then are the offsets committed to Kafka with {@code commitSync}. On partition
 * assignment the consumer seeks to the offsets stored in the database, so the database, not Kafka,
 * decides where a partition resumes: a crash between the commit and {@code commitSync} loses
 * nothing and redoes nothing. Even without the offsets table, a redelivered record's id is already
 * claimed and the record is skipped as a duplicate.
 *
 * <p>The message id is the UTF-8 value of the last header {@value #MESSAGE_ID_HEADER} by default,
 * or any function of the record ({@link Builder#messageId}), e.g. a business key. Ids are deduped
 * per consumer group and topic (source {@code kafka:<group>/<topic>} in the inbox): another topic
 * or a RabbitMQ queue on the same inbox with overlapping ids never makes this consumer skip a
 * record, unless the inbox was built with {@link JdbcInbox.Builder#sharedScope} to dedupe across
 * sources on purpose. Records without one follow the {@link NoIdPolicy} (default {@link
 * NoIdPolicy#REJECT}: dead-lettered, never applied unprotected); a record whose id the {@link
 * Builder#keyPolicy key policy} refuses is dead-lettered too.
 *
 * <p>A handler exception rolls the whole batch back. The batch is tried again after an exponential
 * backoff with jitter; after {@link Builder#retry maxAttempts} failures of one record, that record
 * is sent to the dead-letter topic ({@code <topic>.DLT} by default) with the reason in headers
 * ({@value #DLT_REASON_HEADER}, {@value #DLT_EXCEPTION_HEADER}, {@value #DLT_TOPIC_HEADER}, {@value
 * #DLT_PARTITION_HEADER}, {@value #DLT_OFFSET_HEADER}, {@value #DLT_ATTEMPTS_HEADER}) and the rest
 * of the batch is processed again without it. Dead-lettering is at-least-once: a crash after the
 * send and before the batch commits sends the record again on redelivery. With a {@link
 * #batchBuilder batch handler} (all fresh records in one call, the fastest way to write their
 * effects) a failure cannot name its record: after {@code maxAttempts} failures of the batch, its
 * records are run one per transaction, and the one that still fails is dead-lettered.
 *
 * <p><b>Database outage.</b> A database failure is not a handler failure and spends no attempt: a
 * {@link StoreException}, an {@link SQLException} from the offsets table, or a handler exception
 * caused by a lost connection (as the JDBC store classifies it: SQLState class {@code 08}, {@code
 * 57P01..3}, a JDBC connection exception, a socket error). {@link #run()} then rolls back (the
 * transaction never commits), commits no offset, seeks every partition of the batch back to the
 * batch's first offset (nothing is skipped), and waits an exponential backoff with jitter ({@link
 * Builder#outageBackoff}, default 100 ms doubling to 10 s) before it reads the batch again, logging
 * each failure at {@code WARNING} and the recovery at {@code INFO} (System.Logger {@code
 * dev.once.kafka.KafkaInboxConsumer}). It never gives up. While it waits, the consumer's partitions
 * are {@link Consumer#pause paused} and it keeps calling {@code poll}, so it stays in the group
 * (heartbeats and {@code max.poll.interval.ms} are honoured) and runs rebalances; the partitions
 * stay with it, since any other member would find the same database down. A partition assigned
 * while the offsets table cannot be read stays paused until its stored offset has been read and
 * sought to. {@link #close()} ends a wait at once.
 *
 * <p>Not thread-safe, like the Kafka consumer it wraps: {@link #run()} (or {@link #pollOnce}) on
 * one thread; {@link #close()} from any thread. The instance owns the consumer and closes it; the
 * producer stays the caller's. Handler-failure backoff waits happen on the polling thread without
 * polling: keep {@code maxAttempts x maxBackoff} well under the consumer's {@code
 * max.poll.interval.ms} (database-outage waits poll, see above).
 */
public final class KafkaInboxConsumer<K, V> implements AutoCloseable {

  /** The default message-id header: its value, UTF-8, is the id. */
  public static final String MESSAGE_ID_HEADER = "message-id";

  public static final String DLT_REASON_HEADER = "once.dlt.reason";
  public static final String DLT_EXCEPTION_HEADER = "once.dlt.exception";
  public static final String DLT_TOPIC_HEADER = "once.dlt.original-topic";
  public static final String DLT_PARTITION_HEADER = "once.dlt.original-partition";
  public static final String DLT_OFFSET_HEADER = "once.dlt.original-offset";
  public static final String DLT_ATTEMPTS_HEADER = "once.dlt.attempts";

  private static final System.Logger LOG = System.getLogger(KafkaInboxConsumer.class.getName());

  /**
   * How long one poll may block while the consumer waits out an outage with its partitions paused.
   */
  private static final long OUTAGE_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /** Applies one record inside the batch's transaction, on its connection. */
  @FunctionalInterface
  public interface RecordHandler<K, V> {
    void handle(Connection connection, ConsumerRecord<K, V> record) throws Exception;
  }

  /**
   * Applies the fresh records of a polled batch in one call inside the batch's transaction, e.g. as
   * one JDBC batch: the fastest way to write many records' effects.
   */
  @FunctionalInterface
  public interface BatchHandler<K, V> {
    /**
     * @param fresh the records whose ids were not applied before, in poll order; never empty
     */
    void handle(Connection connection, List<ConsumerRecord<K, V>> fresh) throws Exception;
  }

  /**
   * Counters since this instance was built.
   *
   * @param applied records whose handler ran and committed
   * @param duplicates records skipped because their id was already applied
   * @param deadLettered records sent to the dead-letter topic (handler failures and records without
   *     an id)
   * @param retries batch attempts that failed in a handler and were tried again
   * @param outages batch attempts that failed because the database did, and were read again after a
   *     backoff
   */
  public record Stats(
      long applied, long duplicates, long deadLettered, long retries, long outages) {}

  private final Consumer<K, V> consumer;
  private final DataSource dataSource;
  private final JdbcInbox inbox;
  private final RecordHandler<K, V> handler;
  private final BatchHandler<K, V> batchHandler;
  private final List<String> topics;
  private final RecordIds<K, V> ids;
  private final DeadLetters<K, V> deadLetters;

  /** Outage or the record's fault, retry or dead-letter: decided as by every inbox adapter. */
  private final InboxDecisions decisions;

  private final Duration pollTimeout;
  private final OffsetTable offsets;

  private final AtomicLong applied = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private final AtomicLong outages = new AtomicLong();

  /**
   * Assigned partitions whose stored offset could not be read yet: paused until it is (polling
   * thread only).
   */
  private final Set<TopicPartition> unpositioned = new HashSet<>();

  /** Per topic, the source of its ids (polling thread only). */
  private final Map<String, String> sources = new HashMap<>();

  private final ConsumerLifecycle lifecycle;
  private boolean subscribed;

  private KafkaInboxConsumer(Builder<K, V> b) {
    this.consumer = b.consumer;
    this.lifecycle = new ConsumerLifecycle(b.consumer);
    this.dataSource = b.dataSource;
    this.inbox = b.inbox;
    this.handler = b.handler;
    this.batchHandler = b.batchHandler;
    this.topics = List.copyOf(b.topics);
    this.ids = new RecordIds<>(b.messageId, b.noIdPolicy, b.keyPolicy, Scope.global("kafka"));
    this.deadLetters = new DeadLetters<>(b.deadLetters, b.deadLetterTopic);
    this.decisions =
        new InboxDecisions(b.maxAttempts, b.backoff.shared(), b.outageBackoff.shared());
    this.pollTimeout = b.pollTimeout;
    this.offsets = b.offsetsInDatabase ? new OffsetTable(b.offsetsTable) : null;
    if (offsets != null && b.createSchema) {
      try (Connection c = dataSource.getConnection()) {
        offsets.createSchema(c);
      } catch (SQLException e) {
        throw new IllegalStateException(
            "could not create the offsets table " + b.offsetsTable + ": " + e, e);
      }
    }
  }

  /**
   * Starts a builder.
   *
   * @param consumer a consumer with {@code enable.auto.commit=false} and a {@code group.id}; not
   *     yet subscribed
   * @param dataSource the database of the inbox (the offsets table lives there too)
   * @param inbox the inbox on that database
   * @param handler the effect of one record
   */
  public static <K, V> Builder<K, V> builder(
      Consumer<K, V> consumer,
      DataSource dataSource,
      JdbcInbox inbox,
      RecordHandler<K, V> handler) {
    return new Builder<>(
        consumer, dataSource, inbox, Objects.requireNonNull(handler, "handler"), null);
  }

  /**
   * Starts a builder whose handler gets each batch's fresh records in one call.
   *
   * <pre>{@code
   * KafkaInboxConsumer.batchBuilder(kafkaConsumer, dataSource, inbox, (connection, fresh) -> {
   *   try (PreparedStatement ps = connection.prepareStatement("INSERT INTO ledger (id, amount) VALUES (?, ?)")) {
   *     for (ConsumerRecord<String, String> r : fresh) { ps.setString(1, r.key()); ps.setLong(2, amount(r)); ps.addBatch(); }
   *     ps.executeBatch();
   *   }
   * }).topics(List.of("payments")).deadLetters(kafkaProducer).build();
   * }</pre>
   *
   * <p>When the batch handler fails {@code maxAttempts} times for a batch, the batch is isolated:
   * its records are run one per transaction (each a batch of one, with its own attempts), so only
   * the poison record is dead-lettered and the others commit.
   *
   * @see #builder
   */
  public static <K, V> Builder<K, V> batchBuilder(
      Consumer<K, V> consumer, DataSource dataSource, JdbcInbox inbox, BatchHandler<K, V> handler) {
    return new Builder<>(
        consumer, dataSource, inbox, null, Objects.requireNonNull(handler, "handler"));
  }

  /** Counters so far. */
  public Stats stats() {
    return new Stats(
        applied.get(), duplicates.get(), deadLetters.sent(), retries.get(), outages.get());
  }

  /**
   * Polls and processes batches until {@link #close()}, then closes the consumer.
   *
   * <p>A database failure does not end the loop: the batch is read again after a backoff, with the
   * partitions paused and polled meanwhile (see the class documentation), for as long as the outage
   * lasts. A Kafka offset commit refused after the batch committed ({@link CommitFailedException},
   * {@link RebalanceInProgressException}: the group moved on) does not end it either: the batch is
   * in the database with its offsets, and whoever owns the partitions next resumes there. Any other
   * exception (a failing dead-letter send, a Kafka fatal error) ends the loop and is rethrown after
   * the consumer is closed; uncommitted batches are redelivered to whoever consumes next.
   */
  public void run() {
    lifecycle.begin();
    try {
      int outage = 0;
      long outageSince = 0;
      while (!lifecycle.closing()) {
        try {
          pollOnce(pollTimeout);
          if (outage > 0) {
            LOG.log(
                System.Logger.Level.INFO,
                "database is back after "
                    + outage
                    + " failed batch attempts in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - outageSince)
                    + " ms");
            outage = 0;
          }
        } catch (WakeupException e) {
          throw e;
        } catch (RuntimeException e) {
          if (lifecycle.closing()) {
            break;
          }
          if (isDatabaseFailure(e)) {
            if (outage++ == 0) {
              outageSince = System.nanoTime();
            }
            outages.incrementAndGet();
            long wait = decisions.outageWait(outage);
            LOG.log(
                System.Logger.Level.WARNING,
                "database failed (attempt "
                    + outage
                    + "); the batch was rolled"
                    + " back and its partitions rewound, reading it again in "
                    + TimeUnit.NANOSECONDS.toMillis(wait)
                    + " ms with the partitions paused: "
                    + e,
                e);
            waitPaused(wait);
          } else if (e instanceof CommitFailedException
              || e instanceof RebalanceInProgressException) {
            LOG.log(
                System.Logger.Level.WARNING,
                "Kafka refused the offset commit of a batch the database already"
                    + " committed (the group rebalanced); its partitions resume at the offsets stored with it: "
                    + e);
          } else {
            throw e;
          }
        }
      }
    } catch (WakeupException e) {
      if (!lifecycle.closing()) {
        throw e;
      }
    } finally {
      lifecycle.ended();
    }
  }

  /**
   * Polls once and processes what came, on the calling thread; subscribes on the first call. If
   * processing fails, nothing is committed and every partition of the batch is sought back to the
   * batch's first offset, so the next call reads the batch again: a caller that loops on {@code
   * pollOnce} skips nothing.
   *
   * @return the number of records polled
   * @throws StoreException if the database failed (the batch was rolled back and will be read
   *     again), also when the stored offsets of a newly assigned partition could not be read (it
   *     stays paused)
   */
  public int pollOnce(Duration timeout) {
    if (!subscribed) {
      consumer.subscribe(topics, new SeekToStoredOffsets());
      subscribed = true;
    }
    positionUnpositioned();
    ConsumerRecords<K, V> records = consumer.poll(timeout);
    if (records.isEmpty()) {
      return 0;
    }
    Map<TopicPartition, Long> next = new HashMap<>();
    try {
      Failpoints.hit(Failpoints.AFTER_POLL);
      List<ConsumerRecord<K, V>> pending = new ArrayList<>(records.count());
      Map<ConsumerRecord<K, V>, String> idOf = new IdentityHashMap<>();
      for (ConsumerRecord<K, V> r : records) {
        next.merge(new TopicPartition(r.topic(), r.partition()), r.offset() + 1, Math::max);
        RecordIds.Resolved id = ids.resolve(r);
        if (id.rejected()) {
          deadLetters.send(r, id.rejection(), id.cause(), 0);
          continue;
        }
        idOf.put(r, id.id());
        pending.add(r);
      }
      processWithRetries(pending, idOf, next);
    } catch (RuntimeException e) {
      rewind(records, e);
      throw e;
    }
    Failpoints.hit(Failpoints.AFTER_COMMIT_BEFORE_OFFSET_COMMIT);
    Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
    next.forEach((tp, offset) -> commit.put(tp, new OffsetAndMetadata(offset)));
    consumer.commitSync(commit);
    return records.count();
  }

  private void processWithRetries(
      List<ConsumerRecord<K, V>> pending,
      Map<ConsumerRecord<K, V>, String> ids,
      Map<TopicPartition, Long> next) {
    String group = offsets == null ? null : consumer.groupMetadata().groupId();
    JdbcInbox.BatchHook beforeCommit =
        c -> {
          if (offsets != null) {
            offsets.advance(c, group, next);
          }
          Failpoints.hit(Failpoints.AFTER_EFFECT_BEFORE_COMMIT);
        };
    if (batchHandler != null) {
      if (pending.isEmpty() || !processAsOne(pending, ids, beforeCommit)) {
        isolate(pending, ids, group);
        // Whatever was dead-lettered or skipped, the offsets must still move past the whole batch.
        commitOffsetsOnly(beforeCommit);
      }
      return;
    }
    Map<ConsumerRecord<K, V>, Integer> failures = new IdentityHashMap<>();
    JdbcInbox.Handler<ConsumerRecord<K, V>> apply =
        (c, r) -> {
          Failpoints.hit(Failpoints.AFTER_CLAIM);
          handler.handle(c, r);
        };
    while (!pending.isEmpty()) {
      try {
        JdbcInbox.Batch<ConsumerRecord<K, V>> batch =
            inbox.process(pending, this::sourceOf, ids::get, apply, beforeCommit);
        applied.addAndGet(batch.applied().size());
        duplicates.addAndGet(batch.duplicates().size());
        return;
      } catch (JdbcInbox.HandlerFailedException e) {
        @SuppressWarnings("unchecked")
        ConsumerRecord<K, V> failed = (ConsumerRecord<K, V>) e.failedMessage();
        InboxDecisions.Decision decision =
            decide(e, failures.getOrDefault(failed, 0), DeadLetters.describe(failed));
        failures.put(failed, decision.attempts());
        if (decision.action() == InboxDecisions.Action.DEAD_LETTER) {
          deadLetters.send(
              failed,
              "handler failed " + decision.attempts() + " times",
              e.getCause(),
              decision.attempts());
          pending.remove(e.index());
        } else {
          retries.incrementAndGet();
          lifecycle.sleep(decision.waitNanos());
        }
      }
    }
    // Everything was dead-lettered: nothing for the inbox to commit, but the offsets must still
    // move past it.
    commitOffsetsOnly(beforeCommit);
  }

  /**
   * Runs the batch handler over {@code records} in one transaction, with up to {@code maxAttempts}
   * attempts.
   *
   * @return false if every attempt failed in the handler (nothing committed)
   */
  private boolean processAsOne(
      List<ConsumerRecord<K, V>> records,
      Map<ConsumerRecord<K, V>, String> ids,
      JdbcInbox.BatchHook beforeCommit) {
    JdbcInbox.BatchHandler<ConsumerRecord<K, V>> apply =
        (c, fresh) -> {
          Failpoints.hit(Failpoints.AFTER_CLAIM);
          batchHandler.handle(c, fresh);
        };
    for (int failed = 0; ; ) {
      try {
        JdbcInbox.Batch<ConsumerRecord<K, V>> batch =
            inbox.processAll(records, this::sourceOf, ids::get, apply, beforeCommit);
        applied.addAndGet(batch.applied().size());
        duplicates.addAndGet(batch.duplicates().size());
        return true;
      } catch (JdbcInbox.HandlerFailedException e) {
        InboxDecisions.Decision next =
            decide(
                e,
                failed,
                records.size() == 1
                    ? DeadLetters.describe(records.get(0))
                    : "a batch of " + records.size() + " records");
        failed = next.attempts();
        if (next.action() == InboxDecisions.Action.DEAD_LETTER) {
          if (records.size() == 1) {
            deadLetters.send(
                records.get(0), "handler failed " + failed + " times", e.getCause(), failed);
          }
          return false;
        }
        retries.incrementAndGet();
        lifecycle.sleep(next.waitNanos());
      }
    }
  }

  /**
   * The batch handler kept failing for the batch: find the poison record by running each record
   * alone, in poll order. Each transaction stores only its own partition's next offset, so a crash
   * here resumes right after the last record that committed; the caller stores the whole batch's
   * offsets at the end.
   */
  private void isolate(
      List<ConsumerRecord<K, V>> records, Map<ConsumerRecord<K, V>, String> ids, String group) {
    LOG.log(
        System.Logger.Level.WARNING,
        "the batch handler failed "
            + decisions.maxAttempts()
            + " times for a batch of "
            + records.size()
            + " records; running them one at a time to find the failing one");
    for (ConsumerRecord<K, V> r : records) {
      Map<TopicPartition, Long> own =
          Map.of(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
      JdbcInbox.BatchHook ownOffset =
          c -> {
            if (offsets != null) {
              offsets.advance(c, group, own);
            }
            Failpoints.hit(Failpoints.AFTER_EFFECT_BEFORE_COMMIT);
          };
      processAsOne(List.of(r), ids, ownOffset);
    }
  }

  /**
   * The source of a record's id in the inbox: its consumer group and topic, so a queue or another
   * topic on the same inbox with overlapping ids never makes this one skip a record (unless the
   * inbox shares one scope on purpose).
   */
  private String sourceOf(ConsumerRecord<K, V> r) {
    return sources.computeIfAbsent(
        r.topic(), topic -> "kafka:" + consumer.groupMetadata().groupId() + "/" + topic);
  }

  /**
   * Retry or dead-letter after a handler failure of {@code what}, which failed {@code attempts}
   * times before. A failpoint or a lost database connection is not the record's fault: it ends the
   * attempt as an outage (thrown).
   */
  private InboxDecisions.Decision decide(
      JdbcInbox.HandlerFailedException e, int attempts, String what) {
    if (e.getCause() instanceof Failpoints.FailpointException f) {
      throw f;
    }
    InboxDecisions.Decision next = decisions.afterHandlerFailure(e.getCause(), attempts);
    if (next.action() == InboxDecisions.Action.WAIT_OUT_OUTAGE) {
      // The database went away under the handler: no attempt spent, never dead-lettered; run()
      // waits it out.
      throw new StoreUnavailableException(
          "the database connection failed in the handler of "
              + what
              + "; the batch was rolled back",
          "jdbc",
          Scope.global("kafka"),
          e);
    }
    return next;
  }

  /**
   * Stores the batch's next offsets in a transaction of their own (nothing else of the batch is
   * left to commit).
   */
  private void commitOffsetsOnly(JdbcInbox.BatchHook beforeCommit) {
    if (offsets == null) {
      return;
    }
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        beforeCommit.beforeCommit(c);
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
   * Waits out a database outage without leaving the group: every assigned partition is paused and
   * the consumer polls in short steps (heartbeats, {@code max.poll.interval.ms}, rebalance
   * callbacks), then the partitions whose position is known are resumed. {@link #close()} wakes the
   * poll up.
   */
  private void waitPaused(long nanos) {
    consumer.pause(consumer.assignment());
    long until = System.nanoTime() + nanos;
    for (long left = nanos; left > 0 && !lifecycle.closing(); left = until - System.nanoTime()) {
      ConsumerRecords<K, V> stray =
          consumer.poll(Duration.ofNanos(Math.min(left, OUTAGE_POLL_NANOS)));
      if (!stray.isEmpty()) {
        rewind(
            stray,
            null); // cannot happen with every partition paused; if it does, read them again later
      }
      consumer.pause(consumer.assignment()); // partitions assigned by a rebalance meanwhile
    }
    Set<TopicPartition> resume = new HashSet<>(consumer.assignment());
    resume.removeAll(unpositioned);
    consumer.resume(resume);
  }

  /**
   * Seeks every partition of {@code records} that is still assigned back to its first offset in
   * them.
   */
  private void rewind(ConsumerRecords<K, V> records, RuntimeException failure) {
    try {
      Set<TopicPartition> assigned = consumer.assignment();
      for (TopicPartition tp : records.partitions()) {
        if (assigned.contains(tp)) {
          consumer.seek(tp, records.records(tp).get(0).offset());
        }
      }
    } catch (RuntimeException e) {
      if (failure == null) {
        throw e;
      }
      failure.addSuppressed(e);
    }
  }

  /**
   * Reads and seeks to the stored offsets of partitions assigned while the database was down, then
   * resumes them.
   */
  private void positionUnpositioned() {
    if (unpositioned.isEmpty()) {
      return;
    }
    unpositioned.retainAll(consumer.assignment());
    if (unpositioned.isEmpty()) {
      return;
    }
    Map<TopicPartition, Long> stored;
    try (Connection c = dataSource.getConnection()) {
      stored = offsets.read(c, consumer.groupMetadata().groupId(), unpositioned);
    } catch (SQLException e) {
      throw new StoreException(
          "could not read the stored offsets of " + unpositioned + "; they stay paused: " + e,
          "jdbc",
          Scope.global("kafka"),
          e);
    }
    stored.forEach(consumer::seek);
    consumer.resume(unpositioned);
    LOG.log(
        System.Logger.Level.INFO, "read the stored offsets of " + unpositioned + ", resumed them");
    unpositioned.clear();
  }

  /**
   * Whether {@code e} means the database failed rather than the record: a {@link StoreException} or
   * an {@link SQLException} anywhere in the chain, except that a handler's own exception counts
   * only when it comes from a lost connection ({@link #isConnectionFailure}).
   */
  static boolean isDatabaseFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof JdbcInbox.HandlerFailedException) {
        return InboxDecisions.isOutage(t.getCause(), true);
      }
      if (t instanceof StoreException || t instanceof SQLException) {
        return InboxDecisions.isOutage(t, false);
      }
    }
    return false;
  }

  /**
   * Whether the chain says the connection or the server is gone, exactly as the JDBC store decides
   * it.
   */
  static boolean isConnectionFailure(Throwable e) {
    return InboxDecisions.isConnectionLost(e);
  }

  /**
   * The default message id: the last {@value #MESSAGE_ID_HEADER} header, UTF-8; null when absent.
   */
  public static String messageIdHeader(ConsumerRecord<?, ?> r) {
    return RecordIds.messageIdHeader(r);
  }

  /**
   * Stops {@link #run()} (waking the consumer up) and waits up to 30 seconds for it to close the
   * consumer. If {@code run()} never started, closes the consumer here. Idempotent.
   */
  @Override
  public void close() {
    lifecycle.close();
  }

  /**
   * On assignment, resume each partition at the offset stored with the effects, when there is one.
   * If the database cannot be read, the partitions are paused (never read from Kafka's committed
   * offset, which may lag) until {@link #positionUnpositioned()} succeeds.
   */
  private final class SeekToStoredOffsets implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (offsets == null || partitions.isEmpty()) {
        return;
      }
      Map<TopicPartition, Long> stored;
      try (Connection c = dataSource.getConnection()) {
        stored = offsets.read(c, consumer.groupMetadata().groupId(), partitions);
      } catch (SQLException | RuntimeException e) {
        unpositioned.addAll(partitions);
        consumer.pause(partitions);
        LOG.log(
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
      unpositioned.removeAll(partitions);
    }
  }

  /** Builds a {@link KafkaInboxConsumer}; every setting is checked at once. */
  public static final class Builder<K, V> extends ConsumerSettings<K, V, Builder<K, V>> {
    private final Consumer<K, V> consumer;
    private final DataSource dataSource;
    private final JdbcInbox inbox;
    private final RecordHandler<K, V> handler;
    private final BatchHandler<K, V> batchHandler;
    private boolean offsetsInDatabase = true;
    private String offsetsTable = "once_kafka_offsets";
    private boolean createSchema;

    private Builder(
        Consumer<K, V> consumer,
        DataSource dataSource,
        JdbcInbox inbox,
        RecordHandler<K, V> handler,
        BatchHandler<K, V> batchHandler) {
      this.consumer = Objects.requireNonNull(consumer, "consumer");
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
      this.inbox = Objects.requireNonNull(inbox, "inbox");
      this.handler = handler;
      this.batchHandler = batchHandler;
    }

    /**
     * Whether each batch's next offsets are written in its transaction and sought to on assignment.
     * Default {@code true}; with {@code false} Kafka's committed offsets decide and the claim
     * markers skip redeliveries.
     */
    public Builder<K, V> offsetsInDatabase(boolean enabled) {
      this.offsetsInDatabase = enabled;
      return this;
    }

    /** The offsets table. Default {@code once_kafka_offsets}. */
    public Builder<K, V> offsetsTable(String table) {
      this.offsetsTable = new OffsetTable(Objects.requireNonNull(table, "offsetsTable")).table();
      return this;
    }

    /**
     * Create the offsets table if it is missing, when {@link #build()} runs. Default {@code false}.
     */
    public Builder<K, V> createSchema(boolean create) {
      this.createSchema = create;
      return this;
    }

    public KafkaInboxConsumer<K, V> build() {
      checkRequired();
      return new KafkaInboxConsumer<>(this);
    }
  }
}
