package dev.once.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.jdbc.JdbcInbox;
import dev.once.kafka.KafkaInboxConsumer;
import dev.once.testkit.servers.TestKafka;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A Kafka topic and a RabbitMQ queue whose message ids overlap ({@code m-0}, {@code m-1}, ...),
 * consumed through inboxes of one name on one PostgreSQL database, built exactly as the README
 * shows: the real KRaft broker of the test kit, the real RabbitMQ, the real PostgreSQL.
 */
class TwoSourcesOneInboxIT {

  private static final int MESSAGES = 100;

  private TestBroker rabbit;
  private TestDb db;
  private KafkaProducer<String, String> producer;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private KafkaInboxConsumer<String, String> kafkaConsumer;
  private RabbitInboxConsumer rabbitConsumer;
  private final AtomicInteger rabbitSettled = new AtomicInteger();
  private final AtomicInteger rabbitDuplicates = new AtomicInteger();

  @BeforeEach
  void setUp() throws Exception {
    rabbit = new TestBroker();
    db = new TestDb();
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  @AfterEach
  void tearDown() throws Exception {
    if (rabbitConsumer != null) {
      rabbitConsumer.close();
    }
    if (kafkaConsumer != null) {
      kafkaConsumer.close();
    }
    threads.shutdownNow();
    producer.close();
    try {
      rabbit.close();
    } finally {
      try (Connection c = db.pool.getConnection();
          Statement s = c.createStatement()) {
        s.execute("DROP TABLE IF EXISTS " + db.prefix + "_offsets");
      }
      db.close();
    }
  }

  @Test
  void aKafkaTopicAndARabbitQueueWithOverlappingIdsOnOneInboxNameEachApplyAllTheirMessages()
      throws Exception {
    consumeTheTopicThenTheQueue(
        JdbcInbox.builder(db.pool, db.store()).consumer("payments").build());

    assertThat(effects("kafka")).as("every record of the topic applied").isEqualTo(MESSAGES);
    assertThat(effects("rabbitmq"))
        .as("every delivery of the queue applied, although the topic had its ids")
        .isEqualTo(MESSAGES);
    assertThat(rabbitDuplicates).as("no delivery skipped as a duplicate").hasValue(0);
  }

  @Test
  void aSharedScopeNamedOnPurposeStillDedupesAcrossSources() throws Exception {
    consumeTheTopicThenTheQueue(
        JdbcInbox.builder(db.pool, db.store()).sharedScope("payments").build());

    assertThat(effects("kafka")).isEqualTo(MESSAGES);
    assertThat(effects("rabbitmq"))
        .as("the queue's ids were applied from the topic already")
        .isZero();
    assertThat(rabbitDuplicates).hasValue(MESSAGES);
  }

  /**
   * Kafka applies its records first; then the queue's deliveries, with the same ids, are consumed
   * to the last ack.
   */
  private void consumeTheTopicThenTheQueue(JdbcInbox inbox) throws Exception {
    try (Connection c = db.pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute("ALTER TABLE " + db.effects() + " ADD COLUMN source VARCHAR(20)");
    }
    String topic = "payments-" + db.prefix;
    TestKafka.createTopic(topic, 2);
    for (int i = 0; i < MESSAGES; i++) {
      ProducerRecord<String, String> r = new ProducerRecord<>(topic, "k" + i, "transfer " + i);
      r.headers()
          .add(KafkaInboxConsumer.MESSAGE_ID_HEADER, ("m-" + i).getBytes(StandardCharsets.UTF_8));
      producer.send(r);
    }
    producer.flush();
    kafkaConsumer =
        KafkaInboxConsumer.builder(
                kafkaConsumer(),
                db.pool,
                inbox,
                (connection, r) ->
                    effect(connection, KafkaInboxConsumer.messageIdHeader(r), "kafka"))
            .topics(List.of(topic))
            .deadLetters(producer)
            .offsetsTable(db.prefix + "_offsets")
            .createSchema(true)
            .build();
    threads.submit(kafkaConsumer::run);
    await().atMost(Duration.ofSeconds(60)).until(() -> effects("kafka") >= MESSAGES);

    String queue = rabbit.queueWithDeadLetters("payments");
    for (int i = 0; i < MESSAGES; i++) {
      rabbit.publish(queue, "m-" + i, "transfer " + i);
    }
    rabbitConsumer =
        RabbitInboxConsumer.builder(rabbit.connection(), queue, inbox)
            .handler(
                (connection, delivery) ->
                    effect(connection, RabbitInboxConsumer.amqpMessageId(delivery), "rabbitmq"))
            .onBatch(
                b -> {
                  rabbitDuplicates.addAndGet(b.duplicates().size());
                  rabbitSettled.addAndGet(b.applied().size() + b.duplicates().size());
                })
            .build();
    rabbitConsumer.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> rabbitSettled.get() == MESSAGES);
    assertThat(rabbit.ready(queue)).as("every delivery acknowledged").isZero();
    assertThat(rabbit.ready(queue + ".dlq")).isZero();
  }

  private KafkaConsumer<String, String> kafkaConsumer() {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "payments-" + db.prefix);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
  }

  private void effect(Connection connection, String id, String source) throws Exception {
    try (var ps =
        connection.prepareStatement(
            "INSERT INTO " + db.effects() + " (msg_id, payload, source)" + " VALUES (?, ?, ?)")) {
      ps.setString(1, id);
      ps.setString(2, source + " " + id);
      ps.setString(3, source);
      ps.executeUpdate();
    }
  }

  /** Effect rows of {@code source}; fails if an id of it was applied twice. */
  private long effects(String source) throws Exception {
    String where = " FROM " + db.effects() + " WHERE source = '" + source + "'";
    long rows = db.scalar("SELECT COUNT(*)" + where);
    assertThat(db.scalar("SELECT COUNT(DISTINCT msg_id)" + where))
        .as("ids of " + source + " applied twice")
        .isEqualTo(rows);
    return rows;
  }
}
