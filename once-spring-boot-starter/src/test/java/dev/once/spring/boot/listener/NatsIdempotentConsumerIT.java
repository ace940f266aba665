package dev.once.spring.boot.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.OnceListener;
import dev.once.nats.NatsInboxConsumer;
import dev.once.spring.boot.OnceNatsConsumers;
import dev.once.testkit.servers.TestNats;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
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
import org.springframework.transaction.annotation.Transactional;

/**
 * A real Spring Boot application whose {@link NatsInboxConsumer} bean comes from the starter's
 * {@link OnceNatsConsumers}, against the NATS JetStream at {@code ONCE_TEST_NATS_URL} and
 * PostgreSQL: the handler writes with a plain {@link JdbcTemplate} and through a
 * {@code @Transactional} bean, and those writes commit and roll back with the inbox's markers.
 */
class NatsIdempotentConsumerIT {

  static final String DURABLE = "orders-service";

  /** Deliveries that reached the handler, per event id. */
  static final Map<String, AtomicInteger> INVOCATIONS = new ConcurrentHashMap<>();

  /** Recorded {@link OnceListener} callbacks: duplicates skipped, dead letters. */
  static final AtomicInteger DUPLICATES = new AtomicInteger();

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean(destroyMethod = "close")
    Connection nats() throws Exception {
      return Nats.connect(TestNats.url());
    }

    @Bean
    OnceListener recordingListener() {
      return new OnceListener() {
        @Override
        public void inboxDuplicates(String consumer, String source, String store, int count) {
          DUPLICATES.addAndGet(count);
        }
      };
    }

    @Bean
    Ledger ledger(JdbcTemplate jdbc, @Value("${test.effects}") String effects) {
      return new Ledger(jdbc, effects);
    }

