package dev.once.kafka.internal;

import dev.once.Scope;
import dev.once.StoreUnavailableException;
import dev.once.internal.InboxDecisions;
import dev.once.jdbc.JdbcInbox;
import dev.once.kafka.Failpoints;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

/**
 * Applies one polled batch of the inbox consumer through {@link JdbcInbox}, with its next offsets
 * in the same transaction, until it commits: a record handler's failing record is retried after a
 * backoff and, after {@code maxAttempts}, dead-lettered and the batch run again without it; a batch
 * handler's failing batch is, after {@code maxAttempts}, isolated (its records run one per
 * transaction) so that only the poison record is dead-lettered. A lost database connection in the
 * handler is thrown as an outage, never spent as an attempt.
 */
public final class InboxBatchProcessor<K, V> {

  private final Consumer<K, V> consumer;
  private final JdbcInbox inbox;
  private final JdbcInbox.@Nullable Handler<ConsumerRecord<K, V>>
      handler; // null with a batch handler
  private final JdbcInbox.@Nullable BatchHandler<ConsumerRecord<K, V>>
      batchHandler; // null with a handler
  private final DeadLetters<K, V> deadLetters;
  private final InboxDecisions decisions;
  private final StoredOffsets offsets;
  private final LongConsumer sleep;
  private final System.Logger log;

  private final AtomicLong applied = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();

  /** Per topic, the source of its ids (polling thread only). */
  private final Map<String, String> sources = new HashMap<>();

  /**
   * @param handler the effect of one record, or null when {@code batchHandler} is given
   * @param batchHandler the effect of the fresh records in one call, or null when {@code handler}
   *     is given
   * @param sleep waits between attempts (on the polling thread, ended by the consumer's close)
   * @param log the consumer's logger
   */
  public InboxBatchProcessor(
      Consumer<K, V> consumer,
      JdbcInbox inbox,
      JdbcInbox.@Nullable Handler<ConsumerRecord<K, V>> handler,
      JdbcInbox.@Nullable BatchHandler<ConsumerRecord<K, V>> batchHandler,
      DeadLetters<K, V> deadLetters,
      InboxDecisions decisions,
      StoredOffsets offsets,
      LongConsumer sleep,
      System.Logger log) {
    if ((handler == null) == (batchHandler == null)) {
      throw new IllegalArgumentException("exactly one of handler and batchHandler is needed");
    }
    this.consumer = consumer;
    this.inbox = inbox;
    this.handler = handler;
    this.batchHandler = batchHandler;
    this.deadLetters = deadLetters;
    this.decisions = decisions;
    this.offsets = offsets;
    this.sleep = sleep;
    this.log = log;
  }

  /** Records whose handler ran and committed. */
  public long applied() {
    return applied.get();
  }

  /** Records skipped because their id was already applied. */
  public long duplicates() {
    return duplicates.get();
  }

  /** Attempts that failed in a handler and were tried again. */
  public long retries() {
    return retries.get();
  }

  /**
   * Applies {@code pending} and stores {@code next} (the whole polled batch's next offsets) with
   * it; when every record was dead-lettered, stores {@code next} alone.
   *
   * @param pending the batch's records that have an id, in poll order
   * @param ids the id of each pending record
   * @throws StoreUnavailableException if the database connection failed in a handler
   * @throws dev.once.StoreException if the database failed (the batch rolled back)
   */
  public void process(
      List<ConsumerRecord<K, V>> pending,
      Map<ConsumerRecord<K, V>, String> ids,
      Map<TopicPartition, Long> next) {
    JdbcInbox.BatchHook beforeCommit =
        c -> {
          offsets.advance(c, next);
          Failpoints.hit(Failpoints.AFTER_EFFECT_BEFORE_COMMIT);
        };
    if (batchHandler != null) {
      if (pending.isEmpty() || !processAsOne(pending, ids, beforeCommit)) {
        isolate(pending, ids);
        // Whatever was dead-lettered or skipped, the offsets must still move past the whole batch.
        offsets.storeAlone(beforeCommit);
      }
      return;
    }
    Map<ConsumerRecord<K, V>, Integer> failures = new IdentityHashMap<>();
    JdbcInbox.Handler<ConsumerRecord<K, V>> recordHandler =
        Objects.requireNonNull(handler, "a consumer without a batch handler has a record handler");
    JdbcInbox.Handler<ConsumerRecord<K, V>> apply =
        (c, r) -> {
          Failpoints.hit(Failpoints.AFTER_CLAIM);
          recordHandler.handle(c, r);
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
        ConsumerRecord<K, V> failed =
            (ConsumerRecord<K, V>)
                Objects.requireNonNull(e.failedMessage(), "a record handler's failure names it");
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
          sleep.accept(decision.waitNanos());
        }
      }
    }
    // Everything was dead-lettered: nothing for the inbox to commit, but the offsets must still
    // move past it.
    offsets.storeAlone(beforeCommit);
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
    JdbcInbox.BatchHandler<ConsumerRecord<K, V>> wholeBatch =
        Objects.requireNonNull(batchHandler, "a consumer without a record handler has a batch one");
    JdbcInbox.BatchHandler<ConsumerRecord<K, V>> apply =
        (c, fresh) -> {
          Failpoints.hit(Failpoints.AFTER_CLAIM);
          wholeBatch.handle(c, fresh);
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
        sleep.accept(next.waitNanos());
      }
    }
  }

  /**
   * The batch handler kept failing for the batch: find the poison record by running each record
   * alone, in poll order. Each transaction stores only its own partition's next offset, so a crash
   * here resumes right after the last record that committed; the caller stores the whole batch's
   * offsets at the end.
   */
  private void isolate(List<ConsumerRecord<K, V>> records, Map<ConsumerRecord<K, V>, String> ids) {
    log.log(
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
            offsets.advance(c, own);
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
      // The database went away under the handler: no attempt spent, never dead-lettered; the
      // consumer's run() waits it out.
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
}
