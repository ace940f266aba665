package dev.once.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.GetResponse;
import dev.once.OnceListener;
import dev.once.jdbc.JdbcInbox;
import dev.once.testkit.servers.TcpProxy;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The consumer in this JVM against the real RabbitMQ and PostgreSQL. */
class RabbitInboxIT {

  private TestBroker broker;
  private TestDb db;
  private final List<RabbitInboxConsumer> consumers = new ArrayList<>();
  private final AtomicInteger settled = new AtomicInteger();
  private final AtomicInteger duplicates = new AtomicInteger();

  /**
   * The handler of the message with this body waits for {@link #gate} once (signalling {@link
   * #entered}).
   */
  private volatile String gatedBody;

  private final CountDownLatch entered = new CountDownLatch(1);
  private final CountDownLatch gate = new CountDownLatch(1);
  private final Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();

  @BeforeEach
  void setUp() throws Exception {
    broker = new TestBroker();
    db = new TestDb();
  }

  /** What the inbox's listener was told: dead letters by reason, duplicates by source. */
  private final Map<String, AtomicInteger> toldCounts = new ConcurrentHashMap<>();

  private final OnceListener told =
      new OnceListener() {
        @Override
        public void inboxDuplicates(String consumer, String source, String store, int count) {
          toldCounts
              .computeIfAbsent(consumer + " " + source + " duplicates", k -> new AtomicInteger())
              .addAndGet(count);
        }

        @Override
        public void deadLettered(String consumer, String source, String reason) {
          toldCounts
              .computeIfAbsent(consumer + " " + source + " " + reason, k -> new AtomicInteger())
              .incrementAndGet();
        }
      };

  @AfterEach
  void tearDown() throws Exception {
    consumers.forEach(RabbitInboxConsumer::close);
    try {
      broker.close();
    } finally {
      db.close();
    }
  }

  private RabbitInboxConsumer start(String queue, int maxAttempts) throws Exception {
    return start(broker.connection(), queue, maxAttempts);
  }

  private RabbitInboxConsumer start(
      com.rabbitmq.client.Connection connection, String queue, int maxAttempts) throws Exception {
    JdbcInbox inbox =
        JdbcInbox.builder(db.pool, db.store()).consumer("rabbit-it").listener(told).build();
    RabbitInboxConsumer consumer =
        RabbitInboxConsumer.builder(connection, queue, inbox)
            .handler(
                (c, d) -> {
                  String body = new String(d.getBody(), StandardCharsets.UTF_8);
                  handled.computeIfAbsent(body, k -> new AtomicInteger()).incrementAndGet();
                  if (body.equals(gatedBody) && entered.getCount() > 0) {
                    entered.countDown();
                    assertThat(gate.await(60, TimeUnit.SECONDS)).isTrue();
                  }
                  if (body.startsWith("poison")) {
                    throw new IllegalStateException("cannot apply " + body);
                  }
                  TestDb.log(c, db.effects(), RabbitInboxConsumer.amqpMessageId(d), body);
                })
            .prefetch(100)
            .batchSize(40)
            .linger(Duration.ofMillis(10))
            .maxAttempts(maxAttempts)
            .onBatch(
                b -> {
                  duplicates.addAndGet(b.duplicates().size());
                  settled.addAndGet(b.applied().size() + b.duplicates().size());
                })
            .build();
    consumers.add(consumer);
    consumer.start();
    return consumer;
  }

  @Test
  void thirtyPercentRepeatedMessageIdsAreEachAppliedOnce() throws Exception {
    String queue = broker.queueWithDeadLetters("once-dup");
    long seed = System.nanoTime();
    System.out.println("[once-rabbitmq] duplicates seed " + seed);
    Random random = new Random(seed);
    List<String> ids = new ArrayList<>();
    int messages = 300;
    for (int i = 0; i < messages; i++) {
      String id =
          !ids.isEmpty() && random.nextInt(100) < 30
              ? ids.get(random.nextInt(ids.size()))
              : "m-" + i;
      ids.add(id);
      broker.publish(queue, id, "effect " + id);
    }
    Set<String> distinct = new LinkedHashSet<>(ids);
    RabbitInboxConsumer consumer = start(queue, 5);

    await().atMost(Duration.ofSeconds(60)).until(() -> settled.get() == messages);
    consumer.close();

    Map<String, Integer> counts = db.effectCounts();
    assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(distinct);
    assertThat(counts.values()).allMatch(n -> n == 1);
    assertThat(broker.ready(queue)).as("every delivery acknowledged").isZero();
    assertThat(broker.ready(queue + ".dlq")).isZero();
    assertThat(toldCounts.get("rabbit-it rabbitmq:" + queue + " duplicates"))
        .as("the duplicates the listener heard")
        .hasValue(duplicates.get());
    System.out.println(
        "[once-rabbitmq] "
            + messages
            + " deliveries, "
            + distinct.size()
            + " distinct ids, each applied once");
  }

