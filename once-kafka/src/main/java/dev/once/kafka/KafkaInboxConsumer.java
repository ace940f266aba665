package dev.once.kafka;

import dev.once.Scope;
import dev.once.StoreException;
import dev.once.internal.InboxDecisions;
import dev.once.jdbc.JdbcInbox;
import dev.once.kafka.internal.BatchOffsets;
import dev.once.kafka.internal.ConsumerLifecycle;
import dev.once.kafka.internal.DeadLetters;
import dev.once.kafka.internal.InboxBatchProcessor;
import dev.once.kafka.internal.OffsetTable;
import dev.once.kafka.internal.PausedPartitions;
import dev.once.kafka.internal.RecordIds;
import dev.once.kafka.internal.StoredOffsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.jspecify.annotations.Nullable;

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

  /** Dead-letter header: why the record was dead-lettered, and the exception's message if any. */
  public static final String DLT_REASON_HEADER = "once.dlt.reason";

  /** Dead-letter header: the class name of the exception, when one caused it. */
  public static final String DLT_EXCEPTION_HEADER = "once.dlt.exception";

  /** Dead-letter header: the record's topic. */
  public static final String DLT_TOPIC_HEADER = "once.dlt.original-topic";

  /** Dead-letter header: the record's partition, in decimal. */
  public static final String DLT_PARTITION_HEADER = "once.dlt.original-partition";

  /** Dead-letter header: the record's offset, in decimal. */
  public static final String DLT_OFFSET_HEADER = "once.dlt.original-offset";

  /** Dead-letter header: how many attempts failed, in decimal. */
  public static final String DLT_ATTEMPTS_HEADER = "once.dlt.attempts";

  private static final System.Logger LOG = System.getLogger(KafkaInboxConsumer.class.getName());

  /**
   * Applies one record inside the batch's transaction, on its connection.
   *
   * @param <K> the record key type
   * @param <V> the record value type
   */
  @FunctionalInterface
  public interface RecordHandler<K, V> {
    /**
     * Applies {@code record}. Write on {@code connection} only, and do not commit, roll back or
     * close it.
     *
     * @param connection the batch's connection, its transaction open
     * @param record a record whose id was not applied before
     * @throws Exception to roll the batch back; the record is retried, then dead-lettered
     */
    void handle(Connection connection, ConsumerRecord<K, V> record) throws Exception;
  }

  /**
   * Applies the fresh records of a polled batch in one call inside the batch's transaction, e.g. as
   * one JDBC batch: the fastest way to write many records' effects.
   *
   * @param <K> the record key type
   * @param <V> the record value type
   */
  @FunctionalInterface
  public interface BatchHandler<K, V> {
    /**
     * Applies the fresh records. Write on {@code connection} only, and do not commit, roll back or
     * close it.
     *
     * @param connection the batch's connection, its transaction open
     * @param fresh the records whose ids were not applied before, in poll order; never empty
     * @throws Exception to roll the batch back; the batch is retried, then isolated
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
  private final List<String> topics;
  private final Duration pollTimeout;
  private final RecordIds<K, V> ids;
  private final DeadLetters<K, V> deadLetters;

  /** Outage or the record's fault, retry or dead-letter: decided as by every inbox adapter. */
  private final InboxDecisions decisions;

  private final PausedPartitions paused;
  private final StoredOffsets offsets;
  private final InboxBatchProcessor<K, V> batches;
  private final ConsumerLifecycle lifecycle;

  private final AtomicLong outages = new AtomicLong();
  private boolean subscribed;

  private KafkaInboxConsumer(Builder<K, V> b) {
    this.consumer = b.consumer;
    this.lifecycle = new ConsumerLifecycle(b.consumer);
    this.topics = List.copyOf(b.topics);
    this.pollTimeout = b.pollTimeout;
    this.ids = new RecordIds<>(b.messageId, b.noIdPolicy, b.keyPolicy, Scope.global("kafka"));
    this.deadLetters =
        new DeadLetters<>(
            b.requiredDeadLetters(), b.deadLetterTopic, b.inbox.listener(), b.inbox.consumer());
    this.decisions =
        new InboxDecisions(b.maxAttempts, b.backoff.shared(), b.outageBackoff.shared());
    this.paused = new PausedPartitions(b.consumer);
    this.offsets =
        new StoredOffsets(
            b.consumer,
            b.dataSource,
            b.offsetsInDatabase ? new OffsetTable(b.offsetsTable) : null,
            paused,
            LOG);
    if (b.createSchema) {
      offsets.createSchema();
    }
    RecordHandler<K, V> handler = b.handler;
    BatchHandler<K, V> batchHandler = b.batchHandler;
    this.batches =
        new InboxBatchProcessor<>(
            b.consumer,
            b.inbox,
            handler == null ? null : handler::handle,
            batchHandler == null ? null : batchHandler::handle,
            deadLetters,
            decisions,
            offsets,
            lifecycle::sleep,
            LOG);
  }

  /**
   * Starts a builder.
   *
   * @param consumer a consumer with {@code enable.auto.commit=false} and a {@code group.id}; not
   *     yet subscribed
   * @param dataSource the database of the inbox (the offsets table lives there too)
   * @param inbox the inbox on that database
   * @param handler the effect of one record
   * @param <K> the record key type
   * @param <V> the record value type
   * @return a new builder
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
   * @param consumer a consumer with {@code enable.auto.commit=false} and a {@code group.id}; not
   *     yet subscribed
   * @param dataSource the database of the inbox (the offsets table lives there too)
   * @param inbox the inbox on that database
   * @param handler the effect of a batch's fresh records
   * @param <K> the record key type
   * @param <V> the record value type
   * @return a new builder
   * @see #builder
   */
  public static <K, V> Builder<K, V> batchBuilder(
      Consumer<K, V> consumer, DataSource dataSource, JdbcInbox inbox, BatchHandler<K, V> handler) {
    return new Builder<>(
        consumer, dataSource, inbox, null, Objects.requireNonNull(handler, "handler"));
  }

  /** {@return the counters so far} Safe to call from any thread. */
  public Stats stats() {
    return new Stats(
        batches.applied(),
        batches.duplicates(),
        deadLetters.sent(),
        batches.retries(),
        outages.get());
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
            paused.waitOut(wait, lifecycle::closing);
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
   * @param timeout the longest the poll waits for records
   * @return the number of records polled
   * @throws StoreException if the database failed (the batch was rolled back and will be read
   *     again), also when the stored offsets of a newly assigned partition could not be read (it
   *     stays paused)
   */
  public int pollOnce(Duration timeout) {
    if (!subscribed) {
      consumer.subscribe(topics, offsets);
      subscribed = true;
    }
    offsets.positionHeld();
    ConsumerRecords<K, V> records = consumer.poll(timeout);
    if (records.isEmpty()) {
      return 0;
    }
    Map<TopicPartition, Long> next = BatchOffsets.next(records);
    try {
      Failpoints.hit(Failpoints.AFTER_POLL);
      List<ConsumerRecord<K, V>> pending = new ArrayList<>(records.count());
      Map<ConsumerRecord<K, V>, String> idOf = new IdentityHashMap<>();
      for (ConsumerRecord<K, V> r : records) {
        RecordIds.Resolved id = ids.resolve(r);
        String rejection = id.rejection();
        if (rejection != null) {
          deadLetters.send(r, rejection, id.cause(), 0);
          continue;
        }
        idOf.put(r, id.id());
        pending.add(r);
      }
      batches.process(pending, idOf, next);
    } catch (RuntimeException e) {
      BatchOffsets.rewindAfter(e, consumer, records, Map.of());
      throw e;
    }
    Failpoints.hit(Failpoints.AFTER_COMMIT_BEFORE_OFFSET_COMMIT);
    BatchOffsets.commit(consumer, next);
    return records.count();
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
   * The default message id: the last {@value #MESSAGE_ID_HEADER} header, UTF-8.
   *
   * @param r the record
   * @return the id, or {@code null} when the header is absent
   */
  public static @Nullable String messageIdHeader(ConsumerRecord<?, ?> r) {
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

  /** Builds a {@link KafkaInboxConsumer}; every setting is checked at once. */
  public static final class Builder<K, V> extends ConsumerSettings<K, V, Builder<K, V>> {
    private final Consumer<K, V> consumer;
    private final DataSource dataSource;
    private final JdbcInbox inbox;
    private final @Nullable RecordHandler<K, V> handler;
    private final @Nullable BatchHandler<K, V> batchHandler;
    private boolean offsetsInDatabase = true;
    private String offsetsTable = "once_kafka_offsets";
    private boolean createSchema;

    private Builder(
        Consumer<K, V> consumer,
        DataSource dataSource,
        JdbcInbox inbox,
        @Nullable RecordHandler<K, V> handler,
        @Nullable BatchHandler<K, V> batchHandler) {
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
     *
     * @param enabled whether to keep the offsets in the database
     * @return this builder
     */
    public Builder<K, V> offsetsInDatabase(boolean enabled) {
      this.offsetsInDatabase = enabled;
      return this;
    }

    /**
     * The offsets table. Default {@code once_kafka_offsets}.
     *
     * @param table a plain SQL identifier
     * @return this builder
     * @throws IllegalArgumentException if it is not one
     */
    public Builder<K, V> offsetsTable(String table) {
      this.offsetsTable = new OffsetTable(Objects.requireNonNull(table, "offsetsTable")).table();
      return this;
    }

    /**
     * Create the offsets table if it is missing, when {@link #build()} runs. Default {@code false}.
     *
     * @param create whether to create it
     * @return this builder
     */
    public Builder<K, V> createSchema(boolean create) {
      this.createSchema = create;
      return this;
    }

    /**
     * Builds the consumer.
     *
     * @return the consumer; run it on one thread with {@code run()} or {@code pollOnce}
     * @throws IllegalStateException if {@code topics} or {@code deadLetters} was not set
     */
    public KafkaInboxConsumer<K, V> build() {
      checkRequired();
      return new KafkaInboxConsumer<>(this);
    }
  }
}
