package dev.once.kafka.internal;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.LeaseLostException;
import dev.once.OnceEngine;
import dev.once.Outcome;
import dev.once.StoreException;
import dev.once.internal.InboxDecisions;
import dev.once.kafka.Failpoints;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

/**
 * The lease consumer's decision for one record (polling thread only): claim its id in the store,
 * run the effect under the lease and complete the claim, or skip a duplicate, or dead-letter it;
 * otherwise say how long its partition must wait at it (another delivery holds the id, the store is
 * down, the effect failed and is retried after a backoff). Per partition it remembers where it
 * stopped and why, and an effect whose completion failed, to complete it with its own token once
 * the store answers.
 */
public final class LeaseSettler<K, V> {

  /** Runs one record's effect while the claim {@code held} is held. */
  @FunctionalInterface
  public interface Effect<K, V> {
    void run(ConsumerRecord<K, V> record, OnceEngine.Held held) throws Exception;
  }

  /** What became of a completion. */
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

  private final IdempotencyStore store;
  private final OnceEngine engine;
  private final Effect<K, V> effect;
  private final RecordIds<K, V> ids;
  private final DeadLetters<K, V> deadLetters;
  private final Function<ConsumerRecord<K, V>, Fingerprint> fingerprint;
  private final Duration lease;
  private final Duration retention;
  private final int maxAttempts;
  private final InboxDecisions.Backoff backoff;
  private final InboxDecisions.Backoff outageBackoff;
  private final System.Logger log;

  private final AtomicLong applied = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private final AtomicLong waits = new AtomicLong();
  private final AtomicLong outages = new AtomicLong();
  private final AtomicLong leasesLost = new AtomicLong();

  /** Where each waiting partition stopped. */
  private final Map<TopicPartition, Stall> stalls = new HashMap<>();

  /** The answers {@link #claimAhead} got for the records of the current poll, by record. */
  private final Map<ConsumerRecord<K, V>, Ahead> ahead = new IdentityHashMap<>();

  /** A record's key and its answer from the poll's one claim; {@code held} if acquired. */
  private record Ahead(IdempotencyKey key, ClaimResult claim, OnceEngine.@Nullable Held held) {}

  /**
   * @param lease how long a claim protects the effect without renewal
   * @param retention how long a completed id is remembered
   * @param maxAttempts failed effects of one record before it is dead-lettered
   * @param backoff the wait before a failed effect is retried, and between claims answered {@code
   *     InProgress}
   * @param outageBackoff the wait after the store failed
   * @param log the consumer's logger
   */
  public LeaseSettler(
      IdempotencyStore store,
      OnceEngine engine,
      Effect<K, V> effect,
      RecordIds<K, V> ids,
      DeadLetters<K, V> deadLetters,
      Function<ConsumerRecord<K, V>, Fingerprint> fingerprint,
      Duration lease,
      Duration retention,
      int maxAttempts,
      InboxDecisions.Backoff backoff,
      InboxDecisions.Backoff outageBackoff,
      System.Logger log) {
    this.store = store;
    this.engine = engine;
    this.effect = effect;
    this.ids = ids;
    this.deadLetters = deadLetters;
    this.fingerprint = fingerprint;
    this.lease = lease;
    this.retention = retention;
    this.maxAttempts = maxAttempts;
    this.backoff = backoff;
    this.outageBackoff = outageBackoff;
    this.log = log;
  }

  /** Records whose effect ran and whose claim was completed. */
  public long applied() {
    return applied.get();
  }

  /** Records skipped because their id was completed. */
  public long duplicates() {
    return duplicates.get();
  }

  /** Effect failures that were retried. */
  public long retries() {
    return retries.get();
  }

  /** Claims answered {@code InProgress}: the record waited for another holder. */
  public long waits() {
    return waits.get();
  }

  /** Store calls that failed; the record waited with the outage backoff. */
  public long outages() {
    return outages.get();
  }

  /** Completions refused because the lease had been taken over. */
  public long leasesLost() {
    return leasesLost.get();
  }

  /**
   * Claims the ids of a whole poll in one store call, ahead of {@link #settle}, which then uses the
   * answers instead of claiming record by record. An acquired claim's lease is renewed from now on,
   * so records waiting their turn keep theirs. Left to {@link #settle}: records without a usable
   * id, claims answered {@code InProgress} (the holder may be an earlier record of this very poll,
   * settled by the time this one's turn comes), and the partitions waiting at a record ({@link
   * #settle} answered a pause): their records are claimed by {@link #claimAhead(List)} once that
   * record is settled. A store failure here claims nothing ahead: {@link #settle} meets it record
   * by record. Call {@link #releaseAhead} when the poll is settled.
   *
   * @return the partitions left out because they wait at a record
   */
  public Set<TopicPartition> claimAhead(ConsumerRecords<K, V> records) {
    List<ConsumerRecord<K, V>> free = new ArrayList<>(records.count());
    Set<TopicPartition> waiting = new HashSet<>();
    for (TopicPartition tp : records.partitions()) {
      if (stalls.containsKey(tp)) {
        waiting.add(tp);
      } else {
        free.addAll(records.records(tp));
      }
    }
    claimAhead(free);
    return waiting;
  }

