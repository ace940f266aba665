package dev.once.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.testkit.servers.TestKafka;
import dev.once.testkit.servers.TestServers;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Kafka inbox against a real KRaft broker and a real PostgreSQL. */
class KafkaInboxConsumerIT {

  private KafkaFixture f;
  private KafkaProducer<String, String> producer;
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @BeforeEach
  void setUp() throws Exception {
    f = new KafkaFixture(TestServers.postgres(), KafkaFixture.newPrefix(), 4);
    f.execute(
        "CREATE TABLE "
            + f.prefix
            + "_effects (msg_id VARCHAR(100) NOT NULL, payload VARCHAR(100) NOT NULL)");
    producer = KafkaFixture.producer();
  }

  @AfterEach
  void tearDown() throws Exception {
    System.clearProperty(Failpoints.PROPERTY);
    threads.shutdownNow();
    producer.close();
    f.close();
  }

  private KafkaInboxConsumer.Builder<String, String> inbox(
      KafkaConsumer<String, String> consumer, String topic) {
    return KafkaInboxConsumer.builder(
            consumer,
            f.pool,
            f.inbox,
            (connection, r) -> {
              if (r.value().startsWith("poison")) {
                throw new IllegalArgumentException("cannot apply " + r.value());
              }
              try (PreparedStatement ps =
                  connection.prepareStatement(
                      "INSERT INTO " + f.prefix + "_effects (msg_id, payload) VALUES (?, ?)")) {
                ps.setString(1, KafkaInboxConsumer.messageIdHeader(r));
                ps.setString(2, r.value());
                ps.executeUpdate();
              }
            })
        .topics(List.of(topic))
        .deadLetters(producer)
        .offsetsTable(f.offsetsTable())
        .createSchema(true);
  }

  private long duplicatedIds() throws Exception {
    return f.queryLong(
        "SELECT COUNT(*) FROM (SELECT msg_id FROM "
            + f.prefix
            + "_effects GROUP BY msg_id"
            + " HAVING COUNT(*) > 1) d");
  }

  @Test
  void duplicatesInjectedByTheProducerAreAppliedOnce() throws Exception {
    String topic = "dups-" + f.prefix;
    TestKafka.createTopic(topic, 3);
    Random random = new Random(7);
    int distinct = 0;
    int sent = 300;
    for (int i = 0; i < sent; i++) {
      boolean duplicate = distinct > 0 && random.nextInt(100) < 30;
      int n = duplicate ? random.nextInt(distinct) : distinct++;
      producer.send(KafkaFixture.message(topic, "key-" + n, "msg-" + n, "payload-" + n)).get();
    }
    KafkaInboxConsumer<String, String> inbox =
        inbox(KafkaFixture.consumer("g-" + f.prefix, Map.of()), topic).build();
    Future<?> running = threads.submit(inbox::run);
    int expected = distinct;
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> assertThat(inbox.stats().applied() + inbox.stats().duplicates()).isEqualTo(sent));
    inbox.close();
    running.get();

