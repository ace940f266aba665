package dev.once;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * What the shared contract (once-testkit) cannot see: the in-memory store's own limits, and a
 * regression.
 */
class InMemoryIdempotencyStoreTest {

  private final TestClock clock = new TestClock();
  private final Scope scope = Scope.of("t", "op");
  private final Fingerprint fp = Fingerprint.of("request");

  @Test
  void aClaimOutlivesItsLiveLeaseEvenWhenItsRetentionIsShorter() {
    // Regression: the record expired with its retention while its lease was still live, so a second
    // claim
    // found the key "absent" and acquired it: two executions at once.
    InMemoryIdempotencyStore store = InMemoryIdempotencyStore.builder().clock(clock).build();
    IdempotencyKey key = IdempotencyKey.of(scope, "k");
    ClaimRequest request = new ClaimRequest(key, fp, Duration.ofHours(2), Duration.ofHours(1));
    store.claim(request);

    clock.advance(Duration.ofMinutes(90));

    assertThat(store.claim(request)).isInstanceOf(ClaimResult.InProgress.class);
    assertThat(store.purgeExpired(10)).isZero();
    clock.advance(Duration.ofMinutes(31));
    assertThat(store.claim(request)).isInstanceOf(ClaimResult.Acquired.class);
  }

  @Test
  void aFullStoreFirstPurgesExpiredRecordsThenRefusesRatherThanEvicting() {
    InMemoryIdempotencyStore store =
        InMemoryIdempotencyStore.builder().clock(clock).maxRecords(2).name("tiny").build();
    Duration lease = Duration.ofSeconds(10);
    store.claim(new ClaimRequest(IdempotencyKey.of(scope, "a"), fp, lease, Duration.ofMinutes(1)));
    store.claim(new ClaimRequest(IdempotencyKey.of(scope, "b"), fp, lease, Duration.ofMinutes(5)));

    assertThatThrownBy(
            () ->
                store.claim(
                    new ClaimRequest(
                        IdempotencyKey.of(scope, "c"), fp, lease, Duration.ofMinutes(1))))
        .isInstanceOfSatisfying(
            StoreUnavailableException.class,
            e -> {
              assertThat(e.storeName()).isEqualTo("tiny");
              assertThat(e.getMessage()).contains("maxRecords=2");
            });
    // A key already held is still answered when the store is full.
    assertThat(
            store.claim(
                new ClaimRequest(IdempotencyKey.of(scope, "a"), fp, lease, Duration.ofMinutes(1))))
        .isInstanceOf(ClaimResult.InProgress.class);

    clock.advance(Duration.ofMinutes(2)); // "a" has expired, "b" has not
    assertThat(
            store.claim(
                new ClaimRequest(IdempotencyKey.of(scope, "c"), fp, lease, Duration.ofMinutes(1))))
        .isInstanceOf(ClaimResult.Acquired.class);
    assertThat(store.size()).isEqualTo(2);
  }

  @Test
  void theBuilderRejectsBadSettings() {
    assertThatThrownBy(() -> InMemoryIdempotencyStore.builder().maxRecords(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was 0");
    assertThatThrownBy(() -> InMemoryIdempotencyStore.builder().clock(null))
        .isInstanceOf(NullPointerException.class);
    assertThat(IdempotencyStore.inMemory().name()).isEqualTo("memory");
  }
}