  /** As {@link #claimAhead(ConsumerRecords)}, for these records, none of them waited at. */
  public void claimAhead(List<ConsumerRecord<K, V>> records) {
    List<ConsumerRecord<K, V>> claimed = new ArrayList<>(records.size());
    List<ClaimRequest> requests = new ArrayList<>(records.size());
    for (ConsumerRecord<K, V> r : records) {
      RecordIds.Resolved id = ids.resolve(r);
      if (id.rejection() == null) {
        claimed.add(r);
        requests.add(new ClaimRequest(id.acceptedKey(), fingerprint.apply(r), lease, retention));
      }
    }
    if (requests.size() < 2) {
      return; // nothing to save
    }
    List<ClaimResult> answers;
    try {
      answers = engine.claimAll(store, requests);
    } catch (StoreException e) {
      return;
    }
    for (int i = 0; i < answers.size(); i++) {
      ClaimResult answer = answers.get(i);
      IdempotencyKey key = requests.get(i).key();
      if (answer instanceof ClaimResult.Acquired acquired) {
        ahead.put(
            claimed.get(i),
            new Ahead(key, answer, engine.hold(store, key, acquired.token(), lease)));
      } else if (!(answer instanceof ClaimResult.InProgress)) {
        ahead.put(claimed.get(i), new Ahead(key, answer, null));
      }
    }
  }

  /**
   * Gives back the claims {@link #claimAhead} took for records the poll did not reach (their
   * partition stopped at an earlier record, or settling failed), so their next delivery need not
   * wait for the lease.
   */
  public void releaseAhead() {
    for (Ahead unused : ahead.values()) {
      if (unused.held() != null) {
        RuntimeException failure = unused.held().abandon();
        if (failure != null) {
          log.log(
              System.Logger.Level.WARNING,
              "could not give back the claim of "
                  + unused.key()
                  + "; its next delivery waits until the lease expires: "
                  + failure);
        }
      }
    }
    ahead.clear();
  }

  /**
   * Settles one record, or says how long its partition must wait at it.
   *
   * @return 0 if the record is settled (applied, skipped or dead-lettered), else the wait in
   *     nanoseconds
   */
  public long settle(TopicPartition tp, ConsumerRecord<K, V> r) {
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

  /** Forgets revoked partitions' stalls: their next owner starts at the committed offset. */
  public void forget(Collection<TopicPartition> revoked) {
    stalls.keySet().removeAll(revoked);
  }

  private long attempt(ConsumerRecord<K, V> r, Stall stall, TopicPartition tp) {
    Ahead pre = ahead.remove(r);
    IdempotencyKey key;
    if (pre != null) {
      key = pre.key();
    } else {
      RecordIds.Resolved id = ids.resolve(r);
      String rejection = id.rejection();
      if (rejection != null) {
        deadLetters.send(r, rejection, id.cause(), 0);
        return 0;
      }
      key = id.acceptedKey();
    }
    if (stall.pendingToken >= 0
        && completeOrWait(engine.settle(store, key, stall.pendingToken), stall, tp)
            == Settled.DONE) {
      return 0;
    }
    if (stall.pendingToken >= 0) {
      return waitFor(stall, tp, outageBackoff.nanos(stall.outages));
    }
    ClaimResult claim;
    if (pre != null) {
      claim = pre.claim();
    } else {
      try {
        claim = engine.claim(store, new ClaimRequest(key, fingerprint.apply(r), lease, retention));
      } catch (StoreException e) {
        return waitFor(stall, tp, outage(stall, tp, "claim of " + DeadLetters.describe(r), e));
      }
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
    OnceEngine.Held held =
        pre != null && pre.held() != null
            ? pre.held()
            : engine.hold(store, key, ((ClaimResult.Acquired) claim).token(), lease);
    try {
      effect.run(r, held);
    } catch (Exception e) {
      release(held, e, r);
      stall.failures++;
      if (stall.failures >= maxAttempts) {
        deadLetters.send(r, "handler failed " + stall.failures + " times", e, stall.failures);
        return 0;
      }
      retries.incrementAndGet();
      log.log(
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
      // may run twice. Claim again: the taker's completion answers Completed, its live lease
      // InProgress, a lapsed one Acquired.
      leasesLost.incrementAndGet();
      stall.pendingToken = -1;
      log.log(
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
      log.log(
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
    log.log(
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
}
