package dev.once.kafka;

import dev.once.InvalidKeyException;
import dev.once.KeyPolicy;
import dev.once.Scope;
import dev.once.StoreException;
import dev.once.jdbc.JdbcInbox;
import dev.once.kafka.internal.OffsetTable;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A Kafka consumer whose handler's database effects happen exactly once per message id, on top of Kafka's
 * at-least-once delivery.
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
 * <p>Per polled batch: one {@link JdbcInbox#process} transaction claims every id of the batch in one statement,
 * runs the handler for fresh ids only, writes the batch's next offsets to {@code once_kafka_offsets} (unless
 * {@link Builder#offsetsInDatabase(boolean) offsetsInDatabase(false)}) and commits; only then are the offsets
 * committed to Kafka with {@code commitSync}. On partition assignment the consumer seeks to the offsets stored in
 * the database, so the database, not Kafka, decides where a partition resumes: a crash between the commit and
 * {@code commitSync} loses nothing and redoes nothing. Even without the offsets table, a redelivered record's id
 * is already claimed and the record is skipped as a duplicate.
 *
 * <p>The message id is the UTF-8 value of the last header {@value #MESSAGE_ID_HEADER} by default, or any function
 * of the record ({@link Builder#messageId}), e.g. a business key. Records without one follow the {@link NoIdPolicy}
 * (default {@link NoIdPolicy#REJECT}: dead-lettered, never applied unprotected); a record whose id the
 * {@link Builder#keyPolicy key policy} refuses is dead-lettered too.
 *
 * <p>A handler exception rolls the whole batch back. The batch is tried again after an exponential backoff with
 * jitter; after {@link Builder#retry maxAttempts} failures of one record, that record is sent to the dead-letter
 * topic ({@code <topic>.DLT} by default) with the reason in headers ({@value #DLT_REASON_HEADER},
 * {@value #DLT_EXCEPTION_HEADER}, {@value #DLT_TOPIC_HEADER}, {@value #DLT_PARTITION_HEADER},
 * {@value #DLT_OFFSET_HEADER}, {@value #DLT_ATTEMPTS_HEADER}) and the rest of the batch is processed again
 * without it. Dead-lettering is at-least-once: a crash after the send and before the batch commits sends the
 * record again on redelivery.
 *
 * <p>Not thread-safe, like the Kafka consumer it wraps: {@link #run()} (or {@link #pollOnce}) on one thread;
 * {@link #close()} from any thread. The instance owns the consumer and closes it; the producer stays the caller's.
 * Backoff waits happen on the polling thread: keep {@code maxAttempts x maxBackoff} well under the consumer's
 * {@code max.poll.interval.ms}.
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

  /** Applies one record inside the batch's transaction, on its connection. */
  @FunctionalInterface
  public interface RecordHandler<K, V> {
    void handle(Connection connection, ConsumerRecord<K, V> record) throws Exception;
  }

  /**
   * Counters since this instance was built.
   *
   * @param applied      records whose handler ran and committed
   * @param duplicates   records skipped because their id was already applied
   * @param deadLettered records sent to the dead-letter topic (handler failures and records without an id)
   * @param retries      batch attempts that failed in a handler and were tried again
   */
  public record Stats(long applied, long duplicates, long deadLettered, long retries) {
  }

  private final Consumer<K, V> consumer;
  private final DataSource dataSource;
  private final JdbcInbox inbox;
  private final RecordHandler<K, V> handler;
  private final List<String> topics;
  private final Function<ConsumerRecord<K, V>, String> messageId;
  private final NoIdPolicy noIdPolicy;
  private final Producer<K, V> deadLetters;
  private final Function<String, String> deadLetterTopic;
  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final Duration pollTimeout;
  private final OffsetTable offsets;
  private final KeyPolicy keyPolicy;

  private final AtomicLong applied = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong deadLettered = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicBoolean running = new AtomicBoolean();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private boolean subscribed;
  private boolean consumerClosed;

  private KafkaInboxConsumer(Builder<K, V> b) {
    this.consumer = b.consumer;
    this.dataSource = b.dataSource;
    this.inbox = b.inbox;
    this.handler = b.handler;
    this.topics = List.copyOf(b.topics);
    this.messageId = b.messageId;
    this.noIdPolicy = b.noIdPolicy;
    this.deadLetters = b.deadLetters;
    this.deadLetterTopic = b.deadLetterTopic;
    this.maxAttempts = b.maxAttempts;
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.pollTimeout = b.pollTimeout;
    this.offsets = b.offsetsInDatabase ? new OffsetTable(b.offsetsTable) : null;
    this.keyPolicy = b.keyPolicy;
    if (offsets != null && b.createSchema) {
      try (Connection c = dataSource.getConnection()) {
        offsets.createSchema(c);
      } catch (SQLException e) {
        throw new IllegalStateException("could not create the offsets table " + b.offsetsTable + ": " + e, e);
      }
    }
  }

  /**
   * Starts a builder.
   *
   * @param consumer   a consumer with {@code enable.auto.commit=false} and a {@code group.id}; not yet subscribed
   * @param dataSource the database of the inbox (the offsets table lives there too)
   * @param inbox      the inbox on that database; its store should use {@code ConcurrentClaimPolicy.WAIT}
   * @param handler    the effect of one record
   */
  public static <K, V> Builder<K, V> builder(Consumer<K, V> consumer, DataSource dataSource, JdbcInbox inbox,
                                             RecordHandler<K, V> handler) {
    return new Builder<>(consumer, dataSource, inbox, handler);
  }

  /** Counters so far. */
  public Stats stats() {
    return new Stats(applied.get(), duplicates.get(), deadLettered.get(), retries.get());
  }

  /**
   * Polls and processes batches until {@link #close()}, then closes the consumer. An exception other than the
   * wakeup that {@code close()} causes ends the loop and is rethrown (the consumer is closed; uncommitted
   * batches are redelivered to whoever consumes next).
   */
  public void run() {
    if (!running.compareAndSet(false, true)) {
      throw new IllegalStateException("run() was already called");
    }
    try {
      while (!closing.get()) {
        pollOnce(pollTimeout);
      }
    } catch (WakeupException e) {
      if (!closing.get()) {
        throw e;
      }
    } finally {
      closeConsumer();
      stopped.countDown();
    }
  }

  /**
   * Polls once and processes what came, on the calling thread; subscribes on the first call.
   *
   * @return the number of records polled
   * @throws StoreException if the database failed (the batch was rolled back and will be redelivered)
   */
  public int pollOnce(Duration timeout) {
    if (!subscribed) {
      consumer.subscribe(topics, new SeekToStoredOffsets());
      subscribed = true;
    }
    ConsumerRecords<K, V> records = consumer.poll(timeout);
    if (records.isEmpty()) {
      return 0;
    }
    List<ConsumerRecord<K, V>> pending = new ArrayList<>(records.count());
    Map<TopicPartition, Long> next = new HashMap<>();
    Map<ConsumerRecord<K, V>, String> ids = new IdentityHashMap<>();
    for (ConsumerRecord<K, V> r : records) {
      next.merge(new TopicPartition(r.topic(), r.partition()), r.offset() + 1, Math::max);
      String id = messageId.apply(r);
      if (id == null || id.isBlank()) {
        if (noIdPolicy == NoIdPolicy.REJECT) {
          deadLetter(r, "no message id", null, 0);
          continue;
        }
        id = r.topic() + "-" + r.partition() + "-" + r.offset();
      }
      try {
        keyPolicy.key(Scope.global("kafka"), id);
      } catch (InvalidKeyException e) {
        deadLetter(r, "invalid message id", e, 0);
        continue;
      }
      ids.put(r, id);
      pending.add(r);
    }
    processWithRetries(pending, ids, next);
    Failpoints.hit(Failpoints.AFTER_COMMIT_BEFORE_OFFSET_COMMIT);
    Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
    next.forEach((tp, offset) -> commit.put(tp, new OffsetAndMetadata(offset)));
    consumer.commitSync(commit);
    return records.count();
  }

  private void processWithRetries(List<ConsumerRecord<K, V>> pending, Map<ConsumerRecord<K, V>, String> ids,
                                  Map<TopicPartition, Long> next) {
    Map<ConsumerRecord<K, V>, Integer> failures = new IdentityHashMap<>();
    String group = offsets == null ? null : consumer.groupMetadata().groupId();
    JdbcInbox.BatchHook beforeCommit = c -> {
      if (offsets != null) {
        offsets.advance(c, group, next);
      }
      Failpoints.hit(Failpoints.AFTER_EFFECT_BEFORE_COMMIT);
    };
    JdbcInbox.Handler<ConsumerRecord<K, V>> apply = (c, r) -> {
      Failpoints.hit(Failpoints.AFTER_CLAIM);
      handler.handle(c, r);
    };
    while (!pending.isEmpty()) {
      try {
        JdbcInbox.Batch<ConsumerRecord<K, V>> batch = inbox.process(pending, ids::get, apply, beforeCommit);
        applied.addAndGet(batch.applied().size());
        duplicates.addAndGet(batch.duplicates().size());
        return;
      } catch (JdbcInbox.HandlerFailedException e) {
        if (e.getCause() instanceof Failpoints.FailpointException f) {
          throw f;
        }
        @SuppressWarnings("unchecked")
        ConsumerRecord<K, V> failed = (ConsumerRecord<K, V>) e.failedMessage();
        int attempts = failures.merge(failed, 1, Integer::sum);
        if (attempts >= maxAttempts) {
          deadLetter(failed, "handler failed " + attempts + " times", e.getCause(), attempts);
          pending.remove(e.index());
        } else {
          retries.incrementAndGet();
          backoff(attempts);
        }
      }
    }
    // Everything was dead-lettered: nothing for the inbox to commit, but the offsets must still move past it.
    if (offsets != null) {
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
        throw new IllegalStateException("could not store the offsets of a dead-lettered batch: " + e, e);
      }
    }
  }

  private void backoff(int attempt) {
    long base = initialBackoff.toNanos() << Math.min(attempt - 1, 20);
    long capped = Math.min(base <= 0 ? Long.MAX_VALUE : base, maxBackoff.toNanos());
    long jittered = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
    long until = System.nanoTime() + jittered;
    // Waits in short steps so that close() ends a backoff at once; the batch stays uncommitted and comes back.
    for (long left = jittered; left > 0; left = until - System.nanoTime()) {
      if (closing.get()) {
        throw new WakeupException();
      }
      try {
        TimeUnit.NANOSECONDS.sleep(Math.min(left, 50_000_000L));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new org.apache.kafka.common.errors.InterruptException(e);
      }
    }
  }

  private void deadLetter(ConsumerRecord<K, V> r, String reason, Throwable cause, int attempts) {
    RecordHeaders headers = new RecordHeaders();
    for (Header h : r.headers()) {
      headers.add(h);
    }
    headers.add(DLT_REASON_HEADER, utf8(reason + (cause == null ? "" : ": " + cause.getMessage())));
    if (cause != null) {
      headers.add(DLT_EXCEPTION_HEADER, utf8(cause.getClass().getName()));
    }
    headers.add(DLT_TOPIC_HEADER, utf8(r.topic()));
    headers.add(DLT_PARTITION_HEADER, utf8(Integer.toString(r.partition())));
    headers.add(DLT_OFFSET_HEADER, utf8(Long.toString(r.offset())));
    headers.add(DLT_ATTEMPTS_HEADER, utf8(Integer.toString(attempts)));
    String topic = deadLetterTopic.apply(r.topic());
    try {
      deadLetters.send(new ProducerRecord<>(topic, null, r.key(), r.value(), headers)).get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while dead-lettering " + describe(r) + " to " + topic, e);
    } catch (ExecutionException | TimeoutException e) {
      // Not acknowledged: the batch is not committed either, so the record comes back.
      throw new IllegalStateException("could not dead-letter " + describe(r) + " to " + topic + ": " + e, e);
    }
    deadLettered.incrementAndGet();
  }

  private static String describe(ConsumerRecord<?, ?> r) {
    return r.topic() + "-" + r.partition() + "@" + r.offset();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** The default message id: the last {@value #MESSAGE_ID_HEADER} header, UTF-8; null when absent. */
  public static String messageIdHeader(ConsumerRecord<?, ?> r) {
    Header h = r.headers().lastHeader(MESSAGE_ID_HEADER);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  /**
   * Stops {@link #run()} (waking the consumer up) and waits up to 30 seconds for it to close the consumer. If
   * {@code run()} never started, closes the consumer here. Idempotent.
   */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    if (running.get()) {
      consumer.wakeup();
      try {
        stopped.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } else {
      closeConsumer();
    }
  }

  private synchronized void closeConsumer() {
    if (!consumerClosed) {
      consumerClosed = true;
      consumer.close();
    }
  }

  /** On assignment, resume each partition at the offset stored with the effects, when there is one. */
  private final class SeekToStoredOffsets implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (offsets == null || partitions.isEmpty()) {
        return;
      }
      Map<TopicPartition, Long> stored;
      try (Connection c = dataSource.getConnection()) {
        stored = offsets.read(c, consumer.groupMetadata().groupId(), partitions);
      } catch (SQLException e) {
        throw new IllegalStateException("could not read the stored offsets of " + partitions + ": " + e, e);
      }
      stored.forEach(consumer::seek);
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      // Nothing in flight: every batch is committed (database, then Kafka) before the next poll.
    }
  }

  /** Builds a {@link KafkaInboxConsumer}; every setting is checked at once. */
  public static final class Builder<K, V> {
    private final Consumer<K, V> consumer;
    private final DataSource dataSource;
    private final JdbcInbox inbox;
    private final RecordHandler<K, V> handler;
    private List<String> topics = List.of();
    private Function<ConsumerRecord<K, V>, String> messageId = KafkaInboxConsumer::messageIdHeader;
    private NoIdPolicy noIdPolicy = NoIdPolicy.REJECT;
    private Producer<K, V> deadLetters;
    private Function<String, String> deadLetterTopic = t -> t + ".DLT";
    private int maxAttempts = 5;
    private Duration initialBackoff = Duration.ofMillis(100);
    private Duration maxBackoff = Duration.ofSeconds(5);
    private Duration pollTimeout = Duration.ofMillis(500);
    private boolean offsetsInDatabase = true;
    private String offsetsTable = "once_kafka_offsets";
    private boolean createSchema;
    private KeyPolicy keyPolicy = KeyPolicy.defaults();

    private Builder(Consumer<K, V> consumer, DataSource dataSource, JdbcInbox inbox, RecordHandler<K, V> handler) {
      this.consumer = Objects.requireNonNull(consumer, "consumer");
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
      this.inbox = Objects.requireNonNull(inbox, "inbox");
      this.handler = Objects.requireNonNull(handler, "handler");
    }

    /** The topics to subscribe to. Required. */
    public Builder<K, V> topics(Collection<String> topics) {
      if (topics == null || topics.isEmpty()) {
        throw new IllegalArgumentException("topics must not be empty, but was " + topics);
      }
      this.topics = List.copyOf(topics);
      return this;
    }

    /** The id of a record, e.g. a business key. Default: header {@value #MESSAGE_ID_HEADER}. Null or blank = none. */
    public Builder<K, V> messageId(Function<ConsumerRecord<K, V>, String> messageId) {
      this.messageId = Objects.requireNonNull(messageId, "messageId");
      return this;
    }

    /**
     * The key policy of the inbox, to check ids before the batch: a record whose id it refuses is dead-lettered
     * (reason {@code invalid message id}) instead of failing its whole batch. Default {@link KeyPolicy#defaults()},
     * the inbox's default; set the same policy as on the {@code JdbcInbox}.
     */
    public Builder<K, V> keyPolicy(KeyPolicy keyPolicy) {
      this.keyPolicy = Objects.requireNonNull(keyPolicy, "keyPolicy");
      return this;
    }

    /** What to do with a record without an id. Default {@link NoIdPolicy#REJECT}. */
    public Builder<K, V> noIdPolicy(NoIdPolicy policy) {
      this.noIdPolicy = Objects.requireNonNull(policy, "noIdPolicy");
      return this;
    }

    /** The producer for dead letters (required; stays the caller's to close). */
    public Builder<K, V> deadLetters(Producer<K, V> producer) {
      this.deadLetters = Objects.requireNonNull(producer, "deadLetters");
      return this;
    }

    /** The dead-letter topic of a topic. Default {@code <topic>.DLT}. */
    public Builder<K, V> deadLetterTopic(Function<String, String> naming) {
      this.deadLetterTopic = Objects.requireNonNull(naming, "deadLetterTopic");
      return this;
    }

    /**
     * Handler failures: a record is dead-lettered after {@code maxAttempts} failed attempts; before each retry the
     * thread waits a random time between half and all of {@code initialBackoff x 2^(failures-1)}, capped at
     * {@code maxBackoff}. Default 5 attempts, 100 ms, 5 s.
     */
    public Builder<K, V> retry(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1, but was " + maxAttempts);
      }
      if (initialBackoff == null || initialBackoff.isNegative()) {
        throw new IllegalArgumentException("initialBackoff must not be negative, but was " + initialBackoff);
      }
      if (maxBackoff == null || maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException("maxBackoff must be at least initialBackoff (" + initialBackoff
            + "), but was " + maxBackoff);
      }
      this.maxAttempts = maxAttempts;
      this.initialBackoff = initialBackoff;
      this.maxBackoff = maxBackoff;
      return this;
    }

    /** How long {@link #run()} waits in one poll. Default 500 ms. */
    public Builder<K, V> pollTimeout(Duration timeout) {
      if (timeout == null || timeout.isNegative()) {
        throw new IllegalArgumentException("pollTimeout must not be negative, but was " + timeout);
      }
      this.pollTimeout = timeout;
      return this;
    }

    /**
     * Whether each batch's next offsets are written in its transaction and sought to on assignment. Default
     * {@code true}; with {@code false} Kafka's committed offsets decide and the claim markers skip redeliveries.
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

    /** Create the offsets table if it is missing, when {@link #build()} runs. Default {@code false}. */
    public Builder<K, V> createSchema(boolean create) {
      this.createSchema = create;
      return this;
    }

    public KafkaInboxConsumer<K, V> build() {
      if (topics.isEmpty()) {
        throw new IllegalStateException("topics(...) is required");
      }
      if (deadLetters == null) {
        throw new IllegalStateException("deadLetters(producer) is required: poison records and records without an"
            + " id go to the dead-letter topic, they are never dropped or applied unprotected");
      }
      return new KafkaInboxConsumer<>(this);
    }
  }
}
