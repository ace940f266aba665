package dev.once.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Completion;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.KeyPolicy;
import dev.once.OnceEngine;
import dev.once.OnceListener;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.StoreUnavailableException;
import dev.once.internal.InboxDecisions;
import dev.once.kafka.KafkaInboxConsumer;
import dev.once.kafka.NoIdPolicy;
import dev.once.testkit.ForwardingIdempotencyStore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The lease consumer's decision for one record, on the in-memory store; Kafka's mock producer takes
 * the dead letters.
 */
class LeaseSettlerTest {

  private static final TopicPartition P0 = new TopicPartition("t", 0);
  private static final Duration LEASE = Duration.ofSeconds(30);
  private static final Scope SCOPE = Scope.global("kafka");

  /** The in-memory store, whose calls can be made to fail like a store that went away. */
  static final class SwitchableStore extends ForwardingIdempotencyStore {
    boolean down;

    SwitchableStore() {
      super(IdempotencyStore.inMemory());
    }

    private void check() {
      if (down) {
        throw new StoreUnavailableException("down", name(), SCOPE, null);
      }
    }

    @Override
    public ClaimResult claim(ClaimRequest request) {
      check();
      return super.claim(request);
    }

    @Override
    public List<ClaimResult> claimAll(List<ClaimRequest> requests) {
      check();
      return super.claimAll(requests);
    }

    @Override
    public void complete(IdempotencyKey key, long token, Outcome outcome, Duration retention) {
      check();
      super.complete(key, token, outcome, retention);
    }

    @Override
    public void completeAll(List<Completion> completions) {
      check();
      super.completeAll(completions);
    }

    @Override
    public void release(IdempotencyKey key, long token) {
      check();
      super.release(key, token);
    }

    @Override
    public void renew(IdempotencyKey key, long token, Duration lease) {
      check();
      super.renew(key, token, lease);
    }

    @Override
    public String name() {
      return "switchable";
    }
  }

  private final SwitchableStore store = new SwitchableStore();
  private final MockProducer<String, String> producer =
      new MockProducer<>(true, null, new StringSerializer(), new StringSerializer());
  private final List<String> effects = new ArrayList<>();
  private int failuresToGo;

  /** Ids are the record keys; the fingerprint is the value. */
  private LeaseSettler<String, String> settler(int maxAttempts) {
    return settler(
        maxAttempts,
        (r, held) -> {
          effects.add(r.value());
          if (failuresToGo > 0) {
            failuresToGo--;
            throw new IllegalStateException("the external call failed");
          }
        });
  }

  private LeaseSettler<String, String> settler(
      int maxAttempts, LeaseSettler.Effect<String, String> effect) {
    InboxDecisions.Backoff backoff =
        new InboxDecisions.Backoff(Duration.ofMillis(100), Duration.ofMillis(100));
    return new LeaseSettler<>(
        store,
        OnceEngine.of(OnceListener.NOOP),
        effect,
        new RecordIds<>(ConsumerRecord::key, NoIdPolicy.REJECT, KeyPolicy.defaults(), SCOPE),
        new DeadLetters<>(producer, t -> t + ".DLT", OnceListener.NOOP, "test"),
        r -> Fingerprint.of(r.value()),
        LEASE,
        Duration.ofDays(1),
        maxAttempts,
        backoff,
        backoff,
        System.getLogger(LeaseSettlerTest.class.getName()));
  }

  private static ConsumerRecord<String, String> record(long offset, String id, String value) {
    return new ConsumerRecord<>("t", 0, offset, id, value);
  }