    @Bean
    NatsInboxConsumer orders(
        OnceNatsConsumers consumers,
        Connection nats,
        JdbcTemplate jdbc,
        Ledger ledger,
        @Value("${test.stream}") String stream,
        @Value("${test.effects}") String effects) {
      return consumers
          .consumer(
              nats,
              stream,
              DURABLE,
              m -> {
                String id = m.getHeaders().getFirst("event-id");
                String body = new String(m.getData(), StandardCharsets.UTF_8);
                INVOCATIONS.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                if (body.startsWith("via-transactional")) {
                  ledger.record(id, body);
                } else {
                  jdbc.update(
                      "INSERT INTO " + effects + " (msg_id, payload) VALUES (?, ?)", id, body);
                }
                if (body.contains("fail-first") && INVOCATIONS.get(id).get() == 1) {
                  throw new IllegalStateException(
                      "first delivery of " + id + " fails after its write");
                }
                if (body.contains("poison")) {
                  throw new IllegalStateException("poison " + id);
                }
              })
          .messageId(m -> m.getHeaders() == null ? null : m.getHeaders().getFirst("event-id"))
          .maxAttempts(2)
          .backoff(Duration.ofMillis(50), Duration.ofMillis(50))
          .deadLetterSubject(stream + ".dead")
          .build();
    }
  }

  /** A {@code @Transactional} bean: its write joins the batch's transaction. */
  static class Ledger {
    private final JdbcTemplate jdbc;
    private final String effects;

    Ledger(JdbcTemplate jdbc, String effects) {
      this.jdbc = jdbc;
      this.effects = effects;
    }

    @Transactional
    public void record(String id, String body) {
      jdbc.update("INSERT INTO " + effects + " (msg_id, payload) VALUES (?, ?)", id, body);
    }
  }

  private ListenerDb db;
  private Connection admin;
  private JetStreamManagement jsm;
  private String stream;
  private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    INVOCATIONS.clear();
    DUPLICATES.set(0);
    db = new ListenerDb();
    admin = Nats.connect(TestNats.url());
    jsm = admin.jetStreamManagement();
    stream = "once-sn-" + UUID.randomUUID().toString().substring(0, 8);
    jsm.addStream(
        StreamConfiguration.builder()
            .name(stream)
            .subjects(stream + ".in")
            .storageType(StorageType.File)
            .build());
    jsm.addStream(
        StreamConfiguration.builder()
            .name(stream + "-dlq")
            .subjects(stream + ".dead")
            .storageType(StorageType.File)
            .build());
    jsm.addOrUpdateConsumer(
        stream,
        ConsumerConfiguration.builder()
            .durable(DURABLE)
            .ackPolicy(AckPolicy.Explicit)
            .ackWait(Duration.ofSeconds(30))
            .build());
  }

  @AfterEach
  void tearDown() throws Exception {
    contexts.forEach(ConfigurableApplicationContext::close);
    jsm.deleteStream(stream);
    jsm.deleteStream(stream + "-dlq");
    admin.close();
    db.drop();
  }

  @Test
  void eachEventIsAppliedOnceAndTheDuplicatesAreSkippedAndReported() throws Exception {
    start();
    List<String> sends = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      sends.add("e-" + i);
    }
    Random random = new Random(7);
    for (int i = 0; i < 30; i++) {
      sends.add("e-" + random.nextInt(100));
    }
    Collections.shuffle(sends, random);
    for (String id : sends) {
      publish(id, "effect " + id);
    }

    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> unacknowledged() == 0 && db.effectCounts().size() == 100);
    assertThat(db.effectCounts().values()).allMatch(n -> n == 1);
    assertThat(INVOCATIONS.values()).allMatch(n -> n.get() == 1);
    assertThat(db.completedMarkers()).isEqualTo(100);
    await().atMost(Duration.ofSeconds(10)).until(() -> DUPLICATES.get() == 30);
  }

  @Test
  void jdbcTemplateAndTransactionalWritesRollBackWithAFailedDeliveryAndCommitWithItsRetry()
      throws Exception {
    start();
    publish("plain", "fail-first plain");
    publish("tx", "via-transactional fail-first tx");
    publish("poison", "poison");

    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> db.effectCounts().size() == 2 && deadLetters() == 1);
    // At least twice: the failed first delivery and the retry; more when a retry shared a batch
    // with a message that failed after it (the batch is rolled back and run again without it).
    assertThat(INVOCATIONS.get("plain").get()).isGreaterThanOrEqualTo(2);
    assertThat(INVOCATIONS.get("tx").get()).isGreaterThanOrEqualTo(2);
    assertThat(db.effectCounts())
        .as(
            "the failed first deliveries' writes rolled back with the batch, the retries' committed")
        .containsOnly(Map.entry("plain", 1), Map.entry("tx", 1));
    assertThat(INVOCATIONS.get("poison")).as("maxAttempts(2)").hasValue(2);
    await().atMost(Duration.ofSeconds(10)).until(() -> unacknowledged() == 0);
  }

  @Test
  void closingTheContextStopsTheConsumerAndAnotherApplicationTakesOver() throws Exception {
    ConfigurableApplicationContext first = start();
    publish("a", "effect a");
    await().atMost(Duration.ofSeconds(30)).until(() -> db.effectCounts().containsKey("a"));
    NatsInboxConsumer consumer = first.getBean(NatsInboxConsumer.class);
    first.close();
    publish("b", "effect b");
    assertThat(jsm.getConsumerInfo(stream, DURABLE).getNumPending())
        .as("nobody fetches after the close")
        .isEqualTo(1);
    assertThat(consumer).isNotNull();

    start();
    await().atMost(Duration.ofSeconds(30)).until(() -> db.effectCounts().containsKey("b"));
    assertThat(db.effectCounts()).containsOnly(Map.entry("a", 1), Map.entry("b", 1));
  }

  private ConfigurableApplicationContext start() {
    Map<String, Object> p = new HashMap<>(db.properties());
    p.put("spring.main.web-application-type", "none");
    p.put("test.stream", stream);
    ConfigurableApplicationContext context =
        new SpringApplicationBuilder(App.class).properties(p).run();
    contexts.add(context);
    return context;
  }

  private void publish(String id, String body) throws Exception {
    Headers headers = new Headers();
    headers.put("event-id", id);
    admin
        .jetStream()
        .publish(
            NatsMessage.builder()
                .subject(stream + ".in")
                .headers(headers)
                .data(body.getBytes(StandardCharsets.UTF_8))
                .build());
  }

  private long unacknowledged() throws Exception {
    var info = jsm.getConsumerInfo(stream, DURABLE);
    return info.getNumPending() + info.getNumAckPending();
  }

  private long deadLetters() throws Exception {
    return jsm.getStreamInfo(stream + "-dlq").getStreamState().getMsgCount();
  }
}
