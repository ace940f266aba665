package dev.once.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.OnceListener;
import dev.once.StoreUnavailableException;
import dev.once.internal.InboxDecisions;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.JdbcInbox;
import dev.once.kafka.KafkaInboxConsumer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Retries, dead-lettering and poison isolation of one batch, on a real inbox in an in-memory H2
 * database; Kafka's mock producer takes the dead letters.
 */
class InboxBatchProcessorTest {

  private static final TopicPartition P0 = new TopicPartition("t", 0);
  private static final System.Logger LOG =
      System.getLogger(InboxBatchProcessorTest.class.getName());

  private final MockConsumer<String, String> consumer = new MockConsumer<>("earliest");
  private final MockProducer<String, String> producer =
      new MockProducer<>(true, null, new StringSerializer(), new StringSerializer());
  private final JdbcDataSource db = new JdbcDataSource();
  private final List<Long> sleeps = new ArrayList<>();
  private JdbcInbox inbox;
  private StoredOffsets offsets;

  @BeforeEach
  void setUp() throws SQLException {
    db.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    inbox =
        JdbcInbox.builder(db, JdbcIdempotencyStore.builder(db).createSchema(true).build())
            .consumer("batch-test")
            .build();
    offsets =
        new StoredOffsets(
            consumer, db, new OffsetTable("kafka_offsets"), new PausedPartitions(consumer), LOG);
    offsets.createSchema();
    try (Connection c = db.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE effects (v VARCHAR(100) NOT NULL)");
    }
  }

