package dev.once.kafka;

import dev.once.Fingerprint;
import dev.once.IdempotencyStore;
import dev.once.LeaseLostException;
import dev.once.OnceEngine;
import dev.once.OnceListener;
import dev.once.Scope;
import dev.once.kafka.internal.BatchOffsets;
import dev.once.kafka.internal.ConsumerLifecycle;
import dev.once.kafka.internal.DeadLetters;
import dev.once.kafka.internal.LeaseSettler;
import dev.once.kafka.internal.PausedPartitions;
import dev.once.kafka.internal.RecordIds;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
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
 * <p><b>Per record</b> (its claim taken with the whole poll's in one store call, see {@link
 * Builder#claimWholePoll}), in partition order: the message id (the same id function, {@link
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
   * Runs the external effect of one record, while this consumer holds its id's lease.
   *
   * @param <K> the record key type
   * @param <V> the record value type
   */
  @FunctionalInterface
  public interface LeaseHandler<K, V> {
    /**
     * Runs the effect of {@code record}.
     *
     * @param record a record whose id is not completed yet
     * @param lease the claim the effect runs under; pass its key or token downstream
     * @throws Exception to release the id; the record is retried, then dead-lettered
     */
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

    /**
     * {@return the message id, as resolved from the record} It is the raw id: treat it as the
     * record's data.
     */
    public String messageId() {
      return held.key().value();
    }

    /**
     * A stable key for the downstream call: the same for every redelivery and every takeover of
     * this message id in this consumer's scope (64 hex characters, a SHA-256 of the scope and the
     * id).
     *
     * @return the key
     */
    public String idempotencyKey() {
      return held.key().digestHex();
    }

    /**
     * The fencing token of this acquisition: larger than any earlier acquisition of the same id. A
     * downstream system that remembers the largest token it has seen per key can refuse a zombie's
     * late call.
     *
     * @return the token
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
     *
     * @return whether the lease was lost
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

  private final Consumer<K, V> consumer;
  private final List<String> topics;
  private final Duration pollTimeout;
  private final DeadLetters<K, V> deadLetters;
  private final LeaseSettler<K, V> settler;
  private final PausedPartitions paused;
  private final ConsumerLifecycle lifecycle;
  private final boolean claimWholePoll;
  private boolean subscribed;

  private KafkaLeaseConsumer(Builder<K, V> b) {
    this.consumer = b.consumer;
    this.lifecycle = new ConsumerLifecycle(b.consumer);
    this.topics = List.copyOf(b.topics);
    this.pollTimeout = b.pollTimeout;
    this.claimWholePoll = b.claimWholePoll;
    this.deadLetters =
        new DeadLetters<>(b.requiredDeadLetters(), b.deadLetterTopic, b.listener, b.name);
    Duration lease = b.lease;
    LeaseHandler<K, V> handler = b.handler;
    this.settler =
        new LeaseSettler<>(
            b.store,
            OnceEngine.of(b.listener),
            (record, held) -> handler.handle(record, new Lease(held, lease)),
            new RecordIds<>(b.messageId, b.noIdPolicy, b.keyPolicy, Scope.global(b.name)),
            deadLetters,
            b.fingerprint,
            lease,
            b.retention,
            b.maxAttempts,
            b.backoff.shared(),
            b.outageBackoff.shared(),
            LOG);
    this.paused = new PausedPartitions(b.consumer);
  }

  /**
   * Starts a builder.
   *
   * @param consumer a consumer with {@code enable.auto.commit=false} and a {@code group.id}; not
   *     yet subscribed
   * @param store where the ids are claimed, e.g. a {@code RedisIdempotencyStore}; stays the
   *     caller's to close
   * @param handler the external effect of one record
   * @param <K> the record key type
   * @param <V> the record value type
   * @return a new builder
   */
  public static <K, V> Builder<K, V> builder(
      Consumer<K, V> consumer, IdempotencyStore store, LeaseHandler<K, V> handler) {
    return new Builder<>(consumer, store, handler);
  }

  /** {@return the counters so far} Safe to call from any thread. */
  public Stats stats() {
    return new Stats(
        settler.applied(),
        settler.duplicates(),
        deadLetters.sent(),
        settler.retries(),
        settler.waits(),
        settler.outages(),
        settler.leasesLost());
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
   * @param timeout the longest the poll waits for records
   * @return the number of records polled
   */
  public int pollOnce(Duration timeout) {
    if (!subscribed) {
      consumer.subscribe(topics, new ForgetRevoked());
      subscribed = true;
    }
    ConsumerRecords<K, V> records = consumer.poll(paused.resumeDue(timeout));
    if (records.isEmpty()) {
      return 0;
    }
    Map<TopicPartition, Long> settledUpTo = new HashMap<>();
    try {
      Set<TopicPartition> waiting = claimWholePoll ? settler.claimAhead(records) : Set.of();
      for (TopicPartition tp : records.partitions()) {
        List<ConsumerRecord<K, V>> polled = records.records(tp);
        for (int i = 0; i < polled.size(); i++) {
          ConsumerRecord<K, V> r = polled.get(i);
          long pause = settler.settle(tp, r);
          if (pause > 0) {
            paused.pauseAt(tp, r.offset(), pause);
            break;
          }
          settledUpTo.put(tp, r.offset() + 1);
          if (i == 0 && waiting.contains(tp)) {
            // The record the partition waited at is settled: claim the rest of it at once.
            settler.claimAhead(polled.subList(1, polled.size()));
          }
        }
      }
    } catch (RuntimeException e) {
      BatchOffsets.rewindAfter(e, consumer, records, settledUpTo);
      throw e;
    } finally {
      settler.releaseAhead();
    }
    BatchOffsets.commit(consumer, settledUpTo);
    return records.count();
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
      settler.forget(partitions);
      paused.forget(partitions);
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
    private boolean claimWholePoll = true;

    private Builder(Consumer<K, V> consumer, IdempotencyStore store, LeaseHandler<K, V> handler) {
      this.consumer = Objects.requireNonNull(consumer, "consumer");
      this.store = Objects.requireNonNull(store, "store");
      this.handler = Objects.requireNonNull(handler, "handler");
    }

    /**
     * The scope of the ids in the store ({@code Scope.global(name)}): one name per logical effect,
     * so two consumers with different effects on the same messages do not skip each other's.
     * Default {@code "kafka"}.
     *
     * @param name a valid scope operation: not empty, no control characters
     * @return this builder
     * @throws dev.once.InvalidKeyException if it is not a valid operation name
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
     *
     * @param fingerprint from a record to its fingerprint
     * @return this builder
     */
    public Builder<K, V> fingerprint(Function<ConsumerRecord<K, V>, Fingerprint> fingerprint) {
      this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
      return this;
    }

    /**
     * How long a claim protects an effect without renewal: while the handler runs it is renewed
     * every third of this, so it bounds how long a crashed consumer blocks an id. Default 30 s.
     *
     * @param lease at least 1 ms
     * @return this builder
     * @throws IllegalArgumentException if it is {@code null} or shorter than 1 ms
     */
    public Builder<K, V> lease(Duration lease) {
      if (lease == null || lease.toMillis() < 1) {
        throw new IllegalArgumentException("lease must be at least 1 ms, but was " + lease);
      }
      this.lease = lease;
      return this;
    }

    /**
     * Whether the ids of a whole poll are claimed in one store call before the handlers run (the
     * default), rather than one call per record. The claims acquired ahead are renewed while their
     * records wait their turn, and given back when the poll stops short of them (a failure, or a
     * wait at an earlier record of their partition). The cost: a consumer that crashes holds the
     * ids of the rest of its poll until the lease expires, so their redelivery waits up to one
     * lease instead of only the record in hand's.
     *
     * @param claimWholePoll false for one claim per record
     * @return this builder
     */
    public Builder<K, V> claimWholePoll(boolean claimWholePoll) {
      this.claimWholePoll = claimWholePoll;
      return this;
    }

    /**
     * Hears each claim, completion, release, lost lease, failed renewal and store failure, for
     * metrics and logs (the store's name and {@code Scope.global(name)} as tags). What it throws is
     * logged and ignored. Default none.
     *
     * @param listener not {@code null}
     * @return this builder
     */
    public Builder<K, V> listener(OnceListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * How long a completed id is remembered: a duplicate older than this runs again. Default 7
     * days.
     *
     * @param retention at least 1 ms
     * @return this builder
     * @throws IllegalArgumentException if it is {@code null} or shorter than 1 ms
     */
    public Builder<K, V> retention(Duration retention) {
      if (retention == null || retention.toMillis() < 1) {
        throw new IllegalArgumentException("retention must be at least 1 ms, but was " + retention);
      }
      this.retention = retention;
      return this;
    }

    /**
     * Builds the consumer.
     *
     * @return the consumer; run it on one thread with {@code run()} or {@code pollOnce}
     * @throws IllegalStateException if {@code topics} or {@code deadLetters} was not set
     */
    public KafkaLeaseConsumer<K, V> build() {
      checkRequired();
      return new KafkaLeaseConsumer<>(this);
    }
  }
}