  private static String header(ProducerRecord<String, String> r, String name) {
    return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  @Test
  void aRecordRunsOnceAndItsRedeliveryIsSkipped() {
    LeaseSettler<String, String> settler = settler(3);

    assertThat(settler.settle(P0, record(0, "a", "v"))).isZero();
    assertThat(settler.settle(P0, record(0, "a", "v"))).isZero();
    assertThat(settler.settle(P0, record(1, "a", "v"))).isZero();

    assertThat(effects).containsExactly("v");
    assertThat(settler.applied()).isEqualTo(1);
    assertThat(settler.duplicates()).isEqualTo(2);
  }

  @Test
  void anIdHeldByAnotherDeliveryWaitsNoLongerThanItsLease() {
    LeaseSettler<String, String> settler = settler(3);
    IdempotencyKey key = KeyPolicy.defaults().key(SCOPE, "a");
    store.claim(
        new ClaimRequest(key, Fingerprint.of("v"), Duration.ofMillis(50), Duration.ofDays(1)));

    long wait = settler.settle(P0, record(0, "a", "v"));

    assertThat(wait).isPositive().isLessThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(50));
    assertThat(effects).isEmpty();
    assertThat(settler.waits()).isEqualTo(1);
  }

  @Test
  void aFailingEffectIsRetriedThenDeadLettered() {
    LeaseSettler<String, String> settler = settler(2);
    failuresToGo = 2;

    long wait = settler.settle(P0, record(0, "a", "v"));
    assertThat(wait).as("the retry backoff").isBetween(50_000_000L, 100_000_000L);
    assertThat(settler.retries()).isEqualTo(1);
    assertThat(settler.settle(P0, record(0, "a", "v"))).as("the claim was released").isZero();

    assertThat(effects).containsExactly("v", "v");
    assertThat(producer.history()).hasSize(1);
    assertThat(header(producer.history().get(0), KafkaInboxConsumer.DLT_ATTEMPTS_HEADER))
        .isEqualTo("2");
    assertThat(settler.applied()).isZero();
  }

  @Test
  void aRevokedPartitionsFailuresAreForgotten() {
    LeaseSettler<String, String> settler = settler(2);
    failuresToGo = 2;

    assertThat(settler.settle(P0, record(0, "a", "v"))).isPositive();
    settler.forget(List.of(P0));
    assertThat(settler.settle(P0, record(0, "a", "v"))).as("its first failure again").isPositive();

    assertThat(producer.history()).isEmpty();
  }

  @Test
  void anIdReusedWithAnotherPayloadIsDeadLetteredNeverRun() {
    LeaseSettler<String, String> settler = settler(3);

    settler.settle(P0, record(0, "a", "v1"));
    assertThat(settler.settle(P0, record(1, "a", "v2"))).isZero();

    assertThat(effects).containsExactly("v1");
    assertThat(header(producer.history().get(0), KafkaInboxConsumer.DLT_REASON_HEADER))
        .isEqualTo("message id reused with another payload");
  }

  @Test
  void aRecordWithoutAnIdIsDeadLetteredNeverRun() {
    LeaseSettler<String, String> settler = settler(3);

    assertThat(settler.settle(P0, record(0, null, "v"))).isZero();

    assertThat(effects).isEmpty();
    assertThat(header(producer.history().get(0), KafkaInboxConsumer.DLT_REASON_HEADER))
        .isEqualTo("no message id");
  }

  @Test
  void anEffectWhoseCompletionFailedIsCompletedWithItsOwnTokenNotRunAgain() {
    // The effect runs, then the store goes away before its completion.
    LeaseSettler<String, String> cutting =
        settler(
            3,
            (r, held) -> {
              effects.add(r.value());
              store.down = true;
            });
    ConsumerRecord<String, String> r = record(0, "a", "v");

    assertThat(cutting.settle(P0, r)).as("waits out the outage").isPositive();
    assertThat(cutting.outages()).isEqualTo(1);
    assertThat(cutting.settle(P0, r)).as("still down").isPositive();
    assertThat(cutting.outages()).isEqualTo(2);

    store.down = false;
    assertThat(cutting.settle(P0, r)).isZero();

    assertThat(effects).as("run once").containsExactly("v");
    assertThat(cutting.applied()).isEqualTo(1);
    assertThat(cutting.settle(P0, record(1, "a", "v"))).as("completed: a duplicate").isZero();
    assertThat(cutting.duplicates()).isEqualTo(1);
    assertThat(effects).containsExactly("v");
  }
}
