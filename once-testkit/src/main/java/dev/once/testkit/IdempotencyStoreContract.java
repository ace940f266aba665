package dev.once.testkit;

import static dev.once.testkit.ContractSupport.FP_A;
import static dev.once.testkit.ContractSupport.FP_B;
import static dev.once.testkit.ContractSupport.LEASE;
import static dev.once.testkit.ContractSupport.LONG_LEASE;
import static dev.once.testkit.ContractSupport.RETENTION;
import static dev.once.testkit.ContractSupport.acquired;
import static dev.once.testkit.ContractSupport.assertInProgress;
import static dev.once.testkit.ContractSupport.assertReplays;
import static dev.once.testkit.ContractSupport.key;
import static dev.once.testkit.ContractSupport.newScope;
import static dev.once.testkit.ContractSupport.outcome;
import static dev.once.testkit.ContractSupport.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Completion;
import dev.once.Execution;
import dev.once.FailurePolicy;
import dev.once.Fingerprint;
import dev.once.FingerprintMismatchException;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.InProgressException;
import dev.once.LeaseLostException;
import dev.once.Once;
import dev.once.Outcome;
import dev.once.Purger;
import dev.once.ReplayedFailureException;
import dev.once.ResultCodec;
import dev.once.Scope;
import dev.once.StoreAdmin;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The behaviour every {@link IdempotencyStore} must show, as written in that interface's Javadoc. A
 * store module passes it by extending this class in a few lines:
 *
 * <pre>{@code
 * class PostgresStoreContractIT extends IdempotencyStoreContract {
 *   private final AtomicLong offsetMs = new AtomicLong();
 *   private final JdbcIdempotencyStore store = JdbcIdempotencyStore.builder(dataSource)
 *       .clockOffset(() -> Duration.ofMillis(offsetMs.get()))
 *       .createSchema(true)
 *       .build();
 *
 *   protected IdempotencyStore store() { return store; }
 *   protected void advanceClock(Duration amount) { offsetMs.addAndGet(amount.toMillis()); }
 * }
 * }</pre>
 *
 * <p>The class uses {@link TestInstance.Lifecycle#PER_CLASS one test instance per class}, so a
 * store kept in an instance field lives for the whole class. Tests run one at a time. Each test
 * works in its own random {@link Scope}, so tests never see each other's records even when they
 * share one table, and no cleanup is needed. Two exceptions: {@link
 * #purgeDeletesOnlyExpiredRecordsInBoundedBatches() the purge test} and {@link
 * #racingPurgersDeleteEachExpiredRecordOnce() the racing purgers} count the records they purge, and
 * {@link #adminCountsRecordsByState() the count test} counts the table, so they assume nobody else
 * writes to the store's table while this class runs.
 *
 * <p>Time only moves through {@link #advanceClock}; nothing sleeps. Every test is bounded by a
 * timeout, so a deadlocked store fails instead of hanging the build.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class IdempotencyStoreContract {

  private static final int RACERS = 64;

  /**
   * {@return the store under test} Called often; return the same instance for the whole test class.
   */
  protected abstract IdempotencyStore store();

  /**
   * Moves the store's clock forward (stores decide expiry by their own clock).
   *
   * @param amount how far; positive
   */
  protected abstract void advanceClock(Duration amount);

  // ---------------------------------------------------------------------------------------------------------
  // Claim answers

  @Test
  @DisplayName(
      "a fresh claim acquires; after complete, the same fingerprint replays the stored outcome")
  void freshClaimAcquiresAndCompletionReplays() {
    IdempotencyKey key = key(newScope(), "order-1");
    ClaimResult.Acquired first = acquired(store().claim(request(key, FP_A)));
    Outcome outcome = outcome("order-1");

    store().complete(key, first.token(), outcome, RETENTION);

    assertReplays(store().claim(request(key, FP_A)), outcome);
    // Replaying is read-only: a second replay gives the same answer.
    assertReplays(store().claim(request(key, FP_A)), outcome);
  }

  @Test
  @DisplayName("after completion, another fingerprint is a mismatch and the original still replays")
  void completedKeyWithAnotherFingerprintIsMismatch() {
    IdempotencyKey key = key(newScope(), "order-1");
    long token = acquired(store().claim(request(key, FP_A))).token();
    Outcome outcome = outcome("original");
    store().complete(key, token, outcome, RETENTION);

    assertThat(store().claim(request(key, FP_B))).isInstanceOf(ClaimResult.Mismatch.class);
    assertReplays(store().claim(request(key, FP_A)), outcome);
  }

  @Test
  @DisplayName("while held, the same fingerprint is in progress with 0 < retryAfter <= lease")
  void heldKeyIsInProgress() {
    IdempotencyKey key = key(newScope(), "order-1");
    acquired(store().claim(request(key, FP_A, LEASE)));

    assertInProgress(store().claim(request(key, FP_A, LEASE)), LEASE);
    // A claim asking for a longer lease does not change the holder's lease.
    assertInProgress(store().claim(request(key, FP_A, LONG_LEASE)), LEASE);
  }

  @Test
  @DisplayName("mismatch takes precedence over in progress")
  void mismatchTakesPrecedenceOverInProgress() {
    IdempotencyKey key = key(newScope(), "order-1");
    acquired(store().claim(request(key, FP_A)));

    assertThat(store().claim(request(key, FP_B))).isInstanceOf(ClaimResult.Mismatch.class);
    // The mismatching claim changed nothing.
    assertInProgress(store().claim(request(key, FP_A)), LEASE);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Leases and fencing

  @Test
  @DisplayName("an expired lease is taken over with a strictly larger token")
  void expiredLeaseIsTakenOverWithLargerToken() {
    IdempotencyKey key = key(newScope(), "order-1");
    long first = acquired(store().claim(request(key, FP_A, LEASE))).token();

    advanceClock(LEASE.plusSeconds(1));

    long second = acquired(store().claim(request(key, FP_A, LEASE))).token();
    assertThat(second).as("token after takeover").isGreaterThan(first);
    assertInProgress(store().claim(request(key, FP_A, LEASE)), LEASE);
  }

  @Test
  @DisplayName(
      "re-claiming an expired lease on a record still in progress is reported as a takeover")
  void expiredLeaseReclaimedIsATakeover() {
    IdempotencyKey key = key(newScope(), "order-1");
    assertThat(acquired(store().claim(request(key, FP_A, LEASE))).takeover())
        .as("first claim of a fresh key")
        .isFalse();

    advanceClock(LEASE.plusSeconds(1));

    assertThat(acquired(store().claim(request(key, FP_A, LEASE))).takeover())
        .as("claim after the lease expired, the record not")
        .isTrue();
  }

  @Test
  @DisplayName(
      "acquiring a fresh, expired (completed or held past retention) or released key is no takeover")
  void acquisitionsThatTakeOverNoLeaseAreNotTakeovers() {
    Scope scope = newScope();
    Map<String, IdempotencyKey> keys = takeoverCandidates(scope);

    advanceClock(LEASE.plusSeconds(1));

    for (Map.Entry<String, IdempotencyKey> e : keys.entrySet()) {
      assertThat(acquired(store().claim(request(e.getValue(), FP_A, LEASE))).takeover())
          .as("takeover of the " + e.getKey() + " key")
          .isEqualTo(e.getKey().equals("taken-over"));
    }
  }

  @Test
  @DisplayName(
      "a batch claim reports a takeover for exactly the keys whose live record's lease expired")
  void batchClaimReportsEachTakeover() {
    Scope scope = newScope();
    Map<String, IdempotencyKey> keys = takeoverCandidates(scope);

    advanceClock(LEASE.plusSeconds(1));

    List<String> names = new ArrayList<>();
    List<ClaimRequest> claims = new ArrayList<>();
    for (Map.Entry<String, IdempotencyKey> e : keys.entrySet()) {
      names.add(e.getKey());
      claims.add(request(e.getValue(), FP_A, LEASE));
    }
    List<ClaimResult> results = store().claimAll(claims);
    for (int i = 0; i < names.size(); i++) {
      assertThat(acquired(results.get(i)).takeover())
          .as("takeover of the " + names.get(i) + " key in the batch")
          .isEqualTo(names.get(i).equals("taken-over"));
    }
  }

  /**
   * Keys that are all acquirable once the clock moves past {@link ContractSupport#LEASE}, and only
   * "taken-over" by taking over a lease: it is held with a long retention. "fresh" has no record,
   * "completed" is completed with a retention shorter than the lease, "held-past-retention" is held
   * with a retention no longer than its lease (its record expires with the lease), "released" was
   * released.
   */
  private Map<String, IdempotencyKey> takeoverCandidates(Scope scope) {
    Map<String, IdempotencyKey> keys = new LinkedHashMap<>();
    IdempotencyKey takenOver = key(scope, "taken-over");
    acquired(store().claim(request(takenOver, FP_A, LEASE)));
    keys.put("taken-over", takenOver);
    keys.put("fresh", key(scope, "fresh"));
    IdempotencyKey completed = key(scope, "completed");
    long token = acquired(store().claim(request(completed, FP_A, LEASE))).token();
    store().complete(completed, token, outcome("completed"), Duration.ofSeconds(1));
    keys.put("completed", completed);
    IdempotencyKey heldPastRetention = key(scope, "held-past-retention");
    acquired(
        store().claim(new ClaimRequest(heldPastRetention, FP_A, LEASE, Duration.ofSeconds(1))));
    keys.put("held-past-retention", heldPastRetention);
    IdempotencyKey released = key(scope, "released");
    store().release(released, acquired(store().claim(request(released, FP_A, LEASE))).token());
    keys.put("released", released);
    return keys;
  }

  @Test
  @DisplayName("an expired lease with another fingerprint is a mismatch, not a takeover")
  void expiredLeaseWithAnotherFingerprintIsMismatch() {
    IdempotencyKey key = key(newScope(), "order-1");
    long token = acquired(store().claim(request(key, FP_A, LEASE))).token();

    advanceClock(LEASE.plusSeconds(1));

    assertThat(store().claim(request(key, FP_B, LEASE))).isInstanceOf(ClaimResult.Mismatch.class);
    // The original holder was not fenced off by the mismatching claim.
    Outcome outcome = outcome("late but still owner");
    store().complete(key, token, outcome, RETENTION);
    assertReplays(store().claim(request(key, FP_A)), outcome);
  }

  @Test
  @DisplayName("a zombie whose lease was taken over cannot complete, release or renew")
  void zombieIsFencedOff() {
    IdempotencyKey key = key(newScope(), "order-1");
    long zombie = acquired(store().claim(request(key, FP_A, LEASE))).token();
    advanceClock(LEASE.plusSeconds(1));
    long owner = acquired(store().claim(request(key, FP_A, LEASE))).token();
    Outcome ownerOutcome = outcome("owner");
    store().complete(key, owner, ownerOutcome, RETENTION);

    assertThatThrownBy(() -> store().complete(key, zombie, outcome("zombie"), RETENTION))
        .isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> store().release(key, zombie)).isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> store().renew(key, zombie, LEASE))
        .isInstanceOf(LeaseLostException.class);

    assertReplays(store().claim(request(key, FP_A)), ownerOutcome);
  }

  @Test
  @DisplayName(
      "a zombie cannot complete while the new owner is still working, and the owner then can")
  void zombieCannotCompleteBeforeNewOwner() {
    IdempotencyKey key = key(newScope(), "order-1");
    long zombie = acquired(store().claim(request(key, FP_A, LEASE))).token();
    advanceClock(LEASE.plusSeconds(1));
    long owner = acquired(store().claim(request(key, FP_A, LEASE))).token();

    assertThatThrownBy(() -> store().complete(key, zombie, outcome("zombie"), RETENTION))
        .isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> store().release(key, zombie)).isInstanceOf(LeaseLostException.class);
    assertInProgress(store().claim(request(key, FP_A, LEASE)), LEASE);

    Outcome ownerOutcome = outcome("owner");
    store().complete(key, owner, ownerOutcome, RETENTION);
    assertReplays(store().claim(request(key, FP_A)), ownerOutcome);
  }

  @Test
  @DisplayName(
      "release frees the key; stale or repeated writes are refused with LeaseLostException")
  void releaseFreesTheKeyAndStaleWritesAreRefused() {
    Scope scope = newScope();

    IdempotencyKey again = key(scope, "release-then-same");
    long token = acquired(store().claim(request(again, FP_A))).token();
    store().release(again, token);
    long next = acquired(store().claim(request(again, FP_A))).token();
    assertThat(next).as("token after release").isNotEqualTo(token);
    assertThatThrownBy(() -> store().complete(again, token, outcome("stale"), RETENTION))
        .as("complete with the released token")
        .isInstanceOf(LeaseLostException.class);

    IdempotencyKey other = key(scope, "release-then-other");
    store().release(other, acquired(store().claim(request(other, FP_A))).token());
    acquired(store().claim(request(other, FP_B)));

    IdempotencyKey wrong = key(scope, "wrong-token");
    long held = acquired(store().claim(request(wrong, FP_A))).token();
    assertThatThrownBy(() -> store().release(wrong, held + 1))
        .isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> store().release(wrong, held - 1))
        .isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> store().complete(wrong, held + 1, outcome("x"), RETENTION))
        .isInstanceOf(LeaseLostException.class);
    assertInProgress(store().claim(request(wrong, FP_A)), LEASE);

    IdempotencyKey afterRelease = key(scope, "complete-after-release");
    long released = acquired(store().claim(request(afterRelease, FP_A))).token();
    store().release(afterRelease, released);
    assertThatThrownBy(() -> store().complete(afterRelease, released, outcome("x"), RETENTION))
        .isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> store().release(afterRelease, released))
        .isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> store().renew(afterRelease, released, LEASE))
        .isInstanceOf(LeaseLostException.class);

    IdempotencyKey twice = key(scope, "complete-twice");
    long once = acquired(store().claim(request(twice, FP_A))).token();
    Outcome first = outcome("first");
    store().complete(twice, once, first, RETENTION);
    assertThatThrownBy(() -> store().complete(twice, once, outcome("second"), RETENTION))
        .isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> store().release(twice, once)).isInstanceOf(LeaseLostException.class);
    assertReplays(store().claim(request(twice, FP_A)), first);

    IdempotencyKey never = key(scope, "never-claimed");
    assertThatThrownBy(() -> store().complete(never, 1, outcome("x"), RETENTION))
        .isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> store().release(never, 1)).isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> store().renew(never, 1, LEASE)).isInstanceOf(LeaseLostException.class);
    acquired(store().claim(request(never, FP_A)));
  }

  @Test
  @DisplayName(
      "a completion repeated with its token and outcome succeeds and changes nothing; another outcome is refused")
  void repeatedCompletionSucceedsAndChangesNothing() {
    IdempotencyKey key = key(newScope(), "order-1");
    long token = acquired(store().claim(request(key, FP_A))).token();
    Outcome outcome = outcome("charged");
    store().complete(key, token, outcome, Duration.ofHours(1));

    // The first answer was lost with the connection: the caller sends the same completion again,
    // and again.
    store().complete(key, token, outcome, Duration.ofHours(1));
    store().complete(key, token, outcome("charged"), Duration.ofDays(30));
    assertReplays(store().claim(request(key, FP_A)), outcome);

    assertThatThrownBy(() -> store().complete(key, token, outcome("charged twice"), RETENTION))
        .as("the same token with another outcome")
        .isInstanceOf(LeaseLostException.class);
    assertReplays(store().claim(request(key, FP_A)), outcome);

    // The repeats did not extend the retention: the record expires an hour after the first
    // completion.
    advanceClock(Duration.ofMinutes(61));
    assertThatThrownBy(() -> store().complete(key, token, outcome, RETENTION))
        .as("a repeat after the record expired")
        .isInstanceOf(LeaseLostException.class);
    assertThat(acquired(store().claim(request(key, FP_B))).token()).isGreaterThan(token);
  }

  @Test
  @DisplayName("a zombie is refused even when its outcome equals the owner's")
  void zombieWithTheOwnersOutcomeIsRefused() {
    IdempotencyKey key = key(newScope(), "order-1");
    long zombie = acquired(store().claim(request(key, FP_A, LEASE))).token();
    advanceClock(LEASE.plusSeconds(1));
    long owner = acquired(store().claim(request(key, FP_A, LEASE))).token();
    Outcome same = outcome("same answer");
    store().complete(key, owner, same, RETENTION);

    assertThatThrownBy(() -> store().complete(key, zombie, same, RETENTION))
        .isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(
            () -> store().completeAll(List.of(new Completion(key, zombie, same, RETENTION))))
        .isInstanceOf(LeaseLostException.class);
    store().complete(key, owner, same, RETENTION);
    assertReplays(store().claim(request(key, FP_A)), same);
  }

  @Test
  @DisplayName("renew extends the lease from now")
  void renewExtendsTheLease() {
    IdempotencyKey key = key(newScope(), "order-1");
    long token = acquired(store().claim(request(key, FP_A, LEASE))).token();

    advanceClock(Duration.ofSeconds(8));
    store().renew(key, token, Duration.ofSeconds(10));
    advanceClock(Duration.ofSeconds(8)); // 16 s after the claim, 8 s after the renewal

    assertInProgress(store().claim(request(key, FP_A, LEASE)), Duration.ofSeconds(10));

    advanceClock(Duration.ofSeconds(3)); // 11 s after the renewal

    long takeover = acquired(store().claim(request(key, FP_A, LEASE))).token();
    assertThat(takeover).isGreaterThan(token);
    assertThatThrownBy(() -> store().renew(key, token, LEASE))
        .isInstanceOf(LeaseLostException.class);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Retention and purge

  @Test
  @DisplayName("a completed record is kept for its retention, then treated as absent")
  void completedRecordExpiresAfterRetention() {
    IdempotencyKey key = key(newScope(), "order-1");
    long token = acquired(store().claim(request(key, FP_A))).token();
    Outcome outcome = outcome("kept for an hour");
    store().complete(key, token, outcome, Duration.ofHours(1));

    advanceClock(Duration.ofMinutes(59));
    assertReplays(store().claim(request(key, FP_A)), outcome);
    assertThat(store().claim(request(key, FP_B))).isInstanceOf(ClaimResult.Mismatch.class);

    advanceClock(Duration.ofMinutes(2));
    long fresh = acquired(store().claim(request(key, FP_B))).token();
    assertThat(fresh).isGreaterThan(token);
  }

  @Test
  @DisplayName(
      "an abandoned in-progress record is kept for the claim's retention, then treated as absent")
  void abandonedClaimExpiresAfterRetention() {
    IdempotencyKey key = key(newScope(), "order-1");
    acquired(store().claim(new ClaimRequest(key, FP_A, LEASE, Duration.ofHours(1))));

    advanceClock(Duration.ofMinutes(59));
    assertThat(store().claim(request(key, FP_B)))
        .as("lease expired, retention not")
        .isInstanceOf(ClaimResult.Mismatch.class);

    advanceClock(Duration.ofMinutes(2));
    acquired(store().claim(request(key, FP_B)));
  }

  @Test
  @DisplayName(
      "purgeExpired deletes expired records in bounded batches, never a live lease or a retained record")
  void purgeDeletesOnlyExpiredRecordsInBoundedBatches() {
    // A clean slate: everything earlier tests (or earlier runs on a shared table) left has expired.
    advanceClock(Duration.ofDays(3650));
    int rounds = 0;
    while (store().purgeExpired(1000) > 0) {
      assertThat(++rounds).as("purge rounds needed to empty the store").isLessThan(10_000);
    }

    Scope scope = newScope();
    List<IdempotencyKey> completed = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      IdempotencyKey key = key(scope, "completed-" + i);
      long token = acquired(store().claim(request(key, FP_A))).token();
      store().complete(key, token, outcome("completed-" + i), Duration.ofHours(1));
      completed.add(key);
    }
    IdempotencyKey live = key(scope, "live-lease");
    acquired(store().claim(new ClaimRequest(live, FP_A, Duration.ofHours(2), Duration.ofHours(1))));
    IdempotencyKey kept = key(scope, "completed-kept-3h");
    Outcome keptOutcome = outcome("kept for 3 h");
    store()
        .complete(
            kept,
            acquired(store().claim(request(kept, FP_A))).token(),
            keptOutcome,
            Duration.ofHours(3));
    IdempotencyKey abandoned = key(scope, "abandoned-kept-3h");
    acquired(store().claim(new ClaimRequest(abandoned, FP_A, LEASE, Duration.ofHours(3))));

    advanceClock(Duration.ofMinutes(90));

    assertThat(store().purgeExpired(2)).as("a purge bounded to 2").isEqualTo(2);
    int total = 2;
    rounds = 0;
    for (int purged = store().purgeExpired(2); purged > 0; purged = store().purgeExpired(2)) {
      assertThat(purged).as("a purge bounded to 2").isLessThanOrEqualTo(2);
      total += purged;
      assertThat(++rounds).as("purge rounds").isLessThan(100);
    }
    assertThat(total).as("records purged in all").isEqualTo(5);

    assertInProgress(
        store().claim(new ClaimRequest(live, FP_A, Duration.ofHours(2), Duration.ofHours(1))),
        Duration.ofHours(2));
    assertReplays(store().claim(request(kept, FP_A)), keptOutcome);
    assertThat(store().claim(request(abandoned, FP_B)))
        .as("an abandoned claim within its retention")
        .isInstanceOf(ClaimResult.Mismatch.class);
    for (IdempotencyKey key : completed) {
      acquired(store().claim(request(key, FP_A)));
    }
  }

  @Test
  @DisplayName(
      "purgers racing on one store delete every expired record once, and no live lease or retained record")
  void racingPurgersDeleteEachExpiredRecordOnce() throws ExecutionException, InterruptedException {
    advanceClock(Duration.ofDays(3650));
    int rounds = 0;
    while (store().purgeExpired(1000) > 0) {
      assertThat(++rounds).as("purge rounds needed to empty the store").isLessThan(10_000);
    }

    Scope scope = newScope();
    int expired = 120;
    List<ClaimRequest> claims = new ArrayList<>();
    for (int i = 0; i < expired; i++) {
      claims.add(request(key(scope, "expired-" + i), FP_A));
    }
    List<Completion> completions = new ArrayList<>();
    List<ClaimResult> results = store().claimAll(claims);
    for (int i = 0; i < expired; i++) {
      completions.add(
          new Completion(
              claims.get(i).key(),
              acquired(results.get(i)).token(),
              outcome("expired-" + i),
              Duration.ofHours(1)));
    }
    store().completeAll(completions);
    // Older than their retention at purge time, but their leases (renewed by a heartbeat) are live.
    List<ClaimRequest> held = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ClaimRequest r =
          new ClaimRequest(key(scope, "held-" + i), FP_A, Duration.ofHours(3), Duration.ofHours(1));
      acquired(store().claim(r));
      held.add(r);
    }
    IdempotencyKey kept = key(scope, "kept-3h");
    Outcome keptOutcome = outcome("kept for 3 h");
    store()
        .complete(
            kept,
            acquired(store().claim(request(kept, FP_A))).token(),
            keptOutcome,
            Duration.ofHours(3));

    advanceClock(Duration.ofMinutes(90));

    int purgers = 4;
    ExecutorService pool = Executors.newFixedThreadPool(purgers);
    try {
      CyclicBarrier start = new CyclicBarrier(purgers);
      List<Future<Integer>> deleted = new ArrayList<>();
      for (int p = 0; p < purgers; p++) {
        Purger purger = Purger.builder(store()).batchSize(7).pause(Duration.ZERO).build();
        deleted.add(
            pool.submit(
                () -> {
                  start.await();
                  return purger.purgeOnce();
                }));
      }
      int total = 0;
      for (Future<Integer> f : deleted) {
        total += f.get();
      }
      assertThat(total).as("records deleted by all purgers together").isEqualTo(expired);
    } finally {
      ContractSupport.shutdown(pool);
    }
    assertThat(store().purgeExpired(1000)).as("expired records left after the race").isZero();

    for (ClaimRequest r : held) {
      assertInProgress(store().claim(r), Duration.ofHours(3));
    }
    assertReplays(store().claim(request(kept, FP_A)), keptOutcome);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Admin

  @Test
  @DisplayName(
      "admin: check answers; inspect shows state, token, lease and retention, and nothing once expired")
  void adminInspectsARecordThroughItsLife() {
    StoreAdmin admin = store().admin();
    admin.check();
    IdempotencyKey key = key(newScope(), "inspected");
    assertThat(admin.inspect(key)).as("no record yet").isEmpty();

    long token =
        acquired(store().claim(new ClaimRequest(key, FP_A, LEASE, Duration.ofHours(1)))).token();
    StoreAdmin.RecordInfo held = admin.inspect(key).orElseThrow();
    assertThat(held.state()).isEqualTo(StoreAdmin.State.IN_PROGRESS);
    assertThat(held.token()).isEqualTo(token);
    assertThat(held.outcome()).isNull();
    assertThat(held.leaseUntil()).isNotNull();
    assertThat(Duration.between(Objects.requireNonNull(held.leaseUntil()), held.expiresAt()))
        .as("retention minus lease, both set by the claim")
        .isBetween(
            Duration.ofHours(1).minus(LEASE).minusSeconds(1),
            Duration.ofHours(1).minus(LEASE).plusSeconds(1));

    Outcome outcome = outcome("inspected");
    store().complete(key, token, outcome, Duration.ofHours(2));
    StoreAdmin.RecordInfo done = admin.inspect(key).orElseThrow();
    assertThat(done.state()).isEqualTo(StoreAdmin.State.COMPLETED);
    assertThat(done.token()).isEqualTo(token);
    assertThat(done.leaseUntil()).isNull();
    ContractSupport.assertSameOutcome(Objects.requireNonNull(done.outcome()), outcome);

    advanceClock(Duration.ofHours(2).plusMinutes(1));
    assertThat(admin.inspect(key)).as("past its retention").isEmpty();
  }

  @Test
  @DisplayName(
      "admin: forceRelease frees a held key whatever its token, fences the old holder, never touches a completed record")
  void adminForceReleaseFreesOnlyInProgressRecords() {
    StoreAdmin admin = store().admin();
    Scope scope = newScope();
    IdempotencyKey stuck = key(scope, "stuck");
    long old = acquired(store().claim(request(stuck, FP_A, LONG_LEASE))).token();

    assertThat(admin.forceRelease(stuck)).as("a held key is released").isTrue();
    assertThat(admin.inspect(stuck)).isEmpty();
    long fresh = acquired(store().claim(request(stuck, FP_A, LONG_LEASE))).token();
    assertThat(fresh).isGreaterThan(old);
    assertThatThrownBy(() -> store().complete(stuck, old, outcome("zombie"), RETENTION))
        .isInstanceOf(LeaseLostException.class);

    IdempotencyKey done = key(scope, "done");
    Outcome outcome = outcome("kept");
    store()
        .complete(done, acquired(store().claim(request(done, FP_A))).token(), outcome, RETENTION);
    assertThat(admin.forceRelease(done)).as("a completed record is never released").isFalse();
    assertReplays(store().claim(request(done, FP_A)), outcome);

    assertThat(admin.forceRelease(key(scope, "absent"))).as("no record").isFalse();
  }

  @Test
  @DisplayName("admin: count tells in-progress, completed and expired records apart")
  void adminCountsRecordsByState() {
    advanceClock(Duration.ofDays(3650));
    int rounds = 0;
    while (store().purgeExpired(1000) > 0) {
      assertThat(++rounds).as("purge rounds needed to empty the store").isLessThan(10_000);
    }
    assertThat(store().admin().count()).isEqualTo(new StoreAdmin.RecordCounts(0, 0, 0));

    Scope scope = newScope();
    for (int i = 0; i < 2; i++) {
      acquired(store().claim(request(key(scope, "held-" + i), FP_A, LONG_LEASE)));
    }
    for (int i = 0; i < 3; i++) {
      IdempotencyKey k = key(scope, "done-" + i);
      store()
          .complete(k, acquired(store().claim(request(k, FP_A))).token(), outcome("d"), RETENTION);
    }
    IdempotencyKey brief = key(scope, "brief");
    store()
        .complete(
            brief,
            acquired(store().claim(request(brief, FP_A))).token(),
            outcome("b"),
            Duration.ofMinutes(1));
    advanceClock(Duration.ofMinutes(2));

    assertThat(store().admin().count()).isEqualTo(new StoreAdmin.RecordCounts(2, 3, 1));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Races

  @Test
  @DisplayName("64 concurrent claims of one key: exactly one acquires, the rest are in progress")
  void concurrentClaimsOfOneKeyAcquireExactlyOnce() throws Exception {
    Scope scope = newScope();
    ExecutorService pool = Executors.newFixedThreadPool(RACERS);
    try {
      for (int round = 0; round < 10; round++) {
        ClaimRequest request = request(key(scope, "race-" + round), FP_A, LONG_LEASE);
        List<ClaimResult> results = race(pool, RACERS, i -> request);

        assertThat(results)
            .filteredOn(r -> r instanceof ClaimResult.Acquired)
            .as("acquisitions in round " + round)
            .hasSize(1);
        assertThat(results)
            .filteredOn(r -> r instanceof ClaimResult.InProgress)
            .as("in-progress answers in round " + round)
            .hasSize(RACERS - 1);
      }
    } finally {
      ContractSupport.shutdown(pool);
    }
  }

  @Test
  @DisplayName(
      "64 concurrent claims with two fingerprints: one acquires, its twins wait, the others mismatch")
  void concurrentClaimsWithMixedFingerprints() throws Exception {
    Scope scope = newScope();
    ExecutorService pool = Executors.newFixedThreadPool(RACERS);
    try {
      for (int round = 0; round < 5; round++) {
        IdempotencyKey key = key(scope, "race-" + round);
        List<ClaimRequest> requests = new ArrayList<>();
        for (int i = 0; i < RACERS; i++) {
          requests.add(request(key, i % 2 == 0 ? FP_A : FP_B, LONG_LEASE));
        }
        List<ClaimResult> results = race(pool, RACERS, requests::get);

        List<Integer> winners = new ArrayList<>();
        for (int i = 0; i < RACERS; i++) {
          if (results.get(i) instanceof ClaimResult.Acquired) {
            winners.add(i);
          }
        }
        assertThat(winners).as("acquisitions in round " + round).hasSize(1);
        Fingerprint winner = requests.get(winners.get(0)).fingerprint();
        for (int i = 0; i < RACERS; i++) {
          if (i == winners.get(0)) {
            continue;
          }
          Class<?> expected =
              requests.get(i).fingerprint().equals(winner)
                  ? ClaimResult.InProgress.class
                  : ClaimResult.Mismatch.class;
          assertThat(results.get(i))
              .as("answer to racer %d in round %d", i, round)
              .isInstanceOf(expected);
        }
      }
    } finally {
      ContractSupport.shutdown(pool);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Batches

  @Test
  @DisplayName("claimAll of fresh keys acquires each with a distinct token")
  void claimAllOfFreshKeysAcquiresEach() {
    Scope scope = newScope();
    List<ClaimRequest> requests = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      requests.add(request(key(scope, "batch-" + i), FP_A));
    }

    List<ClaimResult> results = store().claimAll(requests);

    assertThat(results).hasSize(20).allMatch(r -> r instanceof ClaimResult.Acquired);
    Set<Long> tokens = new HashSet<>();
    for (ClaimResult r : results) {
      tokens.add(((ClaimResult.Acquired) r).token());
    }
    assertThat(tokens).as("distinct tokens").hasSize(20);
    for (int i = 0; i < 20; i++) {
      store()
          .complete(
              requests.get(i).key(),
              ((ClaimResult.Acquired) results.get(i)).token(),
              outcome("batch-" + i),
              RETENTION);
    }
    for (int i = 0; i < 20; i++) {
      assertReplays(store().claim(requests.get(i)), outcome("batch-" + i));
    }
    assertThat(store().claimAll(List.of())).isEmpty();
  }

  @Test
  @DisplayName("claimAll answers repeats within the batch as sequential claims would")
  void claimAllSeesEarlierRequestsOfTheSameBatch() {
    Scope scope = newScope();
    IdempotencyKey k1 = key(scope, "k1");
    IdempotencyKey k2 = key(scope, "k2");

    List<ClaimResult> results =
        store()
            .claimAll(
                List.of(
                    request(k1, FP_A), request(k2, FP_A), request(k1, FP_A), request(k1, FP_B)));

    assertThat(results).hasSize(4);
    acquired(results.get(0));
    acquired(results.get(1));
    assertInProgress(results.get(2), LEASE);
    assertThat(results.get(3)).isInstanceOf(ClaimResult.Mismatch.class);
    assertThat(((ClaimResult.Acquired) results.get(0)).token())
        .isNotEqualTo(((ClaimResult.Acquired) results.get(1)).token());
    // The batch's acquisitions are real: both are completable.
    store().complete(k1, ((ClaimResult.Acquired) results.get(0)).token(), outcome("k1"), RETENTION);
    store().complete(k2, ((ClaimResult.Acquired) results.get(1)).token(), outcome("k2"), RETENTION);
    assertReplays(store().claim(request(k1, FP_A)), outcome("k1"));
    assertReplays(store().claim(request(k2, FP_A)), outcome("k2"));
  }

  @Test
  @DisplayName("claimAll answers stored records truthfully, in request order")
  void claimAllAnswersStoredRecordsInOrder() {
    Scope scope = newScope();
    IdempotencyKey done = key(scope, "k3-completed");
    IdempotencyKey held = key(scope, "k4-in-progress");
    IdempotencyKey other = key(scope, "k5-other-fingerprint");
    IdempotencyKey expired = key(scope, "k6-expired-lease");
    IdempotencyKey fresh = key(scope, "k7-fresh");

    long doneToken = acquired(store().claim(request(done, FP_A))).token();
    Outcome doneOutcome = outcome("k3");
    store().complete(done, doneToken, doneOutcome, RETENTION);
    acquired(store().claim(request(held, FP_A, LONG_LEASE)));
    acquired(store().claim(request(other, FP_A, LONG_LEASE)));
    long zombie = acquired(store().claim(request(expired, FP_A, LEASE))).token();
    advanceClock(LEASE.plusSeconds(1));

    List<ClaimResult> results =
        store()
            .claimAll(
                List.of(
                    request(fresh, FP_A),
                    request(done, FP_A),
                    request(held, FP_A),
                    request(other, FP_B),
                    request(expired, FP_A),
                    request(expired, FP_A)));

    assertThat(results).hasSize(6);
    long freshToken = acquired(results.get(0)).token();
    assertReplays(results.get(1), doneOutcome);
    assertInProgress(results.get(2), LONG_LEASE);
    assertThat(results.get(3)).isInstanceOf(ClaimResult.Mismatch.class);
    long takeover = acquired(results.get(4)).token();
    assertThat(takeover).as("takeover token").isGreaterThan(zombie);
    assertInProgress(results.get(5), LEASE);

    assertThatThrownBy(() -> store().complete(expired, zombie, outcome("zombie"), RETENTION))
        .isInstanceOf(LeaseLostException.class);
    store().complete(expired, takeover, outcome("k6"), RETENTION);
    store().complete(fresh, freshToken, outcome("k7"), RETENTION);
    assertReplays(store().claim(request(expired, FP_A)), outcome("k6"));
    assertReplays(store().claim(request(fresh, FP_A)), outcome("k7"));
  }

  @Test
  @DisplayName("completeAll completes every record with its own outcome; an empty list is a no-op")
  void completeAllCompletesEachRecord() {
    Scope scope = newScope();
    List<ClaimRequest> requests = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      requests.add(request(key(scope, "complete-all-" + i), FP_A));
    }
    List<ClaimResult> claims = store().claimAll(requests);
    List<Completion> completions = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      completions.add(
          new Completion(
              requests.get(i).key(),
              acquired(claims.get(i)).token(),
              outcome("complete-all-" + i),
              RETENTION));
    }

    store().completeAll(completions);
    store().completeAll(List.of());

    for (int i = 0; i < 12; i++) {
      assertReplays(store().claim(requests.get(i)), outcome("complete-all-" + i));
    }
  }

  @Test
  @DisplayName("completeAll with one stale token completes the others and reports the stale one")
  void completeAllReportsAStaleTokenAndCompletesTheRest() {
    Scope scope = newScope();
    IdempotencyKey before = key(scope, "before-stale");
    IdempotencyKey stale = key(scope, "stale");
    IdempotencyKey after = key(scope, "after-stale");
    long beforeToken = acquired(store().claim(request(before, FP_A, LONG_LEASE))).token();
    long zombie = acquired(store().claim(request(stale, FP_A, LEASE))).token();
    long afterToken = acquired(store().claim(request(after, FP_A, LONG_LEASE))).token();
    advanceClock(LEASE.plusSeconds(1));
    long owner = acquired(store().claim(request(stale, FP_A, LONG_LEASE))).token();

    assertThatThrownBy(
            () ->
                store()
                    .completeAll(
                        List.of(
                            new Completion(before, beforeToken, outcome("before"), RETENTION),
                            new Completion(stale, zombie, outcome("zombie"), RETENTION),
                            new Completion(after, afterToken, outcome("after"), RETENTION))))
        .isInstanceOf(LeaseLostException.class)
        .satisfies(e -> assertThat(((LeaseLostException) e).token()).isEqualTo(zombie));

    assertReplays(store().claim(request(before, FP_A)), outcome("before"));
    assertReplays(store().claim(request(after, FP_A)), outcome("after"));
    assertInProgress(store().claim(request(stale, FP_A)), LONG_LEASE);
    store().complete(stale, owner, outcome("owner"), RETENTION);
    assertReplays(store().claim(request(stale, FP_A)), outcome("owner"));
  }

  @Test
  @DisplayName(
      "completeAll repeated after a lost answer succeeds; a repeat with another outcome is reported")
  void completeAllRepeatedSucceedsAndAnotherOutcomeIsReported() {
    Scope scope = newScope();
    List<Completion> completions = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      IdempotencyKey key = key(scope, "repeat-all-" + i);
      completions.add(
          new Completion(
              key,
              acquired(store().claim(request(key, FP_A))).token(),
              outcome("repeat-all-" + i),
              RETENTION));
    }
    store().completeAll(completions);

    store().completeAll(completions);
    // One batch holding the same completion twice, as a caller resending a whole batch with a part
    // already sent.
    store().completeAll(List.of(completions.get(0), completions.get(0), completions.get(1)));

    Completion changed = completions.get(1);
    assertThatThrownBy(
            () ->
                store()
                    .completeAll(
                        List.of(
                            completions.get(0),
                            new Completion(
                                changed.key(),
                                changed.token(),
                                outcome("another answer"),
                                RETENTION),
                            completions.get(2))))
        .isInstanceOf(LeaseLostException.class)
        .satisfies(e -> assertThat(((LeaseLostException) e).token()).isEqualTo(changed.token()));
    for (int i = 0; i < 3; i++) {
      assertReplays(
          store().claim(request(completions.get(i).key(), FP_A)), outcome("repeat-all-" + i));
    }
  }

  // A test (or its helper) throws whatever fails it; JUnit reports any exception, an interrupt too.
  @SuppressWarnings("InterruptedExceptionSwallowed")
  @Test
  @DisplayName(
      "8 concurrent claimAll of the same 50 keys in different orders: each key acquired once")
  void concurrentBatchesAcquireEachKeyOnce() throws Exception {
    int threads = 8;
    int keys = 50;
    long seed = System.nanoTime();
    System.out.println(getClass().getSimpleName() + ": batch race seed " + seed);
    Scope scope = newScope();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 3; round++) {
        List<ClaimRequest> base = new ArrayList<>();
        for (int i = 0; i < keys; i++) {
          base.add(request(key(scope, "round-" + round + "-key-" + i), FP_A, LONG_LEASE));
        }
        List<List<ClaimRequest>> orders = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          List<ClaimRequest> order = new ArrayList<>(base);
          Collections.shuffle(order, new Random(seed + 31L * round + t));
          orders.add(order);
        }
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Future<List<ClaimResult>>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          List<ClaimRequest> order = orders.get(t);
          futures.add(
              pool.submit(
                  () -> {
                    start.await(30, TimeUnit.SECONDS);
                    return store().claimAll(order);
                  }));
        }
        Map<IdempotencyKey, Integer> acquisitions = new HashMap<>();
        for (int t = 0; t < threads; t++) {
          List<ClaimResult> results = futures.get(t).get(90, TimeUnit.SECONDS);
          assertThat(results).as("answers of batch %d (seed %d)", t, seed).hasSize(keys);
          for (int i = 0; i < keys; i++) {
            ClaimResult r = results.get(i);
            assertThat(r)
                .as("answer %d of batch %d (seed %d)", i, t, seed)
                .isInstanceOfAny(ClaimResult.Acquired.class, ClaimResult.InProgress.class);
            if (r instanceof ClaimResult.Acquired) {
              acquisitions.merge(orders.get(t).get(i).key(), 1, Integer::sum);
            }
          }
        }
        for (ClaimRequest request : base) {
          assertThat(acquisitions.getOrDefault(request.key(), 0))
              .as("acquisitions of %s in round %d (seed %d)", request.key(), round, seed)
              .isEqualTo(1);
        }
      }
    } finally {
      ContractSupport.shutdown(pool);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Key space

  @Test
  @DisplayName("keys that a naive concatenation would confuse are independent records")
  void scopeAndKeyCollisionsAreIndependentRecords() {
    String run = UUID.randomUUID().toString();
    String op = "collide-" + run;

    // Delimiter shifted between tenant and key.
    assertIndependent(
        List.of(
            IdempotencyKey.of(Scope.of(run + "a", op), "b:c"),
            IdempotencyKey.of(Scope.of(run + "a:b", op), "c")));
    // Delimiter shifted between tenant and operation.
    assertIndependent(
        List.of(
            IdempotencyKey.of(Scope.of(run + "a", "b:c"), "k"),
            IdempotencyKey.of(Scope.of(run + "a:b", "c"), "k")));
    // Tenant and operation swapped.
    assertIndependent(
        List.of(
            IdempotencyKey.of(Scope.of(run + "x", run + "y"), "k"),
            IdempotencyKey.of(Scope.of(run + "y", run + "x"), "k")));
    // Characters that are special to LIKE, glob, Redis patterns, SQL or shells.
    Scope scope = Scope.of("t-" + run, "special");
    List<IdempotencyKey> special = new ArrayList<>();
    for (String value :
        List.of(
            "*",
            "?",
            "[a]",
            "{x}",
            "{}",
            "a%",
            "a_",
            "a",
            "'; DROP TABLE x; --",
            "\\",
            "a b",
            ":",
            "A",
            "a ")) {
      special.add(IdempotencyKey.of(scope, value));
    }
    assertIndependent(special);
    // The same key in different operations, and a global scope against a tenant's.
    assertIndependent(
        List.of(
            IdempotencyKey.of(Scope.of("t-" + run, "op-1"), "k"),
            IdempotencyKey.of(Scope.of("t-" + run, "op-2"), "k"),
            IdempotencyKey.of(Scope.global("op-1-" + run), "k"),
            IdempotencyKey.of(Scope.of("t-" + run, "op-1-" + run), "k")));
  }

  @Test
  @DisplayName("a global scope is the scope with the empty tenant: they share records")
  void globalScopeIsTheEmptyTenant() {
    String op = "global-" + UUID.randomUUID();
    IdempotencyKey global = IdempotencyKey.of(Scope.global(op), "k");
    IdempotencyKey emptyTenant = IdempotencyKey.of(Scope.of("", op), "k");
    long token = acquired(store().claim(request(global, FP_A))).token();

    assertInProgress(store().claim(request(emptyTenant, FP_A)), LEASE);
    Outcome outcome = outcome("global");
    store().complete(emptyTenant, token, outcome, RETENTION);

    assertReplays(store().claim(request(global, FP_A)), outcome);
    assertReplays(store().claim(request(emptyTenant, FP_A)), outcome);
  }

  /** Claims and completes each key with its own outcome; each must replay its own. */
  private void assertIndependent(List<IdempotencyKey> keys) {
    List<Long> tokens = new ArrayList<>();
    for (IdempotencyKey key : keys) {
      ClaimResult result = store().claim(request(key, FP_A));
      assertThat(result)
          .as("first claim of %s (a collision with an earlier key of the group?)", key)
          .isInstanceOf(ClaimResult.Acquired.class);
      tokens.add(((ClaimResult.Acquired) result).token());
    }
    for (int i = 0; i < keys.size(); i++) {
      store().complete(keys.get(i), tokens.get(i), outcomeFor(keys.get(i), i), RETENTION);
    }
    for (int i = 0; i < keys.size(); i++) {
      assertReplays(store().claim(request(keys.get(i), FP_A)), outcomeFor(keys.get(i), i));
    }
  }

  private static Outcome outcomeFor(IdempotencyKey key, int index) {
    return outcome(
        index + ":" + key.scope().tenant() + "/" + key.scope().operation() + "/" + key.value());
  }

  // ---------------------------------------------------------------------------------------------------------
  // Outcomes

  @Test
  @DisplayName(
      "outcomes replay byte for byte: 1 MiB body, empty body, unicode and empty attributes")
  void outcomesReplayByteForByte() {
    Scope scope = newScope();
    byte[] big = new byte[1 << 20];
    new Random(42).nextBytes(big);
    List<Outcome> outcomes =
        List.of(
            Outcome.builder()
                .contentType("application/octet-stream")
                .attribute("size", "1048576")
                .body(big)
                .build(),
            Outcome.empty(),
            Outcome.builder().contentType("text/plain; charset=utf-8").body(new byte[0]).build(),
            Outcome.builder()
                .contentType("application/json; charset=utf-8")
                .attribute("zeta", "last in alphabet, first here")
                .attribute("greeting", "grüß dich, ¿qué tal? 日本語 😀")
                .attribute("empty", "")
                .attribute("ключ", "значение")
                .attribute("alpha", "")
                .body("{\"emoji\":\"😀\",\"nul\":\"\u0000\"}".getBytes(StandardCharsets.UTF_8))
                .build(),
            Outcome.builder()
                .contentType("application/octet-stream")
                .body(new byte[] {0, (byte) 0xFF, (byte) 0xC3, 0x28, 0, 0x7F, (byte) 0x80})
                .build());

    List<IdempotencyKey> keys = new ArrayList<>();
    for (int i = 0; i < outcomes.size(); i++) {
      IdempotencyKey key = key(scope, "outcome-" + i);
      store()
          .complete(
              key, acquired(store().claim(request(key, FP_A))).token(), outcomes.get(i), RETENTION);
      keys.add(key);
    }
    for (int i = 0; i < outcomes.size(); i++) {
      assertReplays(store().claim(request(keys.get(i), FP_A)), outcomes.get(i));
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Once over this store

  @Test
  @DisplayName("Once over this store: executes once, replays, releases failures, stores final ones")
  void onceExecutesExactlyOnceOverThisStore() {
    Scope scope = newScope();
    Once once = Once.builder(store()).build();
    AtomicInteger counter = new AtomicInteger();
    Fingerprint fp = Fingerprint.of("charge 10 EUR");

    IdempotencyKey key = key(scope, "sequential");
    Execution<String> first =
        once.execute(key, fp, ResultCodec.utf8(), () -> "charged-" + counter.incrementAndGet());
    assertThat(first.replayed()).isFalse();
    for (int i = 0; i < 9; i++) {
      Execution<String> again =
          once.execute(key, fp, ResultCodec.utf8(), () -> "charged-" + counter.incrementAndGet());
      assertThat(again.replayed()).isTrue();
      assertThat(again.value()).isEqualTo(first.value()).isEqualTo("charged-1");
    }
    assertThat(counter).hasValue(1);

    assertThatThrownBy(
            () ->
                once.execute(
                    key,
                    Fingerprint.of("charge 20 EUR"),
                    ResultCodec.utf8(),
                    () -> "charged-" + counter.incrementAndGet()))
        .isInstanceOf(FingerprintMismatchException.class);
    assertThat(counter).hasValue(1);

    IdempotencyKey flaky = key(scope, "released-after-failure");
    RuntimeException boom = new RuntimeException("gateway timeout");
    assertThatThrownBy(
            () ->
                once.execute(
                    flaky,
                    fp,
                    ResultCodec.utf8(),
                    () -> {
                      counter.incrementAndGet();
                      throw boom;
                    }))
        .isSameAs(boom);
    Execution<String> retried =
        once.execute(flaky, fp, ResultCodec.utf8(), () -> "ok-" + counter.incrementAndGet());
    assertThat(retried.replayed()).isFalse();
    assertThat(retried.value()).isEqualTo("ok-3");
    assertThat(counter).hasValue(3);

    Once storing =
        once.toBuilder()
            .failurePolicy(FailurePolicy.storeWhen(IllegalStateException.class))
            .build();
    IdempotencyKey declined = key(scope, "stored-failure");
    AtomicInteger attempts = new AtomicInteger();
    assertThatThrownBy(
            () ->
                storing.execute(
                    declined,
                    fp,
                    ResultCodec.utf8(),
                    () -> {
                      attempts.incrementAndGet();
                      throw new IllegalStateException("card declined");
                    }))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("card declined");
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(
              () ->
                  storing.execute(
                      declined,
                      fp,
                      ResultCodec.utf8(),
                      () -> {
                        attempts.incrementAndGet();
                        return "must not run";
                      }))
          .isInstanceOfSatisfying(
              ReplayedFailureException.class,
              e -> {
                assertThat(e.originalType()).isEqualTo(IllegalStateException.class.getName());
                assertThat(e.originalMessage()).isEqualTo("card declined");
              });
    }
    assertThat(attempts).hasValue(1);
  }

  // A test (or its helper) throws whatever fails it; JUnit reports any exception, an interrupt too.
  @SuppressWarnings("InterruptedExceptionSwallowed")
  @Test
  @DisplayName("Once over this store: 32 concurrent calls with one key execute the action once")
  void onceExecutesOnceUnderConcurrency() throws Exception {
    IdempotencyKey key = key(newScope(), "concurrent");
    Once once = Once.builder(store()).build();
    Fingerprint fp = Fingerprint.of("concurrent request");
    AtomicInteger counter = new AtomicInteger();
    int threads = 32;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CyclicBarrier start = new CyclicBarrier(threads);
      List<Future<Object>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        futures.add(
            pool.submit(
                () -> {
                  start.await(30, TimeUnit.SECONDS);
                  try {
                    return once.execute(
                        key, fp, ResultCodec.utf8(), () -> "value-" + counter.incrementAndGet());
                  } catch (InProgressException e) {
                    return e;
                  }
                }));
      }
      int fresh = 0;
      for (Future<Object> future : futures) {
        Object answer = future.get(90, TimeUnit.SECONDS);
        if (answer instanceof Execution<?> execution) {
          assertThat(execution.value()).isEqualTo("value-1");
          if (!execution.replayed()) {
            fresh++;
          }
        } else {
          assertThat(answer).isInstanceOf(InProgressException.class);
        }
      }
      assertThat(fresh).as("fresh executions").isEqualTo(1);
      assertThat(counter).as("times the action ran").hasValue(1);
    } finally {
      ContractSupport.shutdown(pool);
    }
  }

  // ---------------------------------------------------------------------------------------------------------

  /** Runs {@code n} claims released together by a barrier; answers in racer order. */
  // A test (or its helper) throws whatever fails it; JUnit reports any exception, an interrupt too.
  @SuppressWarnings("InterruptedExceptionSwallowed")
  private List<ClaimResult> race(
      ExecutorService pool, int n, java.util.function.IntFunction<ClaimRequest> requests)
      throws Exception {
    CyclicBarrier start = new CyclicBarrier(n);
    List<Future<ClaimResult>> futures = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ClaimRequest request = requests.apply(i);
      Callable<ClaimResult> racer =
          () -> {
            start.await(30, TimeUnit.SECONDS);
            return store().claim(request);
          };
      futures.add(pool.submit(racer));
    }
    List<ClaimResult> results = new ArrayList<>();
    for (Future<ClaimResult> future : futures) {
      results.add(future.get(90, TimeUnit.SECONDS));
    }
    return results;
  }
}