  @Test
  void aFailingHandlerIsRetriedThenDeadLetteredWhileTheOthersAreApplied() throws Exception {
    String queue = broker.queueWithDeadLetters("once-poison");
    for (int i = 0; i < 20; i++) {
      broker.publish(queue, "m-" + i, i == 7 ? "poison m-7" : "effect m-" + i);
    }
    start(queue, 3);

    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> broker.ready(queue + ".dlq") == 1 && db.effectRows() == 19);

    GetResponse dead = broker.get(queue + ".dlq");
    assertThat(dead.getProps().getMessageId()).isEqualTo("m-7");
    assertThat(handled.get("poison m-7")).as("attempts of the poison message").hasValue(3);
    Map<String, Integer> counts = db.effectCounts();
    assertThat(counts).hasSize(19).doesNotContainKey("m-7");
    assertThat(counts.values()).allMatch(n -> n == 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> settled.get() == 19);
    assertThat(broker.ready(queue)).isZero();
    assertThat(toldCounts).containsOnlyKeys("rabbit-it rabbitmq:" + queue + " failed");
    assertThat(toldCounts.get("rabbit-it rabbitmq:" + queue + " failed")).hasValue(1);
  }

  @Test
  void aMessageWithoutIdIsDeadLetteredWithoutRunningTheHandler() throws Exception {
    String queue = broker.queueWithDeadLetters("once-noid");
    broker.publish(queue, null, "no id");
    broker.publish(queue, "  ", "blank id");
    broker.publish(queue, "m-1", "effect m-1");
    start(queue, 5);

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> broker.ready(queue + ".dlq") == 2 && db.effectRows() == 1);
    assertThat(handled).containsOnlyKeys("effect m-1");
    assertThat(broker.ready(queue)).isZero();
    assertThat(toldCounts).containsOnlyKeys("rabbit-it rabbitmq:" + queue + " rejected");
    assertThat(toldCounts.get("rabbit-it rabbitmq:" + queue + " rejected")).hasValue(2);
  }

  @Test
  void aBrokerConnectionLostMidStreamRecoversAndRedeliveriesAreSkipped() throws Exception {
    String queue = broker.queueWithDeadLetters("once-outage");
    URI uri = URI.create(TestBroker.uri());
    try (TcpProxy proxy = TcpProxy.start(uri.getHost(), uri.getPort() < 0 ? 5672 : uri.getPort())) {
      ConnectionFactory viaProxy = TestBroker.factory(TestBroker.uri());
      viaProxy.setHost("127.0.0.1");
      viaProxy.setPort(proxy.port());
      com.rabbitmq.client.Connection connection = viaProxy.newConnection("once-rabbitmq-outage");
      try {
        for (int i = 0; i < 200; i++) {
          broker.publish(queue, "m-" + i, "effect m-" + i);
        }
        gatedBody = "effect m-50";
        RabbitInboxConsumer consumer = start(connection, queue, 5);
        assertThat(entered.await(60, TimeUnit.SECONDS))
            .as("the batch holding m-50 is in its transaction")
            .isTrue();

        proxy.cut(); // every unacked delivery goes back to the queue
        await().atMost(Duration.ofSeconds(30)).until(() -> !connection.isOpen());
        gate.countDown(); // that batch commits; its ack cannot reach the broker
        for (int i = 200; i < 300; i++) {
          broker.publish(queue, "m-" + i, "effect m-" + i);
        }
        proxy.restore(); // automatic recovery re-creates channel and consumer

        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> db.effectRows() >= 300 && broker.ready(queue) == 0);
        consumer.close();
        Map<String, Integer> counts = db.effectCounts();
        assertThat(counts).hasSize(300);
        assertThat(counts.values()).allMatch(n -> n == 1);
        assertThat(broker.ready(queue)).as("every delivery acknowledged after recovery").isZero();
        assertThat(handled.get("effect m-50")).as("m-50's handler runs once").hasValue(1);
        assertThat(duplicates.get())
            .as("the committed, unacknowledged batch came back and was skipped")
            .isPositive();
        System.out.println(
            "[once-rabbitmq] outage: "
                + proxy.acceptedConnections()
                + " proxied connections, "
                + settled.get()
                + " deliveries settled for 300 ids, "
                + duplicates.get()
                + " redelivered duplicates skipped");
      } finally {
        connection.abort();
      }
    }
  }

  @Test
  void startingOnAMissingQueueFailsAndLeavesTheConnectionUsable() throws Exception {
    assertThatThrownBy(() -> start("once-missing-" + System.nanoTime(), 5))
        .isInstanceOf(IOException.class);
    assertThat(broker.connection().isOpen()).isTrue();
    String queue = broker.queueWithDeadLetters("once-after-missing");
    broker.publish(queue, "m-1", "effect m-1");
    start(queue, 5);
    await().atMost(Duration.ofSeconds(30)).until(() -> db.effectRows() == 1);
  }

  static String body(Delivery d) {
    return new String(d.getBody(), StandardCharsets.UTF_8);
  }
}
