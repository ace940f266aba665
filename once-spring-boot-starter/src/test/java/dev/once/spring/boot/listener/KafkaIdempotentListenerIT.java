package dev.once.spring.boot.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.once.micrometer.MicrometerOnceListener;
import dev.once.spring.boot.OnceKafkaListenerContainerFactory;
import dev.once.testkit.servers.TcpProxy;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestKafka;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.ContainerCustomizer;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.BatchInterceptor;
import org.springframework.kafka.listener.BatchListenerFailedException;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.ConsumerAwareRecordRecoverer;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.RecordInterceptor;
import org.springframework.kafka.listener.RetryListener;
import org.springframework.kafka.support.Acknowledgment;
import org.springframework.kafka.support.KafkaHeaders;
import org.springframework.kafka.support.converter.RecordMessageConverter;
import org.springframework.kafka.support.converter.StringJacksonJsonMessageConverter;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.messaging.handler.annotation.Payload;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.util.backoff.FixedBackOff;

/**
 * Real Spring Boot applications with real {@code @KafkaListener}s on {@code
 * onceKafkaListenerContainerFactory}, against a real KRaft broker and PostgreSQL: every message id
 * has exactly one effect row, whatever the duplicates, failures, restarts and races.
 */
class KafkaIdempotentListenerIT {

  /** The JSON payload. */
  public record Payment(String account, long amount, String note) {}

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean
    RecordMessageConverter jsonConverter() {
      return new StringJacksonJsonMessageConverter();
    }

