package dev.once.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.ClaimRequest;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.InProgressException;
import dev.once.Once;
import dev.once.ResultCodec;
import dev.once.Scope;
import io.micrometer.common.KeyValue;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class ObservationOnceListenerTest {

  private static final Scope SCOPE = Scope.of("tenant-secret", "POST /payments");

  /** What each stopped observation carried, and whether the claim ran inside it. */
  private record Seen(String name, List<KeyValue> lowCardinality, List<KeyValue> high) {}

  @Test
  void eachClaimIsOneObservationWithItsOutcomeAndTheStoreCallRunsInsideIt() {
    TestObservationRegistry registry = TestObservationRegistry.create();
    List<Seen> seen = new CopyOnWriteArrayList<>();
    registry
        .observationConfig()
        .observationHandler(
            new ObservationHandler<Observation.Context>() {
              @Override
              public void onStop(Observation.Context context) {
                seen.add(
                    new Seen(
                        context.getName(),
                        List.copyOf(context.getLowCardinalityKeyValues().stream().toList()),
                        List.copyOf(context.getHighCardinalityKeyValues().stream().toList())));
              }

              @Override
              public boolean supportsContext(Observation.Context context) {
                return true;
              }
            });
    List<Boolean> claimedInsideObservation = new CopyOnWriteArrayList<>();
    dev.once.InMemoryIdempotencyStore memory = IdempotencyStore.inMemory();
    IdempotencyStore store =
        new IdempotencyStore() {
          @Override
          public dev.once.ClaimResult claim(ClaimRequest request) {
            claimedInsideObservation.add(registry.getCurrentObservation() != null);
            return memory.claim(request);
          }

          @Override
          public void complete(
              IdempotencyKey key, long token, dev.once.Outcome outcome, Duration retention) {
            memory.complete(key, token, outcome, retention);
          }

          @Override
          public void release(IdempotencyKey key, long token) {
            memory.release(key, token);
          }

          @Override
          public void renew(IdempotencyKey key, long token, Duration lease) {
            memory.renew(key, token, lease);
          }

          @Override
          public int purgeExpired(int limit) {
            return memory.purgeExpired(limit);
          }

          @Override
          public String name() {
            return "memory";
          }
        };
    Once once = Once.builder(store).listener(ObservationOnceListener.of(registry)).build();
    IdempotencyKey key = IdempotencyKey.of(SCOPE, "raw-key-secret");

    once.execute(key, Fingerprint.of("a"), ResultCodec.utf8(), () -> "paid");
    once.execute(key, Fingerprint.of("a"), ResultCodec.utf8(), () -> "again");
    IdempotencyKey held = IdempotencyKey.of(SCOPE, "held");
    memory.claim(
        new ClaimRequest(held, Fingerprint.of("a"), Duration.ofMinutes(1), Duration.ofHours(1)));
    assertThatThrownBy(() -> once.execute(held, Fingerprint.of("a"), ResultCodec.utf8(), () -> ""))
        .isInstanceOf(InProgressException.class);

    assertThat(seen)
        .extracting(s -> s.name(), s -> value(s, "outcome"))
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("once.claim", "acquired"),
            org.assertj.core.groups.Tuple.tuple("once.claim", "replayed"),
            org.assertj.core.groups.Tuple.tuple("once.claim", "in_progress"));
    assertThat(seen)
        .allSatisfy(
            s -> {
              assertThat(value(s, "operation")).isEqualTo("POST /payments");
              assertThat(value(s, "store")).isEqualTo("memory");
              assertThat(s.high()).isEmpty();
              assertThat(s.lowCardinality().toString()).doesNotContain("secret");
            });
    assertThat(claimedInsideObservation).containsExactly(true, true, true);
    TestObservationRegistryAssert.assertThat(registry)
        .doesNotHaveAnyRemainingCurrentObservation()
        .hasNumberOfObservationsWithNameEqualTo(ObservationOnceListener.CLAIM, 3);
  }

  private static String value(Seen s, String key) {
    return s.lowCardinality().stream()
        .filter(kv -> kv.getKey().equals(key))
        .map(KeyValue::getValue)
        .findFirst()
        .orElse("<none>");
  }
}