    System.out.println(
        "[once-kafka] " + sent + " records, " + expected + " distinct ids: " + inbox.stats());
    assertThat(f.queryLong("SELECT COUNT(*) FROM " + f.prefix + "_effects")).isEqualTo(expected);
    assertThat(duplicatedIds()).isZero();
    assertThat(inbox.stats().applied()).isEqualTo(expected);
    assertThat(f.queryLong("SELECT SUM(next_offset) FROM " + f.offsetsTable()))
        .as("offsets stored with the effects")
        .isEqualTo(sent);
  }

  @Test
  void poisonAndIdLessRecordsAreDeadLetteredWithTheReasonAndTheRestOfThePartitionIsApplied()
      throws Exception {
    String topic = "poison-" + f.prefix;
    TestKafka.createTopic(topic, 1);
    TestKafka.createTopic(topic + ".DLT", 1);
    producer.send(KafkaFixture.message(topic, "k", "m-1", "ok-1")).get();
    producer.send(KafkaFixture.message(topic, "k", "m-2", "poison-2")).get();
    producer.send(KafkaFixture.message(topic, "k", null, "no-id-3")).get();
    producer.send(KafkaFixture.message(topic, "k", "m-4", "ok-4")).get();
    producer.send(KafkaFixture.message(topic, "k", "x".repeat(300), "too-long-id-5")).get();
    producer.send(KafkaFixture.message(topic, "k", "m-6", "ok-6")).get();

    KafkaInboxConsumer<String, String> inbox =
        inbox(KafkaFixture.consumer("g-" + f.prefix, Map.of()), topic)
            .retry(3, Duration.ofMillis(1), Duration.ofMillis(20))
            .build();
    Future<?> running = threads.submit(inbox::run);
    List<ConsumerRecord<String, String>> dead = new CopyOnWriteArrayList<>();
    try (KafkaConsumer<String, String> dlt = KafkaFixture.consumer("dlt-" + f.prefix, Map.of())) {
      dlt.subscribe(List.of(topic + ".DLT"));
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                dlt.poll(Duration.ofMillis(200)).forEach(dead::add);
                assertThat(dead).hasSize(3);
                assertThat(f.queryLong("SELECT COUNT(*) FROM " + f.prefix + "_effects"))
                    .isEqualTo(3);
              });
    }
    inbox.close();
    running.get();

    assertThat(
            f.queryLong(
                "SELECT COUNT(*) FROM "
                    + f.prefix
                    + "_effects WHERE payload IN ('ok-1', 'ok-4', 'ok-6')"))
        .isEqualTo(3);
    ConsumerRecord<String, String> poison =
        dead.stream().filter(r -> r.value().equals("poison-2")).findFirst().orElseThrow();
    assertThat(header(poison, KafkaInboxConsumer.DLT_REASON_HEADER))
        .startsWith("handler failed 3 times")
        .contains("cannot apply poison-2");
    assertThat(header(poison, KafkaInboxConsumer.DLT_EXCEPTION_HEADER))
        .isEqualTo(IllegalArgumentException.class.getName());
    assertThat(header(poison, KafkaInboxConsumer.DLT_TOPIC_HEADER)).isEqualTo(topic);
    assertThat(header(poison, KafkaInboxConsumer.DLT_OFFSET_HEADER)).isEqualTo("1");
    assertThat(header(poison, KafkaInboxConsumer.DLT_ATTEMPTS_HEADER)).isEqualTo("3");
    assertThat(header(poison, KafkaInboxConsumer.MESSAGE_ID_HEADER))
        .as("original headers kept")
        .isEqualTo("m-2");
    ConsumerRecord<String, String> noId =
        dead.stream().filter(r -> r.value().equals("no-id-3")).findFirst().orElseThrow();
    assertThat(header(noId, KafkaInboxConsumer.DLT_REASON_HEADER)).isEqualTo("no message id");
    assertThat(f.deadLettered)
        .as("what the inbox's listener was told")
        .containsExactlyInAnyOrder(
            "kafka-it kafka:" + topic + " failed",
            "kafka-it kafka:" + topic + " rejected",
            "kafka-it kafka:" + topic + " rejected");
    ConsumerRecord<String, String> invalid =
        dead.stream().filter(r -> r.value().equals("too-long-id-5")).findFirst().orElseThrow();
    assertThat(header(invalid, KafkaInboxConsumer.DLT_REASON_HEADER))
        .startsWith("invalid message id: ");
    assertThat(inbox.stats().deadLettered()).isEqualTo(3);
    assertThat(inbox.stats().retries()).isGreaterThanOrEqualTo(2);
    assertThat(f.queryLong("SELECT next_offset FROM " + f.offsetsTable())).isEqualTo(6);
  }

  /** The effect as one JDBC batch per poll: how a batch handler is meant to be written. */
  private KafkaInboxConsumer.Builder<String, String> batchInbox(
      KafkaConsumer<String, String> consumer, String topic, List<Integer> callSizes) {
    return KafkaInboxConsumer.<String, String>batchBuilder(
            consumer,
            f.pool,
            f.inbox,
            (connection, fresh) -> {
              callSizes.add(fresh.size());
              try (PreparedStatement ps =
                  connection.prepareStatement(
                      "INSERT INTO " + f.prefix + "_effects (msg_id, payload) VALUES (?, ?)")) {
                for (ConsumerRecord<String, String> r : fresh) {
                  if (r.value().startsWith("poison")) {
                    throw new IllegalArgumentException("cannot apply " + r.value());
                  }
                  ps.setString(1, KafkaInboxConsumer.messageIdHeader(r));
                  ps.setString(2, r.value());
                  ps.addBatch();
                }
                ps.executeBatch();
              }
            })
        .topics(List.of(topic))
        .deadLetters(producer)
        .offsetsTable(f.offsetsTable())
        .createSchema(true);
  }

  @Test
  void aBatchHandlerAppliesEachPollsFreshRecordsOnceInOneCall() throws Exception {
    String topic = "batch-dups-" + f.prefix;
    TestKafka.createTopic(topic, 3);
    Random random = new Random(11);
    int distinct = 0;
    int sent = 400;
    for (int i = 0; i < sent; i++) {
      boolean duplicate = distinct > 0 && random.nextInt(100) < 30;
      int n = duplicate ? random.nextInt(distinct) : distinct++;
      producer.send(KafkaFixture.message(topic, "key-" + n, "msg-" + n, "payload-" + n));
    }
    producer.flush();
    List<Integer> calls = new CopyOnWriteArrayList<>();
    KafkaInboxConsumer<String, String> inbox =
        batchInbox(KafkaFixture.consumer("g-" + f.prefix, Map.of()), topic, calls).build();
    Future<?> running = threads.submit(inbox::run);
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> assertThat(inbox.stats().applied() + inbox.stats().duplicates()).isEqualTo(sent));
    inbox.close();
    running.get();

    System.out.println(
        "[once-kafka] batch handler: "
            + sent
            + " records, "
            + distinct
            + " distinct ids, "
            + calls.size()
            + " calls: "
            + inbox.stats());
    assertThat(f.queryLong("SELECT COUNT(*) FROM " + f.prefix + "_effects")).isEqualTo(distinct);
    assertThat(duplicatedIds()).isZero();
    assertThat(calls.stream().mapToInt(Integer::intValue).sum())
        .as("records handed to the batch handler")
        .isEqualTo(distinct);
    assertThat(calls).as("no call without fresh records").allMatch(n -> n > 0);
    assertThat(calls.size()).as("calls, fewer than records").isLessThan(distinct);
    assertThat(f.queryLong("SELECT SUM(next_offset) FROM " + f.offsetsTable())).isEqualTo(sent);
  }

  @Test
  void aBatchThatKeepsFailingIsIsolatedAndOnlyItsPoisonRecordIsDeadLettered() throws Exception {
    String topic = "batch-poison-" + f.prefix;
    TestKafka.createTopic(topic, 1);
    TestKafka.createTopic(topic + ".DLT", 1);
    for (int i = 1; i <= 9; i++) {
      producer.send(KafkaFixture.message(topic, "k", "m-" + i, (i == 5 ? "poison-" : "ok-") + i));
    }
    producer.flush();
    List<Integer> calls = new CopyOnWriteArrayList<>();
    KafkaInboxConsumer<String, String> inbox =
        batchInbox(KafkaFixture.consumer("g-" + f.prefix, Map.of()), topic, calls)
            .retry(2, Duration.ofMillis(1), Duration.ofMillis(20))
            .build();
    Future<?> running = threads.submit(inbox::run);
    List<ConsumerRecord<String, String>> dead = new CopyOnWriteArrayList<>();
    try (KafkaConsumer<String, String> dlt = KafkaFixture.consumer("dlt-" + f.prefix, Map.of())) {
      dlt.subscribe(List.of(topic + ".DLT"));
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                dlt.poll(Duration.ofMillis(200)).forEach(dead::add);
                assertThat(dead).hasSize(1);
                assertThat(f.queryLong("SELECT COUNT(*) FROM " + f.prefix + "_effects"))
                    .isEqualTo(8);
                assertThat(f.queryLong("SELECT MAX(next_offset) FROM " + f.offsetsTable()))
                    .isEqualTo(9);
              });
    }
    inbox.close();
    running.get();

    assertThat(dead.get(0).value()).isEqualTo("poison-5");
    assertThat(header(dead.get(0), KafkaInboxConsumer.DLT_REASON_HEADER))
        .startsWith("handler failed 2 times")
        .contains("cannot apply poison-5");
    assertThat(
            f.queryLong(
                "SELECT COUNT(*) FROM " + f.prefix + "_effects WHERE payload LIKE 'poison%'"))
        .isZero();
    assertThat(duplicatedIds()).isZero();
    assertThat(inbox.stats().deadLettered()).isEqualTo(1);
    assertThat(inbox.stats().applied()).isEqualTo(8);
  }

  private static String header(ConsumerRecord<?, ?> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  /**
   * The batch commits in the database, then the consumer dies before committing its offsets to
   * Kafka. The next consumer of the group gets the records again: with the offsets in the database
   * it seeks past them; with Kafka's offsets alone the claim markers skip them. Either way nothing
   * is applied twice.
   */
  @ParameterizedTest(name = "offsets in the database: {0}")
  @ValueSource(booleans = {true, false})
  void aRedeliveryAfterACrashBeforeTheOffsetCommitIsSkipped(boolean offsetsInDatabase)
      throws Exception {
    String topic = "crash-" + f.prefix;
    TestKafka.createTopic(topic, 1);
    for (int i = 0; i < 10; i++) {
      producer.send(KafkaFixture.message(topic, "k", "c-" + i, "v-" + i)).get();
    }
    String group = "g-" + f.prefix;
    System.setProperty(
        Failpoints.PROPERTY, Failpoints.AFTER_COMMIT_BEFORE_OFFSET_COMMIT + ":throw");
    KafkaInboxConsumer<String, String> first =
        inbox(KafkaFixture.consumer(group, Map.of()), topic)
            .offsetsInDatabase(offsetsInDatabase)
            .build();
    List<Throwable> crash = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              try {
                first.pollOnce(Duration.ofMillis(200));
                return false;
              } catch (Failpoints.FailpointException e) {
                crash.add(e);
                return true;
              }
            });
    System.clearProperty(Failpoints.PROPERTY);
    first.close();
    assertThat(first.stats().applied()).isEqualTo(10);
    assertThat(f.queryLong("SELECT COUNT(*) FROM " + f.prefix + "_effects")).isEqualTo(10);

    KafkaConsumer<String, String> raw = KafkaFixture.consumer(group, Map.of());
    KafkaInboxConsumer<String, String> second =
        inbox(raw, topic).offsetsInDatabase(offsetsInDatabase).build();
    TopicPartition tp = new TopicPartition(topic, 0);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              second.pollOnce(Duration.ofMillis(200));
              return raw.assignment().contains(tp) && raw.position(tp) == 10;
            });
    second.close();

    System.out.println(
        "[once-kafka] after the crash (offsets in the database: "
            + offsetsInDatabase
            + "): "
            + second.stats());
    assertThat(second.stats().applied()).isZero();
    assertThat(second.stats().duplicates())
        .as("records redelivered and skipped")
        .isEqualTo(offsetsInDatabase ? 0 : 10);
    assertThat(f.queryLong("SELECT COUNT(*) FROM " + f.prefix + "_effects")).isEqualTo(10);
    assertThat(duplicatedIds()).isZero();
  }
}