    @Bean
    DefaultErrorHandler errorHandler(KafkaTemplate<?, ?> template) {
      // Two quick retries, then the dead-letter topic <topic>-dlt.
      DeadLetterPublishingRecoverer deadLetters = new DeadLetterPublishingRecoverer(template);
      ConsumerAwareRecordRecoverer recording =
          (record, consumer, failure) -> {
            DEAD_LETTERED.add(idOf(record));
            deadLetters.accept(record, consumer, failure);
          };
      DefaultErrorHandler handler = new DefaultErrorHandler(recording, new FixedBackOff(20, 2));
      handler.setRetryListeners(
          new RetryListener() {
            @Override
            public void failedDelivery(
                ConsumerRecord<?, ?> record, Exception failure, int deliveryAttempt) {
              COUNTED_FAILURES.add(idOf(record));
            }

            @Override
            public void failedDelivery(
                ConsumerRecords<?, ?> records, Exception failure, int deliveryAttempt) {
              // A BatchListenerFailedException counts an attempt for its record only; any other
              // failure for the poll.
              for (Throwable t = failure; t != null; t = t.getCause()) {
                if (t instanceof BatchListenerFailedException failed
                    && failed.getRecord() != null) {
                  COUNTED_FAILURES.add(idOf(failed.getRecord()));
                  return;
                }
              }
              records.forEach(r -> COUNTED_FAILURES.add(idOf(r)));
            }
          });
      return handler;
    }
  }

  /**
   * No error handler of its own: {@code once.kafka.retry.*} builds it, with this recoverer (the
   * dead-letter topic) and a rebalance listener on every container that counts assignments.
   */
  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class RetryApp {
    @Bean
    RecordMessageConverter jsonConverter() {
      return new StringJacksonJsonMessageConverter();
    }

    @Bean
    DeadLetterPublishingRecoverer deadLetters(KafkaTemplate<?, ?> template) {
      return new DeadLetterPublishingRecoverer(template);
    }

    @Bean
    ContainerCustomizer<Object, Object, ConcurrentMessageListenerContainer<Object, Object>>
        countAssignments() {
      return container ->
          container
              .getContainerProperties()
              .setConsumerRebalanceListener(
                  new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                      if (!partitions.isEmpty()) {
                        ASSIGNMENTS.incrementAndGet();
                      }
                    }

                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}
                  });
    }
  }

  /** How often a container was given partitions: once, unless the group took them away. */
  static final AtomicInteger ASSIGNMENTS = new AtomicInteger();

  /** Failures so far of each payment noted "flaky", which fails twice, then succeeds. */
  static final Map<String, Integer> FLAKY_FAILURES = new ConcurrentHashMap<>();

  /**
   * Counts every delivery of each id to the listener container, also those that fail before the
   * method runs.
   */
  static class DeliveryCounter {
    @Bean
    RecordInterceptor<Object, Object> countRecordDeliveries() {
      return (record, consumer) -> {
        DELIVERIES.merge(idOf(record), 1, Integer::sum);
        return record;
      };
    }

    @Bean
    BatchInterceptor<Object, Object> countBatchDeliveries() {
      return (records, consumer) -> {
        records.forEach(r -> DELIVERIES.merge(idOf(r), 1, Integer::sum));
        return records;
      };
    }
  }

  static final Map<String, Integer> DELIVERIES = new ConcurrentHashMap<>();

  /** The ids the error handler gave up on, as it sends them to the dead-letter topic. */
  static final Set<String> DEAD_LETTERED = ConcurrentHashMap.newKeySet();

  /** The ids of the records whose failure the error handler counted as a delivery attempt. */
  static final Set<String> COUNTED_FAILURES = ConcurrentHashMap.newKeySet();

  /**
   * When set, the method cuts this proxy between the application and PostgreSQL at the payment
   * noted "cut".
   */
  static volatile TcpProxy databaseProxy;

  static final AtomicBoolean DATABASE_CUT = new AtomicBoolean();

  static void cutTheDatabaseOnce() {
    if (databaseProxy != null && DATABASE_CUT.compareAndSet(false, true)) {
      databaseProxy.cut(); // inside the method's transaction, before its effect
    }
  }

  /**
   * The id whose offset commit is lost once: right after its DB commit the container's call fails.
   */
  static volatile String failAfterCommitOf;

  static final AtomicBoolean FAILED_AFTER_COMMIT = new AtomicBoolean();

  /** Record listener: a JSON @Payload POJO, its id header, a plain JdbcTemplate write. */
  static class RecordListener {
    final AtomicInteger invocations = new AtomicInteger();
    private final JdbcTemplate jdbc;
    private final String effects;

    RecordListener(JdbcTemplate jdbc, @Value("${test.effects}") String effects) {
      this.jdbc = jdbc;
      this.effects = effects;
    }

    @KafkaListener(
        topics = "${test.topic}",
        groupId = "${test.group}",
        containerFactory = OnceKafkaListenerContainerFactory.BEAN_NAME)
    void on(@Payload Payment payment, @Header("message-id") String id) {
      invocations.incrementAndGet();
      if ("cut-at-commit".equals(payment.note())) {
        TransactionSynchronizationManager.registerSynchronization(
            new TransactionSynchronization() {
              @Override
              public void beforeCommit(boolean readOnly) {
                cutTheDatabaseOnce(); // the commit then fails on a dead connection, and so does the
                // rollback after it
              }
            });
      }
      jdbc.update(
          "INSERT INTO " + effects + " (msg_id, payload) VALUES (?, ?)",
          id,
          payment.account() + ":" + payment.amount());
      if ("poison".equals(payment.note())) {
        throw new IllegalStateException("poison payment " + id);
      }
      if ("flaky".equals(payment.note()) && FLAKY_FAILURES.merge(id, 1, Integer::sum) <= 2) {
        throw new IllegalStateException("flaky payment " + id);
      }
      if (id.equals(failAfterCommitOf) && FAILED_AFTER_COMMIT.compareAndSet(false, true)) {
        TransactionSynchronizationManager.registerSynchronization(
            new TransactionSynchronization() {
              @Override
              public void afterCommit() {
                throw new IllegalStateException(
                    "simulated crash after the DB commit, before the offset commit");
              }
            });
      }
    }
  }

  /**
   * Record listener with manual acks: acknowledges each payment it applies, except one noted
   * "no-ack", and one noted "ack-then-fail" acknowledges, then fails.
   */
  static class AckingListener {
    final AtomicInteger invocations = new AtomicInteger();
    private final JdbcTemplate jdbc;
    private final String effects;

    AckingListener(JdbcTemplate jdbc, @Value("${test.effects}") String effects) {
      this.jdbc = jdbc;
      this.effects = effects;
    }

    @KafkaListener(
        topics = "${test.topic}",
        groupId = "${test.group}",
        containerFactory = OnceKafkaListenerContainerFactory.BEAN_NAME)
    void on(@Payload Payment payment, @Header("message-id") String id, Acknowledgment ack) {
      invocations.incrementAndGet();
      jdbc.update(
          "INSERT INTO " + effects + " (msg_id, payload) VALUES (?, ?)",
          id,
          payment.account() + ":" + payment.amount());
      if ("no-ack".equals(payment.note())) {
        return;
      }
      ack.acknowledge();
      if ("ack-then-fail".equals(payment.note())
          && FLAKY_FAILURES.merge(id, 1, Integer::sum) == 1) {
        // The acknowledgment given above must not survive the rollback.
        throw new IllegalStateException("failed after acknowledging " + id);
      }
    }
  }

  /** Batch listener: List<ConsumerRecord>, only the fresh records of each poll. */
  static class BatchListener {
    final AtomicInteger invocations = new AtomicInteger();
    private final JdbcTemplate jdbc;
    private final String effects;

    BatchListener(JdbcTemplate jdbc, @Value("${test.effects}") String effects) {
      this.jdbc = jdbc;
      this.effects = effects;
    }

    @KafkaListener(
        topics = "${test.topic}",
        groupId = "${test.group}",
        batch = "true",
        containerFactory = OnceKafkaListenerContainerFactory.BEAN_NAME)
    void on(List<ConsumerRecord<String, String>> records) {
      for (int i = 0; i < records.size(); i++) {
        ConsumerRecord<String, String> r = records.get(i);
        invocations.incrementAndGet();
        String id = idOf(r);
        if (r.value().contains("\"note\":\"cut\"")) {
          cutTheDatabaseOnce();
        }
        jdbc.update("INSERT INTO " + effects + " (msg_id, payload) VALUES (?, ?)", id, r.value());
        if (r.value().contains("poison")) {
          // The index in the list this method got; the factory translates it to the poll's.
          throw new BatchListenerFailedException("poison payment " + id, i);
        }
      }
    }
  }

  /** Batch listener taking the poll result: a ConsumerRecords of the fresh records of each poll. */
  static class PollListener {
    final AtomicInteger invocations = new AtomicInteger();
    private final JdbcTemplate jdbc;
    private final String effects;

    PollListener(JdbcTemplate jdbc, @Value("${test.effects}") String effects) {
      this.jdbc = jdbc;
      this.effects = effects;
    }

    @KafkaListener(
        topics = "${test.topic}",
        groupId = "${test.group}",
        batch = "true",
        containerFactory = OnceKafkaListenerContainerFactory.BEAN_NAME)
    void on(ConsumerRecords<String, String> records) {
      for (ConsumerRecord<String, String> r : records) {
        invocations.incrementAndGet();
        String id = idOf(r);
        jdbc.update("INSERT INTO " + effects + " (msg_id, payload) VALUES (?, ?)", id, r.value());
        if (r.value().contains("poison")) {
          throw new BatchListenerFailedException("poison payment " + id, r);
        }
      }
    }
  }

  /**
   * Two listeners on one topic in two groups, each with its own id scope on its annotation; they
   * write the same effect rows, one per id each.
   */
  static class TwoScopedListeners {
    final AtomicInteger ledger = new AtomicInteger();
    final AtomicInteger audit = new AtomicInteger();
    private final JdbcTemplate jdbc;
    private final String effects;

    TwoScopedListeners(JdbcTemplate jdbc, @Value("${test.effects}") String effects) {
      this.jdbc = jdbc;
      this.effects = effects;
    }

    @KafkaListener(
        topics = "${test.topic}",
        groupId = "ledger-${test.topic}",
        properties = OnceKafkaListenerContainerFactory.CONSUMER_PROPERTY + "=ledger-${test.topic}",
        containerFactory = OnceKafkaListenerContainerFactory.BEAN_NAME)
    void ledger(@Payload Payment payment, @Header("message-id") String id) {
      ledger.incrementAndGet();
      jdbc.update("INSERT INTO " + effects + " (msg_id, payload) VALUES (?, ?)", id, "ledger");
    }

    @KafkaListener(
        topics = "${test.topic}",
        groupId = "audit-${test.topic}",
        properties = OnceKafkaListenerContainerFactory.CONSUMER_PROPERTY + "=audit-${test.topic}",
        containerFactory = OnceKafkaListenerContainerFactory.BEAN_NAME)
    void audit(@Payload Payment payment, @Header("message-id") String id) {
      audit.incrementAndGet();
      jdbc.update("INSERT INTO " + effects + " (msg_id, payload) VALUES (?, ?)", id, "audit");
    }
  }

  private ListenerDb db;
  private String topic;
  private List<String> lastSends = List.of();
  private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    failAfterCommitOf = null;
    FAILED_AFTER_COMMIT.set(false);
    DELIVERIES.clear();
    DEAD_LETTERED.clear();
    COUNTED_FAILURES.clear();
    ASSIGNMENTS.set(0);
    FLAKY_FAILURES.clear();
    databaseProxy = null;
    DATABASE_CUT.set(false);
    db = new ListenerDb();
    topic = "once-sl-" + UUID.randomUUID().toString().substring(0, 8);
    TestKafka.createTopic(topic, 3);
    TestKafka.createTopic(topic + "-dlt", 3);
  }

  @AfterEach
  void tearDown() {
    if (databaseProxy != null) {
      databaseProxy.restore();
    }
    Collections.reverse(contexts);
    contexts.forEach(ConfigurableApplicationContext::close);
    if (databaseProxy != null) {
      databaseProxy.close();
    }
    db.drop();
  }

  @Test
  void recordListenerAppliesEachJsonPaymentOnceDespiteThirtyPercentDuplicates() throws Exception {
    ConfigurableApplicationContext app =
        start(RecordListener.class, "g-" + topic, Map.of(), RecordingOnceListener.Beans.class);
    List<String> ids = sendWithDuplicates(200, 0.3, Map.of());

    awaitDrained("g-" + topic);
    assertEachOnce(ids);
    assertThat(app.getBean(RecordListener.class).invocations).hasValue(200);
    assertThat(db.completedMarkers()).isEqualTo(200);
    // Every skipped record reported once, after its commit (the offsets are committed after that).
    assertDuplicatesReported(app, "g-" + topic, lastSends.size() - 200);
  }

  @Test
  void batchListenerGetsOnlyTheFreshRecordsOfEachPoll() throws Exception {
    // Sent before the application starts, so that polls are full and hold duplicates of each other.
    List<String> ids = sendWithDuplicates(200, 0.3, Map.of());
    ConfigurableApplicationContext app =
        start(
            BatchListener.class,
            "g-" + topic,
            Map.of("spring.kafka.consumer.max-poll-records", "50"),
            RecordingOnceListener.Beans.class);

    awaitDrained("g-" + topic);
    assertEachOnce(ids);
    assertThat(app.getBean(BatchListener.class).invocations).hasValue(200);
    assertThat(db.completedMarkers()).isEqualTo(200);
    assertDuplicatesReported(app, "g-" + topic, lastSends.size() - 200);
  }

  @Test
  void batchListenerTakingConsumerRecordsGetsOnlyTheFreshRecordsOfEachPoll() throws Exception {
    List<String> ids = sendWithDuplicates(200, 0.3, Map.of());
    ConfigurableApplicationContext app =
        start(
            PollListener.class,
            "g-" + topic,
            Map.of("spring.kafka.consumer.max-poll-records", "50"),
            RecordingOnceListener.Beans.class);

    awaitDrained("g-" + topic);
    assertEachOnce(ids);
    assertThat(app.getBean(PollListener.class).invocations).hasValue(200);
    assertThat(db.completedMarkers()).isEqualTo(200);
    assertDuplicatesReported(app, "g-" + topic, lastSends.size() - 200);
  }

  @Test
  void batchListenerTakingConsumerRecordsDeadLettersAPoisonRecordAndAppliesTheRecordsAroundItOnce()
      throws Exception {
    List<String> ids = sendWithDuplicates(100, 0.3, Map.of("m-42", "poison"));
    start(PollListener.class, "g-" + topic, Map.of("spring.kafka.consumer.max-poll-records", "50"));

    List<ConsumerRecord<String, String>> dead = readDeadLetters(1);
    awaitDrained("g-" + topic);
    long poisonDeliveries = lastSends.stream().filter("m-42"::equals).count();
    assertThat(dead).hasSize((int) poisonDeliveries);
    assertEachOnce(ids.stream().filter(id -> !id.equals("m-42")).toList());
    assertThat(db.effectCounts()).doesNotContainKey("m-42");
    assertThat(db.completedMarkers()).isEqualTo(99);
  }

  @Test
  void poisonMessageGoesToTheDeadLetterTopicWithoutMarkerAndTheOthersApplyOnce() throws Exception {
    ConfigurableApplicationContext app = start(RecordListener.class, "g-" + topic, Map.of());
    List<String> ids = sendWithDuplicates(50, 0.3, Map.of("m-17", "poison"));

    List<ConsumerRecord<String, String>> dead = readDeadLetters(1);
    awaitDrained("g-" + topic);
    assertThat(dead)
        .allSatisfy(
            r ->
                assertThat(
                        new String(
                            r.headers().lastHeader("message-id").value(), StandardCharsets.UTF_8))
                    .isEqualTo("m-17"));
    List<String> good = ids.stream().filter(id -> !id.equals("m-17")).toList();
    assertEachOnce(good);
    // The poison one's effect rows were all rolled back with its transaction: no row, and no
    // marker.
    assertThat(db.effectCounts()).doesNotContainKey("m-17");
    assertThat(db.completedMarkers()).isEqualTo(49);
    // 49 good ones once, each delivery of the poison one three times (first try and two retries);
    // no duplicate.
    long poisonDeliveries = lastSends.stream().filter("m-17"::equals).count();
    assertThat(dead).hasSize((int) poisonDeliveries);
    assertThat(app.getBean(RecordListener.class).invocations)
        .hasValue(49 + 3 * (int) poisonDeliveries);
  }

  @Test
  void batchListenerPoisonRecordGoesToTheDeadLetterTopicAndTheRecordsAroundItApplyOnce()
      throws Exception {
    // Sent first, so that the poison record sits inside a full poll, with records before it that
    // the rolled-back
    // transaction undid and the factory must apply again.
    List<String> ids = sendWithDuplicates(100, 0.3, Map.of("m-42", "poison"));
    start(
        BatchListener.class, "g-" + topic, Map.of("spring.kafka.consumer.max-poll-records", "50"));

    List<ConsumerRecord<String, String>> dead = readDeadLetters(1);
    awaitDrained("g-" + topic);
    long poisonDeliveries = lastSends.stream().filter("m-42"::equals).count();
    assertThat(dead).hasSize((int) poisonDeliveries);
    assertEachOnce(ids.stream().filter(id -> !id.equals("m-42")).toList());
    assertThat(db.effectCounts()).doesNotContainKey("m-42");
    assertThat(db.completedMarkers()).isEqualTo(99);
  }

  @Test
  void failureAfterTheDatabaseCommitBeforeTheOffsetCommitIsRedeliveredAndSkipped()
      throws Exception {
    failAfterCommitOf = "m-33";
    ConfigurableApplicationContext app =
        start(RecordListener.class, "g-" + topic, Map.of(), RecordingOnceListener.Beans.class);
    List<String> ids = sendWithDuplicates(100, 0, Map.of());

    awaitDrained("g-" + topic);
    assertThat(FAILED_AFTER_COMMIT).isTrue();
    assertEachOnce(ids);
    // The error handler redelivered m-33 (its offset was not committed); the redelivery did not
    // reach the method.
    assertThat(app.getBean(RecordListener.class).invocations).hasValue(100);
    // No duplicate was sent: the one skipped is that redelivery.
    assertDuplicatesReported(app, "g-" + topic, 1);
  }

  @Test
  void effectsCommittedButOffsetsNeverCommittedAreSkippedAfterRestartWithTheSameGroup()
      throws Exception {
    String group = "g-" + topic;
    // First life: manual acks that the listener never gives, so no offset is ever committed (no
    // duplicates yet:
    // the adapter acknowledges a duplicate itself, which would commit the offsets before it).
    ConfigurableApplicationContext first =
        start(RecordListener.class, group, Map.of("spring.kafka.listener.ack-mode", "manual"));
    List<String> ids = sendWithDuplicates(100, 0, Map.of());
    await().atMost(Duration.ofSeconds(60)).until(() -> db.effectCounts().size() == 100);
    assertThat(committedOffsets(group)).isZero();
    first.close();
    send(ids.subList(0, 30), Map.of());

    // Second life, same group: Kafka redelivers everything from the start; every record is a
    // duplicate.
    ConfigurableApplicationContext second = start(RecordListener.class, group, Map.of());
    awaitDrained(group);
    assertEachOnce(ids);
    assertThat(second.getBean(RecordListener.class).invocations).hasValue(0);
  }

  @Test
  void twoApplicationsRacingOnTheSameDuplicatesApplyEachMessageOnce() throws Exception {
    // Different groups (both read every record at the same time), one shared id scope: a real race
    // on every id.
    String scope = "shared-" + topic;
    ConfigurableApplicationContext a =
        start(RecordListener.class, "a-" + topic, Map.of("once.kafka.consumer", scope));
    ConfigurableApplicationContext b =
        start(RecordListener.class, "b-" + topic, Map.of("once.kafka.consumer", scope));
    List<String> ids = sendWithDuplicates(200, 0.3, Map.of());

    awaitDrained("a-" + topic);
    awaitDrained("b-" + topic);
    assertEachOnce(ids);
    int total =
        a.getBean(RecordListener.class).invocations.get()
            + b.getBean(RecordListener.class).invocations.get();
    assertThat(total).isEqualTo(200);
  }

  @Test
  void eachListenerWithItsOwnScopeOnTheAnnotationAppliesEveryMessageOnceDespiteAFixedFactoryScope()
      throws Exception {
    // once.kafka.consumer would put both listeners in one scope: each would skip what the other
    // applied. Their own scopes keep their markers apart.
    ConfigurableApplicationContext app =
        start(
            TwoScopedListeners.class,
            "unused",
            Map.of("once.kafka.consumer", "shared-" + topic),
            RecordingOnceListener.Beans.class);
    List<String> ids = sendWithDuplicates(100, 0.3, Map.of());

    awaitDrained("ledger-" + topic);
    awaitDrained("audit-" + topic);
    TwoScopedListeners listeners = app.getBean(TwoScopedListeners.class);
    assertThat(listeners.ledger).hasValue(100);
    assertThat(listeners.audit).hasValue(100);
    Map<String, Integer> counts = db.effectCounts();
    assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(counts.values()).as("one row per id for each listener").containsOnly(2);
    assertThat(db.completedMarkers()).isEqualTo(200);
    int duplicates = lastSends.size() - 100;
    assertThat(app.getBean(RecordingOnceListener.class).duplicates)
        .isEqualTo(
            Map.of(
                "ledger-" + topic + "|kafka:ledger-" + topic + "/" + topic + "|postgresql",
                duplicates,
                "audit-" + topic + "|kafka:audit-" + topic + "/" + topic + "|postgresql",
                duplicates));
  }

  @Test
  void
      aDatabaseLostAtTheCommitOfARecordListenerSpendsNoAttemptAndDeadLettersNothingWhileAPoisonRecordStillIs()
          throws Exception {
    startBehindDatabaseProxy(RecordListener.class, Map.of());
    List<String> ids = sendWithDuplicates(30, 0, Map.of("m-7", "cut-at-commit", "m-20", "poison"));

    awaitOutageLongerThanTheErrorHandlersAttempts();
    databaseProxy.restore();

    List<ConsumerRecord<String, String>> dead = readDeadLetters(1);
    awaitDrained("g-" + topic);
    assertThat(dead)
        .as("dead-lettered: only the poison record, nothing by the outage; got %s", why(dead))
        .extracting(KafkaIdempotentListenerIT::idOf)
        .containsExactly("m-20");
    assertThat(COUNTED_FAILURES)
        .as("failures the error handler counted as attempts")
        .containsOnly("m-20");
    assertEachOnce(ids.stream().filter(id -> !id.equals("m-20")).toList());
    assertThat(db.effectCounts()).doesNotContainKey("m-20");
  }

  @Test
  void
      aDatabaseLostInsideABatchListenerSpendsNoAttemptAndDeadLettersNothingWhileAPoisonRecordStillIs()
          throws Exception {
    startBehindDatabaseProxy(
        BatchListener.class, Map.of("spring.kafka.consumer.max-poll-records", "10"));
    List<String> ids = sendWithDuplicates(30, 0, Map.of("m-7", "cut", "m-20", "poison"));

    awaitOutageLongerThanTheErrorHandlersAttempts();
    databaseProxy.restore();

    List<ConsumerRecord<String, String>> dead = readDeadLetters(1);
    awaitDrained("g-" + topic);
    assertThat(dead)
        .as("dead-lettered: only the poison record, nothing by the outage; got %s", why(dead))
        .extracting(KafkaIdempotentListenerIT::idOf)
        .containsExactly("m-20");
    assertThat(COUNTED_FAILURES)
        .as("failures the error handler counted as attempts")
        .containsOnly("m-20");
    assertEachOnce(ids.stream().filter(id -> !id.equals("m-20")).toList());
    assertThat(db.effectCounts()).doesNotContainKey("m-20");
  }

  @Test
  void manualAcksCommitEveryOffsetAfterItsTransactionAndTheDuplicatesTheMethodNeverSaw()
      throws Exception {
    List<String> ids = sendWithDuplicates(100, 0.3, Map.of("m-10", "ack-then-fail"));
    for (String mode : List.of("manual", "manual_immediate")) {
      // Each mode in its own group, so its own id scope: it applies the whole topic once more.
      String group = mode + "-" + topic;
      FLAKY_FAILURES.clear();
      ConfigurableApplicationContext app =
          start(
              AckingListener.class,
              group,
              Map.of("spring.kafka.listener.ack-mode", mode),
              RecordingOnceListener.Beans.class);

      awaitDrained(group);
      assertEachOnce(ids);
      // 100 fresh ones, and m-10 twice: the acknowledgment of its failed try was dropped with the
      // rollback, and the error handler's redelivery applied it.
      assertThat(app.getBean(AckingListener.class).invocations).as(mode).hasValue(101);
      assertDuplicatesReported(app, group, lastSends.size() - 100);
      app.close();
      db.clearEffects();
    }
  }

  @Test
  void withOutOfOrderAcksTheDuplicatesAfterAnUnacknowledgedRecordDoNotCommitPastIt()
      throws Exception {
    // One partition, in order: m-0..m-3 with m-3 left unacknowledged by the method, then
    // duplicates of m-0..m-2, which the factory acknowledges itself.
    String single = topic + "-1";
    TestKafka.createTopic(single, 1);
    topic = single;
    send(List.of("m-0", "m-1", "m-2", "m-3"), Map.of("m-3", "no-ack"));
    send(List.of("m-0", "m-1", "m-2"), Map.of());
    String group = "g-" + topic;
    ConfigurableApplicationContext app =
        start(
            AckingListener.class,
            group,
            Map.of(
                "spring.kafka.listener.ack-mode", "manual",
                "spring.kafka.listener.async-acks", "true"));

    await().atMost(Duration.ofSeconds(60)).until(() -> db.effectCounts().size() == 4);
    await().atMost(Duration.ofSeconds(30)).until(() -> committedOffsets(group) == 3);
    assertThat(app.getBean(AckingListener.class).invocations).hasValue(4);
    // The duplicates' acknowledgments go through the container's, which holds them back behind
    // the gap m-3 left: the committed offset stays below m-3.
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> committedOffsets(group) == 3);
  }

  @Test
  void aRetryBackoffLongerThanMaxPollIntervalPausesTheContainerSoItKeepsItsPartitions()
      throws Exception {
    ConfigurableApplicationContext app =
        startWith(
            RetryApp.class,
            RecordListener.class,
            "g-" + topic,
            Map.of(
                "once.kafka.retry.max-attempts", "3",
                "once.kafka.retry.initial-interval", "2500ms",
                "once.kafka.retry.multiplier", "1",
                "once.kafka.retry.max-interval", "2500ms",
                "spring.kafka.consumer.properties.max.poll.interval.ms", "1500",
                "spring.kafka.listener.poll-timeout", "200ms"),
            RecordingOnceListener.Beans.class);
    List<String> ids = sendWithDuplicates(30, 0.3, Map.of("m-5", "flaky", "m-9", "poison"));

    long poisonDeliveries = lastSends.stream().filter("m-9"::equals).count();
    List<ConsumerRecord<String, String>> dead = readDeadLetters((int) poisonDeliveries);
    awaitDrained("g-" + topic);
    assertThat(dead).extracting(KafkaIdempotentListenerIT::idOf).containsOnly("m-9");
    assertThat(dead).hasSize((int) poisonDeliveries);
    assertEachOnce(ids.stream().filter(id -> !id.equals("m-9")).toList());
    assertThat(FLAKY_FAILURES).containsEntry("m-5", 3); // two failures, then the success
    // Each backoff (2.5 s) outlasted max.poll.interval.ms (1.5 s), yet the consumer never left
    // its group: it kept polling, paused.
    assertThat(ASSIGNMENTS).as("partition assignments").hasValue(1);
    String group = "g-" + topic;
    assertThat(app.getBean(RecordingOnceListener.class).deadLetters)
        .isEqualTo(
            Map.of(
                "kafka:" + group + "|kafka:" + group + "/" + topic + "|failed",
                (int) poisonDeliveries));
    assertThat(
            app.getBean(MeterRegistry.class)
                .get(MicrometerOnceListener.INBOX_DEAD_LETTERED)
                .tag("consumer", "kafka:" + group)
                .tag("source", "kafka:" + group + "/" + topic)
                .counter()
                .count())
        .isEqualTo(poisonDeliveries);
  }

  @Test
  void theSameBackoffAsleepOnTheConsumerThreadCostsThePartitions() throws Exception {
    // The control for the test above: a DefaultErrorHandler that sleeps its backoff.
    startWith(
        RetryApp.class,
        RecordListener.class,
        "g-" + topic,
        Map.of(
            "spring.kafka.consumer.properties.max.poll.interval.ms", "1500",
            "spring.kafka.listener.poll-timeout", "200ms"),
        SleepingErrorHandler.class);
    List<String> ids = sendWithDuplicates(30, 0, Map.of("m-5", "flaky"));

    awaitDrained("g-" + topic);
    assertEachOnce(ids);
    assertThat(ASSIGNMENTS).as("partition assignments").hasValueGreaterThan(1);
  }

  /** Two tries more after 2.5 s each, asleep on the consumer thread. */
  static class SleepingErrorHandler {
    @Bean
    DefaultErrorHandler sleepingErrorHandler() {
      return new DefaultErrorHandler(new FixedBackOff(2500, 2));
    }
  }

  @Test
  void retryPropertiesNextToAnErrorHandlerOfTheApplicationAreRefused() {
    assertThatThrownBy(
            () ->
                start(
                    RecordListener.class,
                    "g-" + topic,
                    Map.of("once.kafka.retry.max-attempts", "3")))
        .hasStackTraceContaining("once.kafka.retry.max-attempts builds")
        .hasStackTraceContaining("own CommonErrorHandler");
  }

  // --- helpers
  // -------------------------------------------------------------------------------------------------

  /**
   * The listener bean and the Micrometer meter both heard exactly {@code count} skipped duplicates,
   * under the group's scope and the source {@code kafka:<group>/<topic>}.
   */
  private void assertDuplicatesReported(
      ConfigurableApplicationContext app, String group, int count) {
    assertThat(app.getBean(RecordingOnceListener.class).duplicates)
        .isEqualTo(
            Map.of("kafka:" + group + "|kafka:" + group + "/" + topic + "|postgresql", count));
    assertThat(
            app.getBean(MeterRegistry.class)
                .get(MicrometerOnceListener.INBOX_DUPLICATES)
                .tag("consumer", "kafka:" + group)
                .tag("source", "kafka:" + group + "/" + topic)
                .tag("store", "postgresql")
                .counter()
                .count())
        .isEqualTo(count);
  }

  /**
   * Reads the dead-letter topic until at least {@code atLeast} records arrived, then briefly for
   * any more.
   */
  private List<ConsumerRecord<String, String>> readDeadLetters(int atLeast) {
    List<ConsumerRecord<String, String>> dead = new ArrayList<>();
    try (KafkaConsumer<String, String> c = consumer("dlt-reader-" + topic)) {
      c.subscribe(List.of(topic + "-dlt"));
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                c.poll(Duration.ofMillis(200)).forEach(dead::add);
                return dead.size() >= atLeast;
              });
      c.poll(Duration.ofMillis(500)).forEach(dead::add);
    }
    return dead;
  }

  /**
   * An application that reaches PostgreSQL through {@link #databaseProxy} (a lost database is
   * noticed within a quarter of a second), with one consumer thread per partition, counting
   * deliveries.
   */
  private ConfigurableApplicationContext startBehindDatabaseProxy(
      Class<?> listener, Map<String, Object> extra) {
    TestDatabase direct = ListenerDb.DB;
    databaseProxy = TcpProxy.start(direct.host(), direct.port());
    Map<String, Object> p = new HashMap<>(extra);
    p.put("spring.datasource.url", direct.withAddress("127.0.0.1", databaseProxy.port()).jdbcUrl());
    p.put("spring.datasource.hikari.connection-timeout", "250");
    p.put("spring.datasource.hikari.validation-timeout", "250");
    p.put("spring.kafka.listener.concurrency", "3");
    return start(listener, "g-" + topic, p, DeliveryCounter.class);
  }

  /**
   * Waits until m-7 (whose method cut the database) was delivered more often than the error
   * handler's three attempts, or the error handler gave up on it (what it does once it counted the
   * outage as attempts).
   */
  private void awaitOutageLongerThanTheErrorHandlersAttempts() {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> DELIVERIES.getOrDefault("m-7", 0) >= 5 || DEAD_LETTERED.contains("m-7"));
  }

  /**
   * Each dead letter's id and the failure that sent it there, as DeadLetterPublishingRecoverer
   * recorded it.
   */
  private static Map<String, String> why(List<ConsumerRecord<String, String>> dead) {
    Map<String, String> why = new HashMap<>();
    for (ConsumerRecord<String, String> r : dead) {
      org.apache.kafka.common.header.Header stack =
          r.headers().lastHeader(KafkaHeaders.DLT_EXCEPTION_STACKTRACE);
      why.put(idOf(r), stack == null ? "?" : new String(stack.value(), StandardCharsets.UTF_8));
    }
    return why;
  }

  private static String idOf(ConsumerRecord<?, ?> r) {
    return new String(r.headers().lastHeader("message-id").value(), StandardCharsets.UTF_8);
  }

  private ConfigurableApplicationContext start(
      Class<?> listener, String group, Map<String, Object> extra, Class<?>... more) {
    return startWith(App.class, listener, group, extra, more);
  }

  private ConfigurableApplicationContext startWith(
      Class<?> app, Class<?> listener, String group, Map<String, Object> extra, Class<?>... more) {
    Map<String, Object> p = new HashMap<>(db.properties());
    p.put("spring.kafka.bootstrap-servers", TestKafka.bootstrap());
    p.put("spring.kafka.consumer.auto-offset-reset", "earliest");
    p.put("spring.main.web-application-type", "none");
    p.put("test.topic", topic);
    p.put("test.group", group);
    p.putAll(extra);
    List<Class<?>> sources = new ArrayList<>(List.of(app, listener));
    sources.addAll(List.of(more));
    ConfigurableApplicationContext context =
        new SpringApplicationBuilder(sources.toArray(Class<?>[]::new)).properties(p).run();
    contexts.add(context);
    return context;
  }

  /**
   * Sends {@code distinct} messages m-0.. plus {@code dupShare} of them again, shuffled; returns
   * the distinct ids.
   */
  private List<String> sendWithDuplicates(int distinct, double dupShare, Map<String, String> notes)
      throws Exception {
    List<String> ids = new ArrayList<>();
    List<String> sends = new ArrayList<>();
    for (int i = 0; i < distinct; i++) {
      ids.add("m-" + i);
      sends.add("m-" + i);
    }
    Random random = new Random(42);
    for (int i = 0; i < (int) (distinct * dupShare); i++) {
      sends.add(ids.get(random.nextInt(distinct)));
    }
    Collections.shuffle(sends, random);
    lastSends = sends;
    send(sends, notes);
    return ids;
  }

  private void send(List<String> sends, Map<String, String> notes) throws Exception {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
      for (String id : sends) {
        String json =
            "{\"account\":\"acc-"
                + id
                + "\",\"amount\":"
                + (id.hashCode() & 0xff)
                + ",\"note\":\""
                + notes.getOrDefault(id, "")
                + "\"}";
        ProducerRecord<String, String> r = new ProducerRecord<>(topic, id, json);
        r.headers().add("message-id", id.getBytes(StandardCharsets.UTF_8));
        producer.send(r).get();
      }
    }
  }

  private void assertEachOnce(List<String> ids) {
    Map<String, Integer> counts = db.effectCounts();
    Map<String, Integer> wrong = new ConcurrentHashMap<>();
    for (String id : ids) {
      int n = counts.getOrDefault(id, 0);
      if (n != 1) {
        wrong.put(id, n);
      }
    }
    assertThat(wrong).as("ids without exactly one effect row").isEmpty();
    assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(ids);
  }

  /** Waits until the group has committed offsets up to the end of every partition. */
  private void awaitDrained(String group) {
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> committedOffsets(group) == endOffsets());
  }

  private long committedOffsets(String group) throws Exception {
    try (Admin admin = admin()) {
      Map<TopicPartition, OffsetAndMetadata> offsets =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      return offsets.entrySet().stream()
          .filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
          .mapToLong(e -> e.getValue().offset())
          .sum();
    }
  }

  private long endOffsets() throws Exception {
    try (Admin admin = admin()) {
      Map<TopicPartition, OffsetSpec> request = new HashMap<>();
      for (int p = 0; p < 3; p++) {
        request.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> result =
          admin.listOffsets(request).all().get();
      return result.values().stream()
          .mapToLong(ListOffsetsResult.ListOffsetsResultInfo::offset)
          .sum();
    }
  }

  private static Admin admin() {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap()));
  }

  private static KafkaConsumer<String, String> consumer(String group) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
  }
}
