package dev.once;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OnceTest {

  private static final Duration LEASE = Duration.ofSeconds(10);
  private static final Duration RETENTION = Duration.ofHours(1);
  private static final Scope SCOPE = Scope.of("alice", "charge");
  private static final Fingerprint FP = Fingerprint.of("charge 10 EUR");

  private final TestClock clock = new TestClock();
  private final InMemoryIdempotencyStore store =
      InMemoryIdempotencyStore.builder().clock(clock).build();
  private final RecordingListener listener = new RecordingListener();
  private final Once once =
      Once.builder(store).lease(LEASE).retention(RETENTION).listener(listener).build();
  private final AtomicInteger runs = new AtomicInteger();
  private final ExecutorService background = Executors.newCachedThreadPool();

  @AfterEach
  void stopBackground() {
    background.shutdownNow();
  }

  private static IdempotencyKey key(String value) {
    return IdempotencyKey.of(SCOPE, value);
  }

  private String charge() {
    return "receipt-" + runs.incrementAndGet();
  }

  // ---------------------------------------------------------------------------------------------------------

  @Test
  void executesOnceAndReplaysTheStoredResult() {
    IdempotencyKey key = key("r-1");
    Execution<String> first = once.execute(key, FP, ResultCodec.utf8(), this::charge);
    Execution<String> second = once.execute(key, FP, ResultCodec.utf8(), this::charge);

    assertThat(first).isEqualTo(new Execution<>("receipt-1", false));
    assertThat(second).isEqualTo(new Execution<>("receipt-1", true));
    assertThat(once.run(key, FP, ResultCodec.utf8(), this::charge)).isEqualTo("receipt-1");
    assertThat(runs).hasValue(1);
    assertThat(listener.events)
        .containsExactly("claimed ACQUIRED", "completed", "claimed COMPLETED", "claimed COMPLETED");
  }

  @Test
  void theReleasePolicyRethrowsTheFailureUnchangedAndLetsTheNextCallExecute() {
    IdempotencyKey key = key("r-1");
    RuntimeException boom = new RuntimeException("gateway timeout");

    Throwable thrown =
        catchThrowable(
            () ->
                once.execute(
                    key,
                    FP,
                    ResultCodec.utf8(),
                    () -> {
                      runs.incrementAndGet();
                      throw boom;
                    }));

    assertThat(thrown).isSameAs(boom);
    assertThat(boom.getSuppressed()).isEmpty();
    assertThat(listener.events)
        .containsExactly("claimed ACQUIRED", "failed stored=false gateway timeout");
    Execution<String> retry = once.execute(key, FP, ResultCodec.utf8(), this::charge);
    assertThat(retry).isEqualTo(new Execution<>("receipt-2", false));
  }

  @Test
  void errorsReleaseTheKeyToo() {
    IdempotencyKey key = key("r-1");
    Error error = new Error("out of something");
    assertThat(
            catchThrowable(
                () ->
                    once.execute(
                        key,
                        FP,
                        ResultCodec.utf8(),
                        () -> {
                          throw error;
                        })))
        .isSameAs(error);
    assertThat(once.execute(key, FP, ResultCodec.utf8(), this::charge).replayed()).isFalse();
  }

  @Test
  void aResultTheCodecCannotEncodeReleasesTheKey() {
    IdempotencyKey key = key("r-1");
    assertThatThrownBy(() -> once.execute(key, FP, ResultCodec.utf8(), () -> null))
        .isInstanceOf(NullPointerException.class);
    assertThat(once.execute(key, FP, ResultCodec.utf8(), this::charge))
        .isEqualTo(new Execution<>("receipt-1", false));
  }

  @Test
  void theStorePolicyKeepsFinalFailuresAndReplaysThem() {
    Once storing =
        once.toBuilder()
            .failurePolicy(FailurePolicy.storeWhen(IllegalStateException.class))
            .build();
    IdempotencyKey key = key("r-1");
    IllegalStateException declined = new IllegalStateException("card declined");

    assertThat(
            catchThrowable(
                () ->
                    storing.execute(
                        key,
                        FP,
                        ResultCodec.utf8(),
                        () -> {
                          runs.incrementAndGet();
                          throw declined;
                        })))
        .isSameAs(declined);

    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> storing.execute(key, FP, ResultCodec.utf8(), this::charge))
          .isInstanceOfSatisfying(
              ReplayedFailureException.class,
              e -> {
                assertThat(e.originalType()).isEqualTo("java.lang.IllegalStateException");
                assertThat(e.originalMessage()).isEqualTo("card declined");
                assertThat(e.scope()).isEqualTo(SCOPE);
                assertThat(e.getMessage()).contains("card declined");
              });
    }
    assertThat(runs).hasValue(1);
    assertThat(listener.events)
        .containsSubsequence("failed stored=true card declined", "claimed COMPLETED");
    // The stored failure is an ordinary completed outcome in the store.
    ClaimResult raw = store.claim(new ClaimRequest(key, FP, LEASE, RETENTION));
    assertThat(((ClaimResult.Completed) raw).outcome().contentType())
        .isEqualTo(Once.FAILURE_CONTENT_TYPE);
  }

  @Test
  void theStorePolicyCoversSubclassesAndReleasesOtherTypes() {
    class Declined extends IllegalStateException {
      private static final long serialVersionUID = 1L;
    }
    Once storing =
        once.toBuilder()
            .failurePolicy(FailurePolicy.storeWhen(IllegalStateException.class))
            .build();

    IdempotencyKey subclass = key("subclass");
    assertThatThrownBy(
            () ->
                storing.execute(
                    subclass,
                    FP,
                    ResultCodec.utf8(),
                    () -> {
                      throw new Declined();
                    }))
        .isInstanceOf(Declined.class);
    assertThatThrownBy(() -> storing.execute(subclass, FP, ResultCodec.utf8(), this::charge))
        .isInstanceOfSatisfying(
            ReplayedFailureException.class,
            e -> {
              assertThat(e.originalType()).isEqualTo(Declined.class.getName());
              assertThat(e.originalMessage()).as("a null message is stored as empty").isEmpty();
            });

    IdempotencyKey other = key("other-type");
    assertThatThrownBy(
            () ->
                storing.execute(
                    other,
                    FP,
                    ResultCodec.utf8(),
                    () -> {
                      throw new IllegalArgumentException("transient");
                    }))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(storing.execute(other, FP, ResultCodec.utf8(), this::charge).replayed()).isFalse();
    assertThat(runs).hasValue(1);
  }

  @Test
  void anotherFingerprintIsRefusedAndChangesNothing() {
    IdempotencyKey key = key("r-1");
    once.execute(key, FP, ResultCodec.utf8(), this::charge);

    assertThatThrownBy(
            () ->
                once.execute(
                    key, Fingerprint.of("charge 20 EUR"), ResultCodec.utf8(), this::charge))
        .isInstanceOfSatisfying(
            FingerprintMismatchException.class,
            e -> {
              assertThat(e.scope()).isEqualTo(SCOPE);
              assertThat(e.getMessage()).contains("memory").doesNotContain("r-1");
            });
    assertThat(once.execute(key, FP, ResultCodec.utf8(), this::charge))
        .isEqualTo(new Execution<>("receipt-1", true));
    assertThat(runs).hasValue(1);
    assertThat(listener.events).contains("claimed MISMATCH");
  }

  @Test
  void aKeyHeldElsewhereIsInProgressWithTheLeaseLeft() {
    IdempotencyKey key = key("r-1");
    store.claim(new ClaimRequest(key, FP, LEASE, RETENTION));
    clock.advance(Duration.ofSeconds(4));

    assertThatThrownBy(() -> once.execute(key, FP, ResultCodec.utf8(), this::charge))
        .isInstanceOfSatisfying(
            InProgressException.class,
            e -> {
              assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(6));
              assertThat(e.scope()).isEqualTo(SCOPE);
            });
    // A different fingerprint is a mismatch even while the key is held.
    assertThatThrownBy(
            () -> once.execute(key, Fingerprint.of("other"), ResultCodec.utf8(), this::charge))
        .isInstanceOf(FingerprintMismatchException.class);
    assertThat(runs).hasValue(0);
  }

  @Test
  void anExpiredLeaseIsTakenOverAndExecuted() {
    IdempotencyKey key = key("r-1");
    store.claim(new ClaimRequest(key, FP, LEASE, RETENTION));
    clock.advance(LEASE.plusMillis(1));
    assertThat(once.execute(key, FP, ResultCodec.utf8(), this::charge))
        .isEqualTo(new Execution<>("receipt-1", false));
  }

  @Test
  void waitWhileInProgressReturnsTheReplayOnceTheHolderCompletes() throws Exception {
    IdempotencyKey key = key("r-1");
    long holder =
        ((ClaimResult.Acquired) store.claim(new ClaimRequest(key, FP, LEASE, RETENTION))).token();
    CountDownLatch sawInProgress = new CountDownLatch(1);
    Once waiting =
        once.toBuilder()
            .waitWhileInProgress(Duration.ofSeconds(30))
            .listener(
                new OnceListener() {
                  @Override
                  public void claimed(
                      Scope scope, String store, ClaimResult.Status status, Duration latency) {
                    if (status == ClaimResult.Status.IN_PROGRESS) {
                      sawInProgress.countDown();
                    }
                  }
                })
            .build();

    Future<Execution<String>> call =
        background.submit(() -> waiting.execute(key, FP, ResultCodec.utf8(), this::charge));
    assertThat(sawInProgress.await(10, TimeUnit.SECONDS)).as("the call met the held key").isTrue();
    assertThat(call).isNotDone();
    store.complete(key, holder, ResultCodec.utf8().encode("holder's receipt"), RETENTION);

    assertThat(call.get(10, TimeUnit.SECONDS)).isEqualTo(new Execution<>("holder's receipt", true));
    assertThat(runs).hasValue(0);
  }

  @Test
  void waitWhileInProgressExecutesOnceTheHolderReleases() throws Exception {
    IdempotencyKey key = key("r-1");
    long holder =
        ((ClaimResult.Acquired) store.claim(new ClaimRequest(key, FP, LEASE, RETENTION))).token();
    CountDownLatch sawInProgress = new CountDownLatch(1);
    Once waiting =
        once.toBuilder()
            .waitWhileInProgress(Duration.ofSeconds(30))
            .listener(
                new OnceListener() {
                  @Override
                  public void claimed(
                      Scope scope, String store, ClaimResult.Status status, Duration latency) {
                    if (status == ClaimResult.Status.IN_PROGRESS) {
                      sawInProgress.countDown();
                    }
                  }
                })
            .build();

    Future<Execution<String>> call =
        background.submit(() -> waiting.execute(key, FP, ResultCodec.utf8(), this::charge));
    assertThat(sawInProgress.await(10, TimeUnit.SECONDS)).isTrue();
    store.release(key, holder);

    assertThat(call.get(10, TimeUnit.SECONDS)).isEqualTo(new Execution<>("receipt-1", false));
  }

  @Test
  void waitWhileInProgressGivesUpAfterTheWait() {
    IdempotencyKey key = key("r-1");
    store.claim(new ClaimRequest(key, FP, LEASE, RETENTION));
    Once waiting = once.toBuilder().waitWhileInProgress(Duration.ofMillis(100)).build();
    long start = System.nanoTime();

    assertThatThrownBy(() -> waiting.execute(key, FP, ResultCodec.utf8(), this::charge))
        .isInstanceOf(InProgressException.class);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(100));
    assertThat(listener.events.stream().filter("claimed IN_PROGRESS"::equals).count())
        .isGreaterThan(1);
  }

  @Test
  void aZombieGetsLeaseLostAndDoesNotOverwriteTheNewerResult() {
    IdempotencyKey key = key("r-1");

    assertThatThrownBy(
            () ->
                once.execute(
                    key,
                    FP,
                    ResultCodec.utf8(),
                    () -> {
                      // While this action runs too long, its lease expires and another worker takes
                      // over and finishes.
                      clock.advance(LEASE.plusSeconds(1));
                      takeOverAndComplete(key, "newer receipt");
                      return charge();
                    }))
        .isInstanceOfSatisfying(
            LeaseLostException.class, e -> assertThat(e.scope()).isEqualTo(SCOPE));

    assertThat(once.execute(key, FP, ResultCodec.utf8(), this::charge))
        .isEqualTo(new Execution<>("newer receipt", true));
    assertThat(listener.events)
        .containsExactly("claimed ACQUIRED", "lease lost", "claimed COMPLETED");
  }

  @Test
  void aZombieThatFailsDoesNotReleaseTheNewOwnersClaim() {
    IdempotencyKey key = key("r-1");
    long[] newOwner = new long[1];
    RuntimeException boom = new RuntimeException("late failure");

    Throwable thrown =
        catchThrowable(
            () ->
                once.execute(
                    key,
                    FP,
                    ResultCodec.utf8(),
                    () -> {
                      clock.advance(LEASE.plusSeconds(1));
                      newOwner[0] =
                          ((ClaimResult.Acquired)
                                  store.claim(new ClaimRequest(key, FP, LEASE, RETENTION)))
                              .token();
                      throw boom;
                    }));

    assertThat(thrown).isSameAs(boom);
    assertThat(boom.getSuppressed()).singleElement().isInstanceOf(LeaseLostException.class);
    assertThat(listener.events).containsExactly("claimed ACQUIRED", "lease lost");
    // The new owner still holds the key and can complete it.
    assertThat(store.claim(new ClaimRequest(key, FP, LEASE, RETENTION)))
        .isInstanceOf(ClaimResult.InProgress.class);
    store.complete(key, newOwner[0], Outcome.empty(), RETENTION);
  }

  @Test
  void storeFailuresAreRethrownAndReported() {
    IdempotencyKey key = key("r-1");
    StoreUnavailableException down =
        new StoreUnavailableException("connection refused", "flaky", SCOPE, null);
    IdempotencyStore failingClaims =
        new DelegatingStore(store) {
          @Override
          public ClaimResult claim(ClaimRequest request) {
            throw down;
          }
        };
    Once overFailing = once.withStore(failingClaims);

    assertThat(catchThrowable(() -> overFailing.execute(key, FP, ResultCodec.utf8(), this::charge)))
        .isSameAs(down);
    assertThat(runs).hasValue(0);
    assertThat(listener.events)
        .containsExactly("store failed store 'flaky': unavailable: connection refused");
  }

  @Test
  void aFailedCompleteIsRethrownAndReported() {
    IdempotencyKey key = key("r-1");
    StoreException broken = new StoreException("disk full", "flaky", SCOPE, null);
    Once overFailing =
        once.withStore(
            new DelegatingStore(store) {
              @Override
              public void complete(
                  IdempotencyKey k, long token, Outcome outcome, Duration retention) {
                throw broken;
              }
            });

    assertThat(catchThrowable(() -> overFailing.execute(key, FP, ResultCodec.utf8(), this::charge)))
        .isSameAs(broken);
    assertThat(listener.events)
        .containsExactly("claimed ACQUIRED", "store failed store 'flaky': disk full");
  }

  @Test
  void theDiscardCodecReplaysNull() {
    IdempotencyKey key = key("r-1");
    assertThat(once.execute(key, FP, ResultCodec.discard(), this::charge))
        .isEqualTo(new Execution<>("receipt-1", false));
    assertThat(once.execute(key, FP, ResultCodec.<String>discard(), this::charge))
        .isEqualTo(new Execution<>(null, true));
  }

  @Test
  void theBytesCodecReplaysBytesAndContentType() {
    IdempotencyKey key = key("r-1");
    byte[] pdf = "%PDF-1.7".getBytes(StandardCharsets.US_ASCII);
    once.execute(key, FP, ResultCodec.bytes("application/pdf"), () -> pdf);
    assertThat(
            once.execute(key, FP, ResultCodec.bytes("application/pdf"), () -> new byte[0]).value())
        .isEqualTo(pdf);
    ClaimResult raw = store.claim(new ClaimRequest(key, FP, LEASE, RETENTION));
    assertThat(((ClaimResult.Completed) raw).outcome().contentType()).isEqualTo("application/pdf");
  }

  @Test
  void theBuilderRejectsBadSettingsAndCopiesKeepThem() {
    assertThatThrownBy(() -> Once.builder(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> Once.builder(store).lease(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT0S");
    assertThatThrownBy(() -> Once.builder(store).retention(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT-1S");
    assertThatThrownBy(() -> Once.builder(store).waitWhileInProgress(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Once.builder(store).failurePolicy(null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> Once.builder(store).listener(null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> once.execute(key("r-1"), FP, ResultCodec.utf8(), null))
        .isInstanceOf(NullPointerException.class);

    assertThat(once.toString()).contains("memory", "PT10S", "PT1H");
    InMemoryIdempotencyStore other = InMemoryIdempotencyStore.builder().name("other").build();
    Once moved = once.withStore(other);
    assertThat(moved.store()).isSameAs(other);
    assertThat(moved.toString()).contains("other", "PT10S", "PT1H");
    assertThat(once.store()).isSameAs(store);
  }

  @Test
  void theLeaseAndRetentionReachTheStore() {
    IdempotencyKey key = key("r-1");
    once.execute(key, FP, ResultCodec.utf8(), this::charge);
    clock.advance(RETENTION.minusSeconds(1));
    assertThat(once.execute(key, FP, ResultCodec.utf8(), this::charge).replayed()).isTrue();
    clock.advance(Duration.ofSeconds(2));
    assertThat(once.execute(key, FP, ResultCodec.utf8(), this::charge))
        .isEqualTo(new Execution<>("receipt-2", false));

    IdempotencyKey held = key("r-2");
    long[] retryAfter = new long[1];
    once.execute(
        held,
        FP,
        ResultCodec.utf8(),
        () -> {
          ClaimResult inner =
              store.claim(new ClaimRequest(held, FP, Duration.ofHours(5), RETENTION));
          retryAfter[0] = ((ClaimResult.InProgress) inner).retryAfter().toMillis();
          return "x";
        });
    assertThat(retryAfter[0]).isEqualTo(LEASE.toMillis());
  }

  // ---------------------------------------------------------------------------------------------------------

  private void takeOverAndComplete(IdempotencyKey key, String result) {
    long token =
        ((ClaimResult.Acquired) store.claim(new ClaimRequest(key, FP, LEASE, RETENTION))).token();
    store.complete(key, token, ResultCodec.utf8().encode(result), RETENTION);
  }

  private static final class RecordingListener implements OnceListener {
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override
    public void claimed(Scope scope, String store, ClaimResult.Status status, Duration latency) {
      // Listeners must not throw, so oddities are recorded rather than asserted here.
      events.add(
          scope.equals(SCOPE) && !latency.isNegative()
              ? "claimed " + status
              : "claimed odd " + scope + latency);
    }

    @Override
    public void completed(Scope scope, String store, Duration latency) {
      events.add(store.equals("memory") ? "completed" : "completed in " + store);
    }

    @Override
    public void failed(Scope scope, String store, Throwable failure, boolean stored) {
      events.add("failed stored=" + stored + " " + failure.getMessage());
    }

    @Override
    public void leaseLost(Scope scope, String store) {
      events.add("lease lost");
    }

    @Override
    public void storeFailed(Scope scope, String store, StoreException failure) {
      events.add("store failed " + failure.getMessage());
    }
  }

  @Test
  void theKeyFormsTellTheKeyAndTheClaimIsAnnouncedBeforeItIsAnswered() {
    List<String> events = new CopyOnWriteArrayList<>();
    OnceListener keyed =
        new OnceListener() {
          @Override
          public void claiming(IdempotencyKey key, String store) {
            events.add("claiming " + key.digestHex());
          }

          @Override
          public void claimed(
              IdempotencyKey key, String store, ClaimResult.Status status, Duration latency) {
            events.add("claimed " + key.digestHex() + " " + status);
          }

          @Override
          public void completed(IdempotencyKey key, String store, Duration latency) {
            events.add("completed " + key.digestHex());
          }
        };
    Once told = once.toBuilder().listener(keyed).build();
    IdempotencyKey key = key("keyed");

    told.execute(key, FP, ResultCodec.utf8(), this::charge);
    told.execute(key, FP, ResultCodec.utf8(), this::charge);

    String d = key.digestHex();
    assertThat(events)
        .containsExactly(
            "claiming " + d,
            "claimed " + d + " ACQUIRED",
            "completed " + d,
            "claiming " + d,
            "claimed " + d + " COMPLETED");
  }

  @Test
  void aThrowingListenerDoesNotLeaveTheKeyClaimed() {
    OnceListener throwing =
        new OnceListener() {
          @Override
          public void claiming(IdempotencyKey key, String store) {
            throw new IllegalStateException("tracing backend down");
          }

          @Override
          public void claimed(
              Scope scope, String store, ClaimResult.Status status, Duration latency) {
            throw new IllegalStateException("metrics backend down");
          }

          @Override
          public void completed(Scope scope, String store, Duration latency) {
            throw new IllegalStateException("metrics backend down");
          }

          @Override
          public void failed(Scope scope, String store, Throwable failure, boolean stored) {
            throw new IllegalStateException("metrics backend down");
          }
        };
    Once guarded = once.toBuilder().listener(throwing).build();

    assertThat(guarded.execute(key("ok"), FP, ResultCodec.utf8(), this::charge))
        .isEqualTo(new Execution<>("receipt-1", false));
    RuntimeException boom = new RuntimeException("gateway timeout");
    assertThat(
            catchThrowable(
                () ->
                    guarded.execute(
                        key("fails"),
                        FP,
                        ResultCodec.utf8(),
                        () -> {
                          throw boom;
                        })))
        .isSameAs(boom);

    assertThat(once.execute(key("ok"), FP, ResultCodec.utf8(), this::charge))
        .as("completed despite the listener")
        .isEqualTo(new Execution<>("receipt-1", true));
    assertThat(once.execute(key("fails"), FP, ResultCodec.utf8(), this::charge))
        .as("released despite the listener")
        .isEqualTo(new Execution<>("receipt-2", false));
  }

  @Test
  void theHeartbeatRenewsWhileTheActionRunsStopsWhenItEndsAndLeavesTheCallersTransactionAlone()
      throws Exception {
    Duration shortLease = Duration.ofMillis(30);
    RenewalCountingStore standalone = new RenewalCountingStore(store, false);
    RenewalCountingStore inTransaction = new RenewalCountingStore(store, true);
    Once renewing = once.toBuilder().lease(shortLease).build();
    CountDownLatch finish = new CountDownLatch(1);

    Future<String> running =
        background.submit(
            () ->
                renewing
                    .withStore(standalone)
                    .run(
                        key("long"),
                        FP,
                        ResultCodec.utf8(),
                        () -> {
                          await(finish);
                          return "long";
                        }));
    assertThat(
            renewing
                .withStore(inTransaction)
                .run(
                    key("in-tx"),
                    FP,
                    ResultCodec.utf8(),
                    () -> {
                      await(standalone.renewalsReached(key("long"), 3));
                      return "in-tx";
                    }))
        .isEqualTo("in-tx");
    assertThat(inTransaction.renewals(key("in-tx")))
        .as("renewals on the caller's connection")
        .isZero();

    finish.countDown();
    assertThat(running.get(10, TimeUnit.SECONDS)).isEqualTo("long");
    int afterEnd = standalone.renewals(key("long"));
    renewing
        .withStore(standalone)
        .run(
            key("next"),
            FP,
            ResultCodec.utf8(),
            () -> {
              await(standalone.renewalsReached(key("next"), 3));
              return "next";
            });
    assertThat(standalone.renewals(key("long")))
        .as("renewals after the action ended")
        .isEqualTo(afterEnd);
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(10, TimeUnit.SECONDS)).as("waited for").isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Counts renewals per key; says whether it joins the caller's transaction. */
  private static final class RenewalCountingStore extends DelegatingStore {
    private final boolean joinsCallerTransaction;
    private final java.util.Map<IdempotencyKey, AtomicInteger> renewals =
        new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Map<IdempotencyKey, CountDownLatch> reached =
        new java.util.concurrent.ConcurrentHashMap<>();

    RenewalCountingStore(IdempotencyStore delegate, boolean joinsCallerTransaction) {
      super(delegate);
      this.joinsCallerTransaction = joinsCallerTransaction;
    }

    CountDownLatch renewalsReached(IdempotencyKey key, int count) {
      return reached.computeIfAbsent(key, k -> new CountDownLatch(count));
    }

    int renewals(IdempotencyKey key) {
      AtomicInteger n = renewals.get(key);
      return n == null ? 0 : n.get();
    }

    @Override
    public void renew(IdempotencyKey key, long token, Duration lease) {
      super.renew(key, token, lease);
      renewals.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      CountDownLatch latch = reached.get(key);
      if (latch != null) {
        latch.countDown();
      }
    }

    @Override
    public boolean joinsCallerTransaction() {
      return joinsCallerTransaction;
    }
  }

  /** Passes every call to another store; tests override what should fail. */
  private static class DelegatingStore implements IdempotencyStore {
    private final IdempotencyStore delegate;

    DelegatingStore(IdempotencyStore delegate) {
      this.delegate = delegate;
    }

    @Override
    public ClaimResult claim(ClaimRequest request) {
      return delegate.claim(request);
    }

    @Override
    public void complete(IdempotencyKey key, long token, Outcome outcome, Duration retention) {
      delegate.complete(key, token, outcome, retention);
    }

    @Override
    public void release(IdempotencyKey key, long token) {
      delegate.release(key, token);
    }

    @Override
    public void renew(IdempotencyKey key, long token, Duration lease) {
      delegate.renew(key, token, lease);
    }

    @Override
    public int purgeExpired(int limit) {
      return delegate.purgeExpired(limit);
    }

    @Override
    public String name() {
      return "flaky";
    }
  }
}
