package dev.once.spring.boot.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.OnceListener;
import dev.once.spring.boot.OnceSqsConsumers;
import dev.once.sqs.SqsInboxConsumer;
import java.net.URI;
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
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
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
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * A real Spring Boot application whose {@link SqsInboxConsumer} bean comes from the starter's
 * {@link OnceSqsConsumers}, against an SQS-compatible server (ElasticMQ, started in this JVM) and
 * PostgreSQL: the handler writes with a plain {@link JdbcTemplate} and through a
 * {@code @Transactional} bean, and those writes commit and roll back with the inbox's markers.
 */
class SqsIdempotentConsumerIT {

  /** Deliveries that reached the handler, per event id. */
  static final Map<String, AtomicInteger> INVOCATIONS = new ConcurrentHashMap<>();

  /** Duplicates the {@link OnceListener} bean heard of. */
  static final AtomicInteger DUPLICATES = new AtomicInteger();

  private static SQSRestServer server;
  private static String endpoint;

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean(destroyMethod = "close")
    SqsClient sqs() {
      return client();
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
    SqsInboxConsumer payments(
        OnceSqsConsumers consumers,
        SqsClient sqs,
        JdbcTemplate jdbc,
        Ledger ledger,
        @Value("${test.queue}") String queueUrl,
        @Value("${test.effects}") String effects) {
      return consumers
          .consumer(
              sqs,
              queueUrl,
              m -> {
                String id = m.messageAttributes().get("event-id").stringValue();
                String body = m.body();
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
              })
          .messageId(SqsInboxConsumer.messageAttribute("event-id"))
          .waitTime(Duration.ofSeconds(1))
          .maxAttempts(3)
          .backoff(Duration.ofSeconds(1), Duration.ofSeconds(1))
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
  private SqsClient admin;
  private String queueUrl;
  private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

  @BeforeAll
  static void startServer() {
    server = SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
    endpoint = "http://127.0.0.1:" + server.waitUntilStarted().localAddress().getPort();
  }

  @AfterAll
  static void stopServer() {
    server.stopAndWait();
  }

  static SqsClient client() {
    return SqsClient.builder()
        .endpointOverride(URI.create(endpoint))
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
        .httpClient(UrlConnectionHttpClient.create())
        .build();
  }

  @BeforeEach
  void setUp() {
    INVOCATIONS.clear();
    DUPLICATES.set(0);
    db = new ListenerDb();
    admin = client();
    queueUrl =
        admin
            .createQueue(
                b ->
                    b.queueName("once-ss-" + UUID.randomUUID().toString().substring(0, 8))
                        .attributes(Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, "30")))
            .queueUrl();
  }

  @AfterEach
  void tearDown() {
    contexts.forEach(ConfigurableApplicationContext::close);
    admin.deleteQueue(b -> b.queueUrl(queueUrl));
    admin.close();
    db.drop();
  }

  @Test
  void eachEventIsAppliedOnceAndTheDuplicatesAreSkippedAndReported() {
    start();
    List<String> sends = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      sends.add("e-" + i);
    }
    Random random = new Random(7);
    for (int i = 0; i < 20; i++) {
      sends.add("e-" + random.nextInt(60));
    }
    Collections.shuffle(sends, random);
    for (String id : sends) {
      send(id, "effect " + id);
    }

    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> db.effectCounts().size() == 60 && DUPLICATES.get() == 20);
    assertThat(db.effectCounts().values()).allMatch(n -> n == 1);
    assertThat(INVOCATIONS.values()).allMatch(n -> n.get() == 1);
    assertThat(db.completedMarkers()).isEqualTo(60);
    await().atMost(Duration.ofSeconds(30)).until(() -> messagesLeft() == 0);
  }

  @Test
  void jdbcTemplateAndTransactionalWritesRollBackWithAFailedDeliveryAndCommitWithItsRetry() {
    start();
    send("plain", "fail-first plain");
    send("tx", "via-transactional fail-first tx");

    await().atMost(Duration.ofSeconds(60)).until(() -> db.effectCounts().size() == 2);
    // At least twice: the failed first delivery and the retry; more when a retry shared a batch
    // with a message that failed after it (the batch is rolled back and run again without it).
    assertThat(INVOCATIONS.get("plain").get()).isGreaterThanOrEqualTo(2);
    assertThat(INVOCATIONS.get("tx").get()).isGreaterThanOrEqualTo(2);
    assertThat(db.effectCounts())
        .as(
            "the failed first deliveries' writes rolled back with the batch, the retries' committed")
        .containsOnly(Map.entry("plain", 1), Map.entry("tx", 1));
    await().atMost(Duration.ofSeconds(30)).until(() -> messagesLeft() == 0);
  }

  @Test
  void closingTheContextStopsTheConsumerAndAnotherApplicationTakesOver() {
    // The closing consumer abandons its long poll; the context's stop waits for that poll to end
    // and hand back what it took while the SqsClient is still open. A message taken by it and not
    // handed back would stay invisible for this whole minute.
    admin.setQueueAttributes(
        b -> b.queueUrl(queueUrl).attributes(Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, "60")));
    ConfigurableApplicationContext first = start();
    send("a", "effect a");
    await().atMost(Duration.ofSeconds(30)).until(() -> db.effectCounts().containsKey("a"));
    first.close();
    send("b", "effect b");
    await().atMost(Duration.ofSeconds(30)).until(() -> messagesLeft() == 1 && visible() == 1);
    assertThat(db.effectCounts())
        .as("the closed application applied nothing more")
        .containsOnlyKeys("a");

    start();
    await().atMost(Duration.ofSeconds(30)).until(() -> db.effectCounts().containsKey("b"));
    assertThat(db.effectCounts()).containsOnly(Map.entry("a", 1), Map.entry("b", 1));
  }

  private ConfigurableApplicationContext start() {
    Map<String, Object> p = new HashMap<>(db.properties());
    p.put("spring.main.web-application-type", "none");
    p.put("test.queue", queueUrl);
    ConfigurableApplicationContext context =
        new SpringApplicationBuilder(App.class).properties(p).run();
    contexts.add(context);
    return context;
  }

  private void send(String id, String body) {
    admin.sendMessage(
        b ->
            b.queueUrl(queueUrl)
                .messageBody(body)
                .messageAttributes(
                    Map.of(
                        "event-id",
                        MessageAttributeValue.builder()
                            .dataType("String")
                            .stringValue(id)
                            .build())));
  }

  private long visible() {
    return Long.parseLong(
        admin
            .getQueueAttributes(
                b ->
                    b.queueUrl(queueUrl)
                        .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
            .attributes()
            .get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES));
  }

  private long messagesLeft() {
    Map<QueueAttributeName, String> a =
        admin
            .getQueueAttributes(
                b ->
                    b.queueUrl(queueUrl)
                        .attributeNames(
                            QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                            QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))
            .attributes();
    return Long.parseLong(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
        + Long.parseLong(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE));
  }
}
