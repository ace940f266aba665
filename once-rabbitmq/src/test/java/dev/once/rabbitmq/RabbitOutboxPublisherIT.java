package dev.once.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.once.jdbc.JdbcInbox;
import dev.once.outbox.OutboxMessage;
import dev.once.testkit.EffectChecker;
import dev.once.testkit.servers.TcpProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link RabbitOutboxPublisher} against the real RabbitMQ, in the tests' vhost. */
class RabbitOutboxPublisherIT {

  private TestBroker broker;
  private final List<AutoCloseable> closing = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    broker = new TestBroker();
  }

  @AfterEach
  void tearDown() throws Exception {
    try {
      for (int i = closing.size() - 1; i >= 0; i--) {
        closing.get(i).close();
      }
    } finally {
      broker.close();
    }
  }

  private RabbitOutboxPublisher publisher(ConnectionFactory factory, Duration timeout) {
    RabbitOutboxPublisher p = RabbitOutboxPublisher.builder(factory).timeout(timeout).build();
    closing.add(p);
    return p;
  }

  private RabbitOutboxPublisher publisher() throws Exception {
    return publisher(TestBroker.factory(TestBroker.uri()), Duration.ofSeconds(30));
  }

  private static OutboxMessage message(String exchange, String key, String payload) {
    return new OutboxMessage(
        UUID.randomUUID(),
        exchange,
        key,
        payload.getBytes(StandardCharsets.UTF_8),
        Map.of("type", "OrderPlaced", "payload", payload));
  }

  @Test
  void aBatchArrivesWithItsIdsKeysHeadersAndEachKeysOrder() throws Exception {
    String exchange = broker.exchangeWithQueue("outbox-batch", BuiltinExchangeType.TOPIC, "#");
    long seed = System.nanoTime();
    System.out.println("[once-rabbitmq] outbox batch seed " + seed);
    Random random = new Random(seed);
    List<OutboxMessage> batch = new ArrayList<>();
    Map<String, Integer> nextSeq = new HashMap<>();
    for (int i = 0; i < 200; i++) {
      String key = "order." + random.nextInt(12);
      int seq = nextSeq.merge(key, 1, Integer::sum);
      batch.add(message(exchange, key, key + "#" + seq));
    }

    Map<UUID, Exception> refused = publisher().publish(batch);

    assertThat(refused).isEmpty();
    Map<String, OutboxMessage> byId = new HashMap<>();
    batch.forEach(m -> byId.put(m.id().toString(), m));
    Map<String, Integer> lastSeq = new HashMap<>();
    List<GetResponse> got = drain(exchange + ".q");
    assertThat(got).hasSize(batch.size());
    for (GetResponse r : got) {
      OutboxMessage sent = byId.get(r.getProps().getMessageId());
      assertThat(sent).as("message %s was published", r.getProps().getMessageId()).isNotNull();
      String key = r.getEnvelope().getRoutingKey();
      assertThat(key).isEqualTo(sent.key());
      assertThat(r.getBody()).isEqualTo(sent.payload());
      assertThat(r.getProps().getDeliveryMode()).as("persistent").isEqualTo(2);
      assertThat(String.valueOf(r.getProps().getHeaders().get("type"))).isEqualTo("OrderPlaced");
      String payload = String.valueOf(r.getProps().getHeaders().get("payload"));
      assertThat(payload).isEqualTo(new String(sent.payload(), StandardCharsets.UTF_8));
      int seq = Integer.parseInt(payload.substring(key.length() + 1));
      assertThat(seq).as("order of key %s", key).isEqualTo(lastSeq.getOrDefault(key, 0) + 1);
      lastSeq.put(key, seq);
    }
    assertThat(lastSeq).isEqualTo(nextSeq);
  }

  @Test
  void aMessagePublishedTwiceIsAppliedOnceByTheInbox() throws Exception {
    TestDb db = new TestDb();
    closing.add(db);
    String exchange = broker.exchangeWithQueue("outbox-twice", BuiltinExchangeType.TOPIC, "#");
    List<OutboxMessage> batch = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      batch.add(message(exchange, "order." + (i % 4), "event-" + i));
    }
    RabbitOutboxPublisher publisher = publisher();
    assertThat(publisher.publish(batch)).isEmpty();
    // The relay's retry after a lost confirm: the same messages again.
    assertThat(publisher.publish(batch)).isEmpty();

    AtomicLong applied = new AtomicLong();
    AtomicLong duplicates = new AtomicLong();
    JdbcInbox inbox = JdbcInbox.builder(db.pool, db.store()).consumer("payments").build();
    RabbitInboxConsumer consumer =
        RabbitInboxConsumer.builder(broker.connection(), exchange + ".q", inbox)
            .handler(
                (c, d) ->
                    TestDb.log(
                        c,
                        db.effects(),
                        RabbitInboxConsumer.amqpMessageId(d),
                        new String(d.getBody(), StandardCharsets.UTF_8)))
            .onBatch(
                b -> {
                  applied.addAndGet(b.applied().size());
                  duplicates.addAndGet(b.duplicates().size());
                })
            .build();
    closing.add(consumer);
    consumer.start();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> applied.get() + duplicates.get() == 2L * batch.size());

    assertThat(duplicates.get()).isEqualTo(batch.size());
    EffectChecker.Verdict verdict =
        EffectChecker.check(batch.stream().map(m -> m.id().toString()).toList(), db.effectCounts());
    System.out.println("[once-rabbitmq] outbox published twice: " + verdict);
    verdict.assertExactlyOnce("each outbox message published twice");
  }

  @Test
  void unroutableMessagesAndMissingExchangesAreRefusedAndTheOthersAcknowledged() throws Exception {
    String exchange =
        broker.exchangeWithQueue("outbox-refuse", BuiltinExchangeType.DIRECT, "orders");
    String missing = "outbox-missing-" + UUID.randomUUID();
    OutboxMessage first = message(exchange, "orders", "first");
    OutboxMessage unroutable = message(exchange, "nobody-listens", "dropped?");
    OutboxMessage toMissing = message(missing, "orders", "nowhere?");
    OutboxMessage middle = message(exchange, "orders", "middle");
    OutboxMessage toMissingToo = message(missing, "orders", "nowhere too?");
    OutboxMessage last = message(exchange, "orders", "last");

    RabbitOutboxPublisher publisher = publisher();
    Map<UUID, Exception> refused =
        publisher.publish(List.of(first, unroutable, toMissing, middle, toMissingToo, last));

    System.out.println("[once-rabbitmq] refused: " + refused);
    assertThat(refused).containsOnlyKeys(unroutable.id(), toMissing.id(), toMissingToo.id());
    assertThat(refused.get(unroutable.id())).hasMessageContaining("unroutable");
    assertThat(refused.get(toMissing.id())).hasMessageContaining("does not exist");
    assertThat(drain(exchange + ".q"))
        .extracting(r -> r.getProps().getMessageId())
        .containsExactly(first.id().toString(), middle.id().toString(), last.id().toString());

    // The refusals left the publisher's channel usable.
    OutboxMessage next = message(exchange, "orders", "next");
    assertThat(publisher.publish(List.of(next))).isEmpty();
    assertThat(drain(exchange + ".q"))
        .extracting(r -> r.getProps().getMessageId())
        .containsExactly(next.id().toString());
  }

  @Test
  void withTheBrokerUnreachablePublishFailsAndAfterwardsReconnects() throws Exception {
    String exchange = broker.exchangeWithQueue("outbox-down", BuiltinExchangeType.TOPIC, "#");
    ConnectionFactory direct = TestBroker.factory(TestBroker.uri());
    try (TcpProxy proxy = TcpProxy.start(direct.getHost(), direct.getPort())) {
      ConnectionFactory viaProxy = TestBroker.factory(TestBroker.uri());
      viaProxy.setPort(proxy.port());
      viaProxy.setConnectionTimeout(2000);
      viaProxy.setHandshakeTimeout(2000);
      RabbitOutboxPublisher publisher = publisher(viaProxy, Duration.ofSeconds(5));
      OutboxMessage before = message(exchange, "order.1", "before");
      assertThat(publisher.publish(List.of(before))).isEmpty();

      proxy.cut();
      List<OutboxMessage> whileDown =
          List.of(message(exchange, "order.1", "down 1"), message(exchange, "order.2", "down 2"));
      Map<UUID, Exception> refused;
      try {
        refused = publisher.publish(whileDown);
      } catch (IllegalStateException e) {
        refused = null;
        assertThat(e).hasMessageContaining("cannot reach RabbitMQ");
      }
      if (refused != null) {
        // The cut reached the open connection after the publish began: every message refused.
        assertThat(refused).containsOnlyKeys(whileDown.stream().map(OutboxMessage::id).toList());
      }
      assertThatThrownBy(() -> publisher.publish(whileDown))
          .as("once the connection is known lost, a publish cannot connect")
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("cannot reach RabbitMQ");

      proxy.restore();
      assertThat(publisher.publish(whileDown)).as("reconnected").isEmpty();
      assertThat(drain(exchange + ".q"))
          .extracting(r -> r.getProps().getMessageId())
          .containsExactly(
              before.id().toString(),
              whileDown.get(0).id().toString(),
              whileDown.get(1).id().toString());
    }
  }

  @Test
  void aConnectionCutMidBatchReportsNothingAcknowledgedThatTheBrokerDidNotTake() throws Exception {
    String exchange = broker.exchangeWithQueue("outbox-cut", BuiltinExchangeType.TOPIC, "#");
    ConnectionFactory direct = TestBroker.factory(TestBroker.uri());
    try (TcpProxy proxy = TcpProxy.start(direct.getHost(), direct.getPort())) {
      ConnectionFactory viaProxy = TestBroker.factory(TestBroker.uri());
      viaProxy.setPort(proxy.port());
      RabbitOutboxPublisher publisher = publisher(viaProxy, Duration.ofSeconds(10));
      assertThat(publisher.publish(List.of(message(exchange, "warm", "up")))).isEmpty();
      drain(exchange + ".q");
      List<OutboxMessage> batch = new ArrayList<>();
      for (int i = 0; i < 20_000; i++) {
        batch.add(message(exchange, "order." + (i % 50), "event-" + i + "-" + "x".repeat(200)));
      }

      CompletableFuture<Map<UUID, Exception>> publishing =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return publisher.publish(batch);
                } catch (InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              });
      await()
          .atMost(Duration.ofSeconds(30))
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(1))
          .until(() -> publishing.isDone() || broker.ready(exchange + ".q") > 0);
      proxy.cut();
      Map<UUID, Exception> refused;
      try {
        refused = publishing.get(30, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        refused = null; // thrown: the whole batch counts as not acknowledged
      }
      Set<String> queued = new HashSet<>();
      drain(exchange + ".q").forEach(r -> queued.add(r.getProps().getMessageId()));
      List<String> acknowledged = new ArrayList<>();
      if (refused != null) {
        for (OutboxMessage m : batch) {
          if (!refused.containsKey(m.id())) {
            acknowledged.add(m.id().toString());
          }
        }
      }
      System.out.println(
          "[once-rabbitmq] cut mid-batch: "
              + acknowledged.size()
              + " reported acknowledged, "
              + (refused == null ? "publish threw" : refused.size() + " refused")
              + ", "
              + queued.size()
              + " in the queue");
      assertThat(publishing.isDone()).isTrue();
      assertThat(queued)
          .as("every message reported acknowledged is queued")
          .containsAll(acknowledged);
      assertThat(acknowledged.size())
          .as("the cut landed before the batch was confirmed")
          .isLessThan(batch.size());
    }
  }

  /** Takes every ready message of the queue, in queue order. */
  private List<GetResponse> drain(String queue) throws Exception {
    List<GetResponse> got = new ArrayList<>();
    for (GetResponse r; (r = broker.get(queue)) != null; ) {
      got.add(r);
    }
    return got;
  }
}
