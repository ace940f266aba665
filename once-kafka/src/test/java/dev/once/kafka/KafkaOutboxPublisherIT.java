package dev.once.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.outbox.OutboxMessage;
import dev.once.testkit.EffectChecker;
import dev.once.testkit.servers.TestKafka;
import dev.once.testkit.servers.TestServers;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link KafkaOutboxPublisher} against the test kit's real KRaft broker. */
class KafkaOutboxPublisherIT {

  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  private KafkaOutboxPublisher publisher(Duration timeout) {
    KafkaOutboxPublisher p =
        KafkaOutboxPublisher.builder(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap()))
            .timeout(timeout)
            .build();
    closing.add(p);
    return p;
  }

  private static OutboxMessage message(String topic, String key, String payload) {
    return new OutboxMessage(
        UUID.randomUUID(),
        topic,
        key,
        payload.getBytes(StandardCharsets.UTF_8),
        Map.of("type", "OrderPlaced", "payload", payload));
  }

  @Test
  void aBatchArrivesWithItsIdsKeysHeadersAndEachKeysOrder() throws Exception {
    String topic = "outbox-batch-" + System.nanoTime();
    TestKafka.createTopic(topic, 3);
    long seed = System.nanoTime();
    System.out.println("[once-kafka] outbox batch seed " + seed);
    Random random = new Random(seed);
    List<OutboxMessage> batch = new ArrayList<>();
    Map<String, Integer> nextSeq = new HashMap<>();
    for (int i = 0; i < 200; i++) {
      String key = "order-" + random.nextInt(12);
      int seq = nextSeq.merge(key, 1, Integer::sum);
      batch.add(message(topic, key, key + "#" + seq));
    }

    Map<UUID, Exception> refused = publisher(Duration.ofSeconds(30)).publish(batch);

    assertThat(refused).isEmpty();
    List<ConsumerRecord<byte[], byte[]>> records = readAll(topic, batch.size());
    Map<String, OutboxMessage> byId = new HashMap<>();
    batch.forEach(m -> byId.put(m.id().toString(), m));
    Map<String, Integer> lastSeq = new HashMap<>();
    Map<String, Integer> partitionOfKey = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      String id = KafkaInboxConsumer.messageIdHeader(r);
      OutboxMessage sent = byId.get(id);
      assertThat(sent).as("record with id %s was published", id).isNotNull();
      String key = new String(r.key(), StandardCharsets.UTF_8);
      assertThat(key).isEqualTo(sent.key());
      assertThat(r.value()).isEqualTo(sent.payload());
      assertThat(header(r, "type")).isEqualTo("OrderPlaced");
      assertThat(header(r, "payload"))
          .isEqualTo(new String(sent.payload(), StandardCharsets.UTF_8));
      int seq = Integer.parseInt(header(r, "payload").substring(key.length() + 1));
      assertThat(seq).as("order of key %s", key).isEqualTo(lastSeq.getOrDefault(key, 0) + 1);
      lastSeq.put(key, seq);
      assertThat(partitionOfKey.computeIfAbsent(key, k -> r.partition()))
          .as("one partition per key")
          .isEqualTo(r.partition());
    }
    assertThat(lastSeq).isEqualTo(nextSeq);
  }

  @Test
  void aMessagePublishedTwiceIsAppliedOnceByTheInbox() throws Exception {
    KafkaFixture f = new KafkaFixture(TestServers.postgres(), KafkaFixture.newPrefix(), 3);
    closing.add(f);
    f.execute("CREATE TABLE " + f.prefix + "_effects (msg_id VARCHAR(100) NOT NULL)");
    String topic = "outbox-twice-" + f.prefix;
    TestKafka.createTopic(topic, 2);
    List<OutboxMessage> batch = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      batch.add(message(topic, "order-" + (i % 4), "event-" + i));
    }
    KafkaOutboxPublisher publisher = publisher(Duration.ofSeconds(30));
    assertThat(publisher.publish(batch)).isEmpty();
    // The relay's retry after a lost acknowledgment: the same messages again.
    assertThat(publisher.publish(batch)).isEmpty();

    KafkaInboxConsumer<String, String> inbox =
        KafkaInboxConsumer.builder(
                KafkaFixture.consumer("g-" + f.prefix, Map.of()),
                f.pool,
                f.inbox,
                (connection, r) -> {
                  try (PreparedStatement ps =
                      connection.prepareStatement(
                          "INSERT INTO " + f.prefix + "_effects (msg_id) VALUES (?)")) {
                    ps.setString(1, KafkaInboxConsumer.messageIdHeader(r));
                    ps.executeUpdate();
                  }
                })
            .topics(List.of(topic))
            .offsetsTable(f.offsetsTable())
            .createSchema(true)
            .deadLetters(KafkaFixture.producer())
            .build();
    closing.add(inbox);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              inbox.pollOnce(Duration.ofMillis(200));
              return inbox.stats().applied() + inbox.stats().duplicates() == 2L * batch.size();
            });

    assertThat(inbox.stats().duplicates()).isEqualTo(batch.size());
    EffectChecker.Verdict verdict =
        EffectChecker.check(batch.stream().map(m -> m.id().toString()).toList(), effects(f));
    System.out.println("[once-kafka] outbox published twice: " + verdict);
    verdict.assertExactlyOnce("each outbox message published twice");
  }

  @Test
  void aRecordTooLargeForItsTopicIsRefusedAndTheOthersAcknowledged() throws Exception {
    String topic = "outbox-small-" + System.nanoTime();
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap()))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(topic, 1, (short) 1).configs(Map.of("max.message.bytes", "2048"))))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
    OutboxMessage before = message(topic, "order-1", "small before");
    OutboxMessage big = message(topic, "order-1", "x".repeat(10_000));
    OutboxMessage after = message(topic, "order-2", "small after");

    Map<UUID, Exception> refused =
        publisher(Duration.ofSeconds(30)).publish(List.of(before, big, after));

    assertThat(refused).containsOnlyKeys(big.id());
    assertThat(refused.get(big.id())).isInstanceOf(RecordTooLargeException.class);
    assertThat(readAll(topic, 2))
        .extracting(KafkaInboxConsumer::messageIdHeader)
        .containsExactlyInAnyOrder(before.id().toString(), after.id().toString());
  }

  @Test
  void aMessageToATopicTheBrokerCannotHaveIsRefusedAndTheOthersAcknowledged() throws Exception {
    String topic = "outbox-ok-" + System.nanoTime();
    TestKafka.createTopic(topic, 1);
    // The tests' broker creates unknown topics on first use; a name no topic may have is refused
    // the same way an unknown topic is on a broker that does not create them.
    OutboxMessage first = message(topic, "order-1", "first");
    OutboxMessage nowhere = message("no such topic!", "order-1", "lost?");
    OutboxMessage nowhereToo = message("no such topic!", "order-2", "lost too?");
    OutboxMessage last = message(topic, "order-2", "last");

    Map<UUID, Exception> refused =
        publisher(Duration.ofSeconds(10)).publish(List.of(first, nowhere, nowhereToo, last));

    System.out.println("[once-kafka] refused: " + refused);
    assertThat(refused).containsOnlyKeys(nowhere.id(), nowhereToo.id());
    assertThat(readAll(topic, 2))
        .extracting(KafkaInboxConsumer::messageIdHeader)
        .containsExactly(first.id().toString(), last.id().toString());
  }

  @Test
  void withTheBrokerDownEveryMessageIsRefused() throws Exception {
    int deadPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      deadPort = s.getLocalPort();
    }
    KafkaOutboxPublisher publisher =
        KafkaOutboxPublisher.builder(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + deadPort))
            .timeout(Duration.ofSeconds(2))
            .build();
    closing.add(publisher);
    List<OutboxMessage> batch = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      batch.add(message(i < 5 ? "orders" : "payments", "order-" + i, "event-" + i));
    }

    Map<UUID, Exception> refused = publisher.publish(batch);

    assertThat(refused).containsOnlyKeys(batch.stream().map(OutboxMessage::id).toList());
  }

  private static String header(ConsumerRecord<?, ?> r, String name) {
    Header h = r.headers().lastHeader(name);
    assertThat(h).as("header %s", name).isNotNull();
    return new String(h.value(), StandardCharsets.UTF_8);
  }

  /** Reads the topic from the start until {@code count} records came, and checks no more come. */
  private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int count) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "read-" + UUID.randomUUID());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                return records.size() >= count;
              });
      consumer.poll(Duration.ofMillis(500)).forEach(records::add);
    }
    assertThat(records).as("records on %s", topic).hasSize(count);
    return records;
  }

  private static Map<String, Integer> effects(KafkaFixture f) throws Exception {
    Map<String, Integer> counts = new LinkedHashMap<>();
    try (Connection c = f.pool.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT msg_id, COUNT(*) FROM " + f.prefix + "_effects GROUP BY msg_id")) {
      while (rs.next()) {
        counts.put(rs.getString(1), rs.getInt(2));
      }
    }
    return counts;
  }
}
