package dev.once.kafka;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.LeaseLostException;
import dev.once.OnceEngine;
import dev.once.OnceListener;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.StoreException;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
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
 * A Kafka consumer for effects <b>outside</b> any database you could commit with (calling an
 * external API, sending an e-mail), deduplicated by message id in any {@link IdempotencyStore} in
 * lease mode, typically {@code RedisIdempotencyStore} from {@code once-redis}. The guarantee is
 * weaker than {@link KafkaInboxConsumer}'s; read it below.
 *
 * <pre>{@code
 * RedisIdempotencyStore store = RedisIdempotencyStore.builder(RedisURI.create("redis://redis:6379")).build();
 * KafkaLeaseConsumer<String, String> consumer = KafkaLeaseConsumer.builder(kafkaConsumer, store,
 *         (record, lease) -> payments.charge(record.value(), lease.idempotencyKey(), lease.token()))
 *     .topics(List.of("charges"))
 *     .deadLetters(kafkaProducer)                // poison, id-less and reused-id records go to "charges.DLT"
 *     .lease(Duration.ofSeconds(30))             // renewed every 10 s while a charge runs
 *     .build();
 * executor.submit(consumer::run);                // ... consumer.close() stops it and closes the consumer
 * }</pre>
 *
 * <p><b>Per record</b>, in partition order: the message id (the same id function, {@link
 * NoIdPolicy} and key policy as {@link KafkaInboxConsumer}) is claimed in the store with a lease
 * ({@link Builder#lease}, default 30 s) under {@code Scope.global(name)} ({@link Builder#name}),
 * fingerprint {@link Builder#fingerprint} (default: the id alone).
 *
 * <ul>
 *   <li>{@code Completed}: a duplicate, skipped.
 *   <li>{@code Acquired}: the handler runs with a {@link Lease} carrying the fencing token and a
 *       stable idempotency key for the downstream call; when it returns, the claim is completed
 *       (kept for {@link Builder#retention}, default 7 days). If the handler throws, the claim is
 *       released and the record is tried again after an exponential backoff with jitter; after
 *       {@code maxAttempts} failures it goes to the dead-letter topic.
 *   <li>{@code InProgress}: someone else (another member racing on a duplicate published to another
 *       partition, or a crashed predecessor whose lease has not expired) holds the id. The record
 *       is neither run nor skipped: its partition is sought back to it and paused, and the claim is
 *       tried again after a backoff no longer than the lease's remaining time, until it answers
 *       {@code Completed} (skip) or {@code Acquired} (the lease expired: run).
 *   <li>{@code Mismatch}: the id was used with another fingerprint; the record is dead-lettered,
 *       never run.
 * </ul>
 *
 * A partition's offset is committed to Kafka ({@code commitSync}, after each poll's records are
 * settled) only up to its first record whose effect is not known complete, so a record is never
 * skipped. A store failure is an outage, not the record's fault: the partition waits at that record
 * with {@link Builder#outageBackoff} and no attempt is spent; an effect whose {@code complete}
 * failed is completed with its own token when the store answers again. While a partition waits it
 * is paused and the consumer keeps polling, so the member stays in its group.
 *
 * <p><b>The guarantee: at least once, at most once per lease.</b>
 *
 * <ul>
 *   <li>While a lease is live, no other consumer runs the same id: duplicates are skipped, and
 *       racing members wait for the holder.
 *   <li><b>The crash window.</b> A crash (or a pause or a lost store longer than the lease) after
 *       the external effect and before {@code complete} leaves the id in progress; when the lease
 *       expires, the next delivery takes it over with a larger fencing token and <b>runs the effect
 *       again</b>. For that window the effect is at-least-once, not exactly-once. It becomes
 *       exactly-once only if the external system deduplicates by the {@link Lease#idempotencyKey()}
 *       the handler passes (the same for every delivery and takeover of an id), or rejects a stale
 *       {@link Lease#token()} (fencing: larger tokens win).
 *   <li>While the handler runs, its lease is renewed in the background every third of the lease
 *       (fenced by the token, on a scheduler shared by the JVM), so a slow handler keeps its id.
 *       Only a handler whose renewals fail for a whole lease (the store unreachable, the JVM
 *       paused) can be taken over: the lost renewal is reported ({@link
 *       OnceListener#renewalFailed}, {@link Lease#lost()}), the handler's {@code complete} fails
 *       ({@link LeaseLostException}), the record is claimed again, and the stats count a lost
 *       lease.
 *   <li>The store's durability bounds it: what Redis forgets (no persistence, a failover, eviction,
 *       retention) is run again on redelivery. Leases and retention are timed by the store's clock
 *       (Redis {@code TIME} and {@code PEXPIRE}), never the consumers' clocks; fencing tokens grow
 *       as long as the store's clock does not go back.
 * </ul>
 *
 * Use {@link KafkaInboxConsumer} for effects in your database: they commit with their dedupe
 * marker.
 *
 * <p>Not thread-safe, like the Kafka consumer it wraps: {@link #run()} (or {@link #pollOnce}) on
 * one thread; {@link #close()} from any thread. The instance owns the consumer and closes it; the
 * store and the producer stay the caller's. The handler runs on the polling thread: keep it (and
 * {@code maxBackoff}) well under the consumer's {@code max.poll.interval.ms}.
 */
public final class KafkaLeaseConsumer<K, V> implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(KafkaLeaseConsumer.class.getName());

  /**
   * Longest single poll while every assigned partition waits, so a due partition is resumed
   * promptly.
   */
  private static final long MAX_IDLE_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /** Runs the external effect of one record, while this consumer holds its id's lease. */
  @FunctionalInterface
  public interface LeaseHandler<K, V> {
    void handle(ConsumerRecord<K, V> record, Lease lease) throws Exception;
  }

  /**
   * The claim a handler runs under. Pass {@link #idempotencyKey()} or {@link #token()} to the
   * external system so it can deduplicate or fence; both are safe to log and send (neither holds
   * the raw message id).
   */
  public static final class Lease {
    private final OnceEngine.Held held;
    private final Duration lease;

    Lease(OnceEngine.Held held, Duration lease) {
      this.held = held;
      this.lease = lease;
    }

    /** The message id, as resolved from the record. */
    public String messageId() {
      return held.key().value();
    }

    /**
     * A stable key for the downstream call: the same for every redelivery and every takeover of
     * this message id in this consumer's scope (64 hex characters, a SHA-256 of the scope and the
     * id).
     */
    public String idempotencyKey() {
      return held.key().digestHex();
    }

    /**
     * The fencing token of this acquisition: larger than any earlier acquisition of the same id. A
     * downstream system that remembers the largest token it has seen per key can refuse a zombie's
     * late call.
     */
    public long token() {
      return held.token();
    }

    /**
     * Extends the lease to the configured lease duration from now (by the store's clock). Rarely
     * needed: the lease is renewed in the background every third of it while the handler runs.
     *
     * @throws LeaseLostException if the lease already expired and someone else took the id over:
     *     stop the effect
     */
    public void renew() {
      held.store().renew(held.key(), held.token(), lease);
    }

    /**
     * Whether the background renewal found the lease taken over by another delivery: the effect may
     * run twice, and this one's completion will be refused. A long handler can check it between
     * steps and stop early.
     */
    public boolean lost() {
      return held.leaseLost();
    }

    @Override
    public String toString() {
      return "Lease[" + held.key() + ", token=" + held.token() + "]";
    }
  }

  /**
   * Counters since this instance was built.
   *
   * @param applied records whose handler ran and whose claim was completed
   * @param duplicates records skipped because their id was completed
   * @param deadLettered records sent to the dead-letter topic (handler failures, no or invalid id,
   *     reused id)
   * @param retries handler failures that were retried
   * @param waits claims answered {@code InProgress}: the record waited for another holder
   * @param outages store calls that failed; the record waited with the outage backoff
   * @param leasesLost completions refused because the lease had been taken over (the effect may
   *     have run twice)
   */
  public record Stats(
      long applied,
      long duplicates,
      long deadLettered,
      long retries,
      long waits,
      long outages,
      long leasesLost) {}

  /** What became of one record. */
  private enum Settled {
    DONE,
    WAIT
  }

  /**
   * A partition stopped at one record: why, how often, and an effect whose completion is pending.
   */
  private static final class Stall {
    final long offset;
    int failures;
    int waits;
    int outages;
    long pendingToken = -1; // the effect ran with this token; its complete failed on a store error

    Stall(long offset) {
      this.offset = offset;
    }
  }

  private final Consumer<K, V> consumer;
  private final IdempotencyStore store;
  private final LeaseHandler<K, V> handler;
  private final List<String> topics;
  private final RecordIds<K, V> ids;
  private final DeadLetters<K, V> deadLetters;
  private final Function<ConsumerRecord<K, V>, Fingerprint> fingerprint;
  private final Duration lease;
  private final Duration retention;
  private final int maxAttempts;
  private final Backoff backoff;
  private final Backoff outageBackoff;
  private final Duration pollTimeout;
  private final OnceEngine engine;

  private final AtomicLong applied = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private final AtomicLong waits = new AtomicLong();
  private final AtomicLong outages = new AtomicLong();
  private final AtomicLong leasesLost = new AtomicLong();
  private final ConsumerLifecycle lifecycle;

  /** Polling thread only: where each waiting partition stopped, and until when it is paused. */
  private final Map<TopicPartition, Stall> stalls = new HashMap<>();

  private final Map<TopicPartition, Long> pausedUntil = new HashMap<>();
  private boolean subscribed;

  private KafkaLeaseConsumer(Builder<K, V> b) {
    this.consumer = b.consumer;
    this.lifecycle = new ConsumerLifecycle(b.consumer);
    this.store = b.store;
    this.handler = b.handler;
    this.topics = List.copyOf(b.topics);
    this.ids = new RecordIds<>(b.messageId, b.noIdPolicy, b.keyPolicy, Scope.global(b.name));
    this.deadLetters = new DeadLetters<>(b.deadLetters, b.deadLetterTopic);
    this.fingerprint = b.fingerprint;
    this.lease = b.lease;
    this.retention = b.retention;
    this.maxAttempts = b.maxAttempts;
    this.backoff = b.backoff;
    this.outageBackoff = b.outageBackoff;
    this.pollTimeout = b.pollTimeout;
    this.engine = OnceEngine.of(b.listener);
  }

  /**
   * Starts a builder.
   *
   * @param consumer a consumer with {@code enable.auto.commit=false} and a {@code group.id}; not
   *     yet subscribed
   * @param store where the ids are claimed, e.g. a {@code RedisIdempotencyStore}; stays the
   *     caller's to close
   * @param handler the external effect of one record
   */
  public static <K, V> Builder<K, V> builder(
      Consumer<K, V> consumer, IdempotencyStore store, LeaseHandler<K, V> handler) {
    return new Builder<>(consumer, store, handler);
  }

  /** Counters so far. */
  public Stats stats() {
    return new Stats(
        applied.get(),
        duplicates.get(),
        deadLetters.sent(),
        retries.get(),
        waits.get(),
        outages.get(),
        leasesLost.get());
  }

  /**
   * Polls and processes records until {@link #close()}, then closes the consumer. Store outages and
   * waits on other holders never end the loop (the partition waits, paused, at that record);
   * neither does a Kafka offset commit refused because the group rebalanced (the records are
   * complete in the store; whoever reads them again skips them). Any other exception (a failing
   * dead-letter send, a Kafka fatal error) ends the loop and is rethrown after the consumer is
   * closed.
   */
  public void run() {
    lifecycle.begin();
    try {
      while (!lifecycle.closing()) {
        try {
          pollOnce(pollTimeout);
        } catch (CommitFailedException | RebalanceInProgressException e) {
          LOG.log(
              System.Logger.Level.WARNING,
              "Kafka refused an offset commit (the group rebalanced); the records"
                  + " are complete in the store and are skipped when read again: "
                  + e);
        }
      }
    } catch (WakeupException e) {
      if (!lifecycle.closing()) {
        throw e;
      }
    } catch (RuntimeException e) {
      if (!lifecycle.closing()) {
        throw e;
      }
    } finally {
      lifecycle.ended();
    }
  }

  /**
   * Polls once and settles what came, on the calling thread; subscribes on the first call. Then
   * commits, for each partition, the offset after its last settled record. If this throws, nothing
   * is committed and each partition is sought back to its first unsettled record.
   *
   * @return the number of records polled
   */
  public int pollOnce(Duration timeout) {
    if (!subscribed) {
      consumer.subscribe(topics, new ForgetRevoked());
      subscribed = true;
    }
    long now = System.nanoTime();
    long nextDue = Long.MAX_VALUE;
    for (Iterator<Map.Entry<TopicPartition, Long>> it = pausedUntil.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<TopicPartition, Long> e = it.next();
      if (e.getValue() - now <= 0) {
        consumer.resume(List.of(e.getKey()));
        it.remove();
      } else {
        nextDue = Math.min(nextDue, e.getValue() - now);
      }
    }
    Duration wait = timeout;
    if (!pausedUntil.isEmpty()) {
      wait = Duration.ofNanos(Math.min(timeout.toNanos(), Math.min(nextDue, MAX_IDLE_POLL_NANOS)));
    }
    ConsumerRecords<K, V> records = consumer.poll(wait);
    if (records.isEmpty()) {
      return 0;
    }
    Map<TopicPartition, Long> settledUpTo = new HashMap<>();
    try {
      for (TopicPartition tp : records.partitions()) {
        for (ConsumerRecord<K, V> r : records.records(tp)) {
          long pause = settle(tp, r);
          if (pause > 0) {
            consumer.seek(tp, r.offset());
            consumer.pause(List.of(tp));
            pausedUntil.put(tp, System.nanoTime() + pause);
            break;
          }
          settledUpTo.put(tp, r.offset() + 1);
        }
      }
    } catch (RuntimeException e) {
      try {
        for (TopicPartition tp : records.partitions()) {
          if (consumer.assignment().contains(tp)) {
            consumer.seek(tp, settledUpTo.getOrDefault(tp, records.records(tp).get(0).offset()));
          }
        }
      } catch (RuntimeException seek) {
        e.addSuppressed(seek);
      }
      throw e;
    }
    if (!settledUpTo.isEmpty()) {
      Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
      settledUpTo.forEach((tp, offset) -> commit.put(tp, new OffsetAndMetadata(offset)));
      consumer.commitSync(commit);
    }
    return records.count();
  }

  /**
   * Settles one record, or says how long its partition must wait at it.
   *
   * @return 0 if the record is settled (applied, skipped or dead-lettered), else the wait in
   *     nanoseconds
   */
  private long settle(TopicPartition tp, ConsumerRecord<K, V> r) {
    Stall stall = stalls.get(tp);
    if (stall != null && stall.offset != r.offset()) {
      stall = null;
      stalls.remove(tp);
    }
    long pause = attempt(r, stall == null ? new Stall(r.offset()) : stall, tp);
    if (pause == 0) {
      stalls.remove(tp);
    }
    return pause;
  }

  private long attempt(ConsumerRecord<K, V> r, Stall stall, TopicPartition tp) {
    RecordIds.Resolved id = ids.resolve(r);
    if (id.rejected()) {
      deadLetters.send(r, id.rejection(), id.cause(), 0);
      return 0;
    }
    IdempotencyKey key = id.key();
    if (stall.pendingToken >= 0
        && completeOrWait(engine.settle(store, key, stall.pendingToken), stall, tp)
            == Settled.DONE) {
      return 0;
    }
    if (stall.pendingToken >= 0) {
      return waitFor(stall, tp, outageBackoff.nanos(stall.outages));
    }
    ClaimResult claim;
    try {
      claim = engine.claim(store, new ClaimRequest(key, fingerprint.apply(r), lease, retention));
    } catch (StoreException e) {
      return waitFor(stall, tp, outage(stall, tp, "claim of " + DeadLetters.describe(r), e));
    }
    if (claim instanceof ClaimResult.Completed) {
      duplicates.incrementAndGet();
      return 0;
    }
    if (claim instanceof ClaimResult.Mismatch) {
      deadLetters.send(r, "message id reused with another payload", null, 0);
      return 0;
    }
    if (claim instanceof ClaimResult.InProgress inProgress) {
      waits.incrementAndGet();
      stall.waits++;
      long left = Math.max(inProgress.retryAfter().toNanos(), TimeUnit.MILLISECONDS.toNanos(1));
      return waitFor(stall, tp, Math.min(backoff.nanos(stall.waits), left));
    }
    // Renewed in the background while the handler runs, so a handler slower than its lease is not
    // run twice.
    OnceEngine.Held held = engine.hold(store, key, ((ClaimResult.Acquired) claim).token(), lease);
    try {
      handler.handle(r, new Lease(held, lease));
    } catch (Exception e) {
      release(held, e, r);
      stall.failures++;
      if (stall.failures >= maxAttempts) {
        deadLetters.send(r, "handler failed " + stall.failures + " times", e, stall.failures);
        return 0;
      }
      retries.incrementAndGet();
      LOG.log(
          System.Logger.Level.INFO,
          "handler failed on "
              + DeadLetters.describe(r)
              + " (attempt "
              + stall.failures
              + " of "
              + maxAttempts
              + "); its partition waits and tries again: "
              + e);
      return waitFor(stall, tp, backoff.nanos(stall.failures));
    }
    held.stop();
    Failpoints.hit(Failpoints.LEASE_AFTER_EFFECT_BEFORE_COMPLETE);
    if (completeOrWait(held, stall, tp) == Settled.DONE) {
      return 0;
    }
    return stall.pendingToken >= 0
        ? waitFor(stall, tp, outageBackoff.nanos(stall.outages))
        : waitFor(stall, tp, backoff.nanos(1));
  }

  /**
   * Completes a claim whose effect ran. On a store failure remembers the token, to complete it
   * later.
   */
  private Settled completeOrWait(OnceEngine.Held held, Stall stall, TopicPartition tp) {
    IdempotencyKey key = held.key();
    long token = held.token();
    try {
      held.complete(Outcome.empty(), retention);
      applied.incrementAndGet();
      stall.pendingToken = -1;
      return Settled.DONE;
    } catch (LeaseLostException e) {
      // The lease expired and another delivery took the id over (or the record is gone): the effect
      // may run twice.
      // Claim again: the taker's completion answers Completed, its live lease InProgress, a lapsed
      // one Acquired.
      leasesLost.incrementAndGet();
      stall.pendingToken = -1;
      LOG.log(
          System.Logger.Level.WARNING,
          "lease of "
              + key
              + " on "
              + tp
              + " (token "
              + token
              + ") was lost before"
              + " complete: the effect may have run twice; choose a longer lease or renew it: "
              + e.getMessage());
      return Settled.WAIT;
    } catch (StoreException e) {
      stall.pendingToken = token;
      outage(stall, tp, "complete of " + key, e);
      return Settled.WAIT;
    }
  }

  private void release(OnceEngine.Held held, Exception failure, ConsumerRecord<K, V> r) {
    RuntimeException unreleased = held.fail(failure, null, retention);
    if (unreleased != null) {
      // The lease expires by itself; until then the retry waits (InProgress).
      LOG.log(
          System.Logger.Level.WARNING,
          "could not release the claim of "
              + DeadLetters.describe(r)
              + "; it is retried once its lease expires: "
              + unreleased);
    }
  }

  private long outage(Stall stall, TopicPartition tp, String what, StoreException e) {
    outages.incrementAndGet();
    stall.outages++;
    long wait = outageBackoff.nanos(stall.outages);
    LOG.log(
        System.Logger.Level.WARNING,
        "store "
            + store.name()
            + " failed on the "
            + what
            + " (attempt "
            + stall.outages
            + "); "
            + tp
            + " waits "
            + TimeUnit.NANOSECONDS.toMillis(wait)
            + " ms: "
            + e);
    return wait;
  }

  private long waitFor(Stall stall, TopicPartition tp, long nanos) {
    stalls.put(tp, stall);
    return Math.max(nanos, 1);
  }

  /**
   * Stops {@link #run()} (waking the consumer up) and waits up to 30 seconds for it to close the
   * consumer. If {@code run()} never started, closes the consumer here. Idempotent. A claim held by
   * a handler that is interrupted by this stays in progress until its lease expires.
   */
  @Override
  public void close() {
    lifecycle.close();
  }

  /** A revoked partition's waits are forgotten: its next owner starts at the committed offset. */
  private final class ForgetRevoked implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      stalls.keySet().removeAll(partitions);
      pausedUntil.keySet().removeAll(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      // Kafka's committed offset is never past a record whose effect is not known complete.
    }
  }

  /** Builds a {@link KafkaLeaseConsumer}; every setting is checked at once. */
  public static final class Builder<K, V> extends ConsumerSettings<K, V, Builder<K, V>> {
    private final Consumer<K, V> consumer;
    private final IdempotencyStore store;
    private final LeaseHandler<K, V> handler;
    private String name = "kafka";
    private Function<ConsumerRecord<K, V>, Fingerprint> fingerprint = r -> Fingerprint.empty();
    private Duration lease = Duration.ofSeconds(30);
    private Duration retention = Duration.ofDays(7);
    private OnceListener listener = OnceListener.NOOP;

    private Builder(Consumer<K, V> consumer, IdempotencyStore store, LeaseHandler<K, V> handler) {
      this.consumer = Objects.requireNonNull(consumer, "consumer");
      this.store = Objects.requireNonNull(store, "store");
      this.handler = Objects.requireNonNull(handler, "handler");
    }

    /**
     * The scope of the ids in the store ({@code Scope.global(name)}): one name per logical effect,
     * so two consumers with different effects on the same messages do not skip each other's.
     * Default {@code "kafka"}.
     */
    public Builder<K, V> name(String name) {
      Scope.global(Objects.requireNonNull(name, "name"));
      this.name = name;
      return this;
    }

    /**
     * The fingerprint stored with a claim: a record whose id was used with another fingerprint is
     * dead-lettered (reason {@code message id reused with another payload}). Default: the id alone
     * ({@link Fingerprint#empty()}), so a redelivery matches whatever its bytes; e.g. {@code r ->
     * Fingerprint.of(r.value())} to refuse a reused id.
     */
    public Builder<K, V> fingerprint(Function<ConsumerRecord<K, V>, Fingerprint> fingerprint) {
      this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
      return this;
    }

    /**
     * How long a claim protects an effect without renewal: while the handler runs it is renewed
     * every third of this, so it bounds how long a crashed consumer blocks an id. Default 30 s.
     */
    public Builder<K, V> lease(Duration lease) {
      if (lease == null || lease.toMillis() < 1) {
        throw new IllegalArgumentException("lease must be at least 1 ms, but was " + lease);
      }
      this.lease = lease;
      return this;
    }

    /**
     * Hears each claim, completion, release, lost lease, failed renewal and store failure, for
     * metrics and logs (the store's name and {@code Scope.global(name)} as tags). What it throws is
     * logged and ignored. Default none.
     */
    public Builder<K, V> listener(OnceListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * How long a completed id is remembered: a duplicate older than this runs again. Default 7
     * days.
     */
    public Builder<K, V> retention(Duration retention) {
      if (retention == null || retention.toMillis() < 1) {
        throw new IllegalArgumentException("retention must be at least 1 ms, but was " + retention);
      }
      this.retention = retention;
      return this;
    }

    public KafkaLeaseConsumer<K, V> build() {
      checkRequired();
      return new KafkaLeaseConsumer<>(this);
    }
  }
}