  private static void effect(Connection c, ConsumerRecord<String, String> r) throws SQLException {
    if (r.value().startsWith("poison")) {
      throw new IllegalArgumentException("cannot apply " + r.value());
    }
    if (r.value().startsWith("lost")) {
      throw new SQLException("I/O error", "08006");
    }
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO effects (v) VALUES (?)")) {
      ps.setString(1, r.value());
      ps.executeUpdate();
    }
  }

  private InboxBatchProcessor<String, String> recordProcessor(int maxAttempts) {
    return processor(InboxBatchProcessorTest::effect, null, maxAttempts);
  }

  private InboxBatchProcessor<String, String> batchProcessor(int maxAttempts) {
    return processor(
        null,
        (c, fresh) -> {
          for (ConsumerRecord<String, String> r : fresh) {
            effect(c, r);
          }
        },
        maxAttempts);
  }

  private InboxBatchProcessor<String, String> processor(
      JdbcInbox.Handler<ConsumerRecord<String, String>> handler,
      JdbcInbox.BatchHandler<ConsumerRecord<String, String>> batchHandler,
      int maxAttempts) {
    InboxDecisions.Backoff backoff =
        new InboxDecisions.Backoff(Duration.ofMillis(1), Duration.ofMillis(1));
    return new InboxBatchProcessor<>(
        consumer,
        inbox,
        handler,
        batchHandler,
        new DeadLetters<>(producer, t -> t + ".DLT", OnceListener.NOOP, "test"),
        new InboxDecisions(maxAttempts, backoff, backoff),
        offsets,
        sleeps::add,
        LOG);
  }

  /** Processes records with these values (ids: the values) at offsets 0, 1, ... of P0. */
  private static void process(InboxBatchProcessor<String, String> processor, String... values) {
    List<ConsumerRecord<String, String>> records = new ArrayList<>();
    Map<ConsumerRecord<String, String>, String> ids = new IdentityHashMap<>();
    for (int i = 0; i < values.length; i++) {
      ConsumerRecord<String, String> r = new ConsumerRecord<>("t", 0, i, "k", values[i]);
      records.add(r);
      ids.put(r, values[i]);
    }
    processor.process(records, ids, Map.of(P0, (long) values.length));
  }

  private List<String> effects() throws SQLException {
    List<String> found = new ArrayList<>();
    try (Connection c = db.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT v FROM effects ORDER BY v")) {
      while (rs.next()) {
        found.add(rs.getString(1));
      }
    }
    return found;
  }

  private Map<TopicPartition, Long> storedOffsets() throws SQLException {
    try (Connection c = db.getConnection()) {
      return new OffsetTable("kafka_offsets")
          .read(c, consumer.groupMetadata().groupId(), List.of(P0));
    }
  }

  private List<String> deadLettered() {
    return producer.history().stream().map(ProducerRecord::value).toList();
  }

  private static String header(ProducerRecord<String, String> r, String name) {
    return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  @Test
  void aFailingRecordIsDeadLetteredAfterItsAttemptsAndTheRestCommitsWithTheOffsets()
      throws Exception {
    InboxBatchProcessor<String, String> processor = recordProcessor(3);

    process(processor, "a", "poison", "b");

    assertThat(effects()).containsExactly("a", "b");
    assertThat(deadLettered()).containsExactly("poison");
    ProducerRecord<String, String> dead = producer.history().get(0);
    assertThat(dead.topic()).isEqualTo("t.DLT");
    assertThat(header(dead, KafkaInboxConsumer.DLT_ATTEMPTS_HEADER)).isEqualTo("3");
    assertThat(header(dead, KafkaInboxConsumer.DLT_OFFSET_HEADER)).isEqualTo("1");
    assertThat(sleeps).as("a backoff before each retry").hasSize(2);
    assertThat(processor.retries()).isEqualTo(2);
    assertThat(processor.applied()).isEqualTo(2);
    assertThat(storedOffsets()).isEqualTo(Map.of(P0, 3L));
  }

  @Test
  void aRedeliveredBatchIsSkippedAsDuplicates() throws Exception {
    InboxBatchProcessor<String, String> processor = recordProcessor(3);

    process(processor, "a", "b");
    process(processor, "a", "b");

    assertThat(effects()).containsExactly("a", "b");
    assertThat(processor.applied()).isEqualTo(2);
    assertThat(processor.duplicates()).isEqualTo(2);
  }

  @Test
  void whenEveryRecordIsDeadLetteredTheOffsetsStillMovePastThem() throws Exception {
    InboxBatchProcessor<String, String> processor = recordProcessor(1);

    process(processor, "poison-1", "poison-2");

    assertThat(deadLettered()).containsExactly("poison-1", "poison-2");
    assertThat(effects()).isEmpty();
    assertThat(storedOffsets()).isEqualTo(Map.of(P0, 2L));
  }

  @Test
  void aFailingBatchIsIsolatedSoOnlyThePoisonRecordIsDeadLettered() throws Exception {
    InboxBatchProcessor<String, String> processor = batchProcessor(2);

    process(processor, "a", "poison", "b");

    assertThat(effects()).containsExactly("a", "b");
    assertThat(deadLettered()).containsExactly("poison");
    assertThat(header(producer.history().get(0), KafkaInboxConsumer.DLT_ATTEMPTS_HEADER))
        .isEqualTo("2");
    assertThat(processor.retries()).as("the batch once, then the poison record once").isEqualTo(2);
    assertThat(processor.applied()).isEqualTo(2);
    assertThat(storedOffsets()).isEqualTo(Map.of(P0, 3L));
  }

  @Test
  void aBatchThatSucceedsCommitsInOneTransaction() throws Exception {
    InboxBatchProcessor<String, String> processor = batchProcessor(2);

    process(processor, "a", "b", "c");

    assertThat(effects()).containsExactly("a", "b", "c");
    assertThat(processor.retries()).isZero();
    assertThat(storedOffsets()).isEqualTo(Map.of(P0, 3L));
  }

  @Test
  void aLostConnectionInTheHandlerIsAnOutageNotAnAttempt() throws Exception {
    for (InboxBatchProcessor<String, String> processor :
        List.of(recordProcessor(1), batchProcessor(1))) {
      assertThatThrownBy(() -> process(processor, "a", "lost"))
          .isInstanceOf(StoreUnavailableException.class);
      assertThat(processor.retries()).isZero();
    }

    assertThat(deadLettered()).isEmpty();
    assertThat(effects()).as("rolled back").isEmpty();
    assertThat(storedOffsets()).isEmpty();
  }

  @Test
  void exactlyOneHandlerIsNeeded() {
    assertThatThrownBy(() -> processor(null, null, 1)).isInstanceOf(IllegalArgumentException.class);
  }
}
