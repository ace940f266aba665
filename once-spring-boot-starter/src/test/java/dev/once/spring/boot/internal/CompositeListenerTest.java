package dev.once.spring.boot.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.IdempotencyKey;
import dev.once.LeaseLostException;
import dev.once.OnceException;
import dev.once.OnceListener;
import dev.once.Scope;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CompositeListenerTest {

  private static final Scope SCOPE = Scope.of("alice", "POST /payments");

  @Test
  void aFailedRenewalReachesEveryListenerEvenAfterOneThrows() {
    List<String> heard = new ArrayList<>();
    OnceListener throwing =
        new OnceListener() {
          @Override
          public void renewalFailed(Scope scope, String store, OnceException failure) {
            throw new IllegalStateException("metrics backend down");
          }
        };
    OnceListener recording =
        new OnceListener() {
          @Override
          public void renewalFailed(Scope scope, String store, OnceException failure) {
            heard.add(store + " " + failure.getClass().getSimpleName());
          }

          @Override
          public void leaseLost(Scope scope, String store) {
            heard.add(store + " lease lost");
          }
        };
    OnceListener composite = new CompositeListener(List.of(throwing, recording));

    composite.renewalFailed(SCOPE, "redis", new LeaseLostException(SCOPE, "redis", 7, "renew"));
    composite.leaseLost(SCOPE, "redis");

    assertThat(heard).containsExactly("redis LeaseLostException", "redis lease lost");
  }

  @Test
  void aTakeoverReachesEveryListenerInBothForms() {
    List<String> heard = new ArrayList<>();
    OnceListener byScope =
        new OnceListener() {
          @Override
          public void leaseTakenOver(Scope scope, String store) {
            heard.add("scope " + scope.operation() + " " + store);
          }
        };
    OnceListener byKey =
        new OnceListener() {
          @Override
          public void leaseTakenOver(IdempotencyKey key, String store) {
            heard.add("key " + key.digestHex() + " " + store);
          }
        };
    IdempotencyKey key = IdempotencyKey.of(SCOPE, "k-1");

    new CompositeListener(List.of(byScope, byKey)).leaseTakenOver(key, "redis");

    assertThat(heard)
        .containsExactly("scope POST /payments redis", "key " + key.digestHex() + " redis");
  }

  @Test
  void ofGivesNoopForNoBeanTheBeanForOneAndACompositeTellingEachInOrderForMore() {
    List<String> heard = new ArrayList<>();
    OnceListener first = recordingDuplicates("first", heard);
    OnceListener second = recordingDuplicates("second", heard);

    assertThat(CompositeListener.of(List.of())).isSameAs(OnceListener.NOOP);
    assertThat(CompositeListener.of(List.of(first))).isSameAs(first);
    CompositeListener.of(List.of(first, second))
        .inboxDuplicates("kafka:ledger", "kafka:ledger/payments", "postgresql", 3);

    assertThat(heard)
        .containsExactly(
            "first kafka:ledger kafka:ledger/payments postgresql 3",
            "second kafka:ledger kafka:ledger/payments postgresql 3");
  }

  private static OnceListener recordingDuplicates(String name, List<String> heard) {
    return new OnceListener() {
      @Override
      public void inboxDuplicates(String consumer, String source, String store, int count) {
        heard.add(name + " " + consumer + " " + source + " " + store + " " + count);
      }
    };
  }
}
