package dev.once.spring.boot.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.once.micrometer.MicrometerOnceListener;
import dev.once.spring.boot.OnceRabbitListenerAdvice;
import dev.once.spring.boot.RabbitMessageIdResolver;
import dev.once.testkit.servers.TcpProxy;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestRabbitMq;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.MessageProperties;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.amqp.rabbit.connection.ChannelProxy;
import org.springframework.amqp.rabbit.listener.DirectMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.RabbitListenerEndpointRegistry;
import org.springframework.amqp.support.AmqpHeaders;
import org.springframework.amqp.support.converter.JacksonJsonMessageConverter;
import org.springframework.amqp.support.converter.MessageConverter;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.messaging.handler.annotation.Payload;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * A real Spring Boot application with a real {@code @RabbitListener} on {@code
 * onceRabbitListenerContainerFactory}, against the RabbitMQ at {@code ONCE_TEST_RABBITMQ_URI}
 * (default amqp://guest:guest@127.0.0.1:5672) and PostgreSQL.
 */
class RabbitIdempotentListenerIT {

  /**
   * Deliveries seen per id (the id resolver runs for every delivery, duplicates and redeliveries
   * included).
   */
  static final Map<String, Integer> DELIVERIES = new ConcurrentHashMap<>();

  /** The id whose acknowledgment is lost once: its channel is closed right after the DB commit. */
  static volatile String loseAckOf;

  /**
   * When set, the listener of the payment noted "cut" cuts this proxy between the application and
   * PostgreSQL.
   */
  static volatile TcpProxy databaseProxy;

  static final AtomicInteger LOST_CONNECTIONS = new AtomicInteger();

  public record Payment(String account, long amount, String note) {}

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean
    MessageConverter jsonConverter() {
      return new JacksonJsonMessageConverter();
    }

    @Bean
    RabbitMessageIdResolver countingIds() {
      return message -> {
        String id = message.getMessageProperties().getMessageId();
        if (id != null) {
          DELIVERIES.merge(id, 1, Integer::sum);
        }
        return id;
      };
    }
  }

  static class Listener {
    final Map<String, Integer> invocations = new ConcurrentHashMap<>();
    final AtomicInteger total = new AtomicInteger();
    private final AtomicBoolean ackLost = new AtomicBoolean();
    private final JdbcTemplate jdbc;
    private final String effects;

    Listener(JdbcTemplate jdbc, @Value("${test.effects}") String effects) {
      this.jdbc = jdbc;
      this.effects = effects;
    }

    @RabbitListener(queues = "${test.queue}", containerFactory = "${test.container-factory}")
    void on(
        @Payload Payment payment,
        @Header(AmqpHeaders.MESSAGE_ID) String id,
        com.rabbitmq.client.Channel channel) {
      invocations.merge(id, 1, Integer::sum);
      total.incrementAndGet();
      if ("cut".equals(payment.note())
          && databaseProxy != null
          && !databaseProxy.isCut()
          && invocations.get(id) == 1) {
        databaseProxy
            .cut(); // the database goes away inside this delivery's transaction, before its effect
      }
      try {
        jdbc.update(
            "INSERT INTO " + effects + " (msg_id, payload) VALUES (?, ?)",
            id,
            payment.account() + ":" + payment.amount());
      } catch (RuntimeException e) {
        LOST_CONNECTIONS.incrementAndGet();
        throw e;
      }
      if ("poison".equals(payment.note())) {
        throw new IllegalStateException("poison payment " + id);
      }
      if ("flaky".equals(payment.note()) && invocations.get(id) == 1) {
        throw new IllegalStateException("first delivery of flaky payment " + id + " fails");
      }
      if (id.equals(loseAckOf) && ackLost.compareAndSet(false, true)) {
        // The effect is committed, then the channel dies before the container can acknowledge.
        TransactionSynchronizationManager.registerSynchronization(
            new TransactionSynchronization() {
              @Override
              public void afterCommit() {
                try {
                  ((ChannelProxy) channel).getTargetChannel().close();
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }
            });
      }
    }
  }

  private ListenerDb db;
  private Connection connection;
  private Channel admin;
  private String queue;
  private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    DELIVERIES.clear();
    loseAckOf = null;
    databaseProxy = null;
    LOST_CONNECTIONS.set(0);
    db = new ListenerDb();
    ConnectionFactory f = new ConnectionFactory();
    f.setUri(TestRabbitMq.uri());
    connection = f.newConnection("once-starter-it");
    admin = connection.createChannel();
    admin.confirmSelect();
    queue = "once-sl-" + UUID.randomUUID().toString().substring(0, 8);
    admin.exchangeDeclare(queue + ".dlx", BuiltinExchangeType.FANOUT, false, true, null);
    admin.queueDeclare(queue + ".dlq", false, false, false, null);
    admin.queueBind(queue + ".dlq", queue + ".dlx", "");
    admin.queueDeclare(
        queue, false, false, false, Map.of("x-dead-letter-exchange", queue + ".dlx"));
  }

  @AfterEach
  void tearDown() throws Exception {
    if (databaseProxy != null) {
      databaseProxy.restore();
    }
    contexts.forEach(ConfigurableApplicationContext::close);
    if (databaseProxy != null) {
      databaseProxy.close();
    }
    admin.queueDelete(queue);
    admin.queueDelete(queue + ".dlq");
    admin.exchangeDelete(queue + ".dlx");
    connection.close();
    db.drop();
  }

  @Test
  void jsonPaymentsAreAppliedOnceAndDuplicatesAreAcknowledgedWithoutInvokingTheListener()
      throws Exception {
    ConfigurableApplicationContext app = start();
    List<String> sends = sendWithDuplicates(100, 0.3, Map.of());

    awaitProcessed();
    assertEachOnce(100, null);
    Listener listener = app.getBean(Listener.class);
    assertThat(listener.total).hasValue(101); // 100 payments and the end marker
    assertThat(DELIVERIES.values().stream().mapToInt(Integer::intValue).sum())
        .isEqualTo(sends.size() + 1);
    assertThat(db.completedMarkers()).isEqualTo(101);
    assertThat(admin.queueDeclarePassive(queue).getMessageCount()).isZero();
    // One consumer in queue order: every duplicate before the end marker was reported after its
    // commit, and only those.
    int duplicates = sends.size() - 100;
    assertThat(app.getBean(RecordingOnceListener.class).duplicates)
        .isEqualTo(Map.of("rabbit:" + queue + "|rabbitmq:" + queue + "|postgresql", duplicates));
    assertThat(
            app.getBean(MeterRegistry.class)
                .get(MicrometerOnceListener.INBOX_DUPLICATES)
                .tag("consumer", "rabbit:" + queue)
                .tag("source", "rabbitmq:" + queue)
                .tag("store", "postgresql")
                .counter()
                .count())
        .isEqualTo(duplicates);
    assertThat(app.getBean(RecordingOnceListener.class).deadLetters).isEmpty();
  }

  @Test
  void poisonMessageIsRetriedThenDeadLetteredWithoutMarkerAndTheOthersApplyOnce() throws Exception {
    ConfigurableApplicationContext app = start();
    sendWithDuplicates(30, 0, Map.of("m-7", "poison"));

    awaitProcessed();
    GetResponse dead =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> admin.basicGet(queue + ".dlq", true), r -> r != null);
    assertThat(dead.getProps().getMessageId()).isEqualTo("m-7");
    assertEachOnce(30, "m-7");
    assertThat(db.effectCounts()).doesNotContainKey("m-7"); // its rows rolled back three times
    assertThat(app.getBean(Listener.class).invocations.get("m-7")).isEqualTo(3); // max-attempts
    assertThat(db.completedMarkers()).isEqualTo(30); // 29 good ones and the end marker
    assertDeadLettersReported(app, "failed");
  }

  @Test
  void directContainerFactoryAppliesEachPaymentOnceAndRetriesThenDeadLettersAPoisonOne()
      throws Exception {
    // The simple container's settings would not retry and would requeue: the direct ones apply.
    ConfigurableApplicationContext app =
        start(
            Map.of(
                "test.container-factory",
                OnceRabbitListenerAdvice.DIRECT_CONTAINER_FACTORY,
                "spring.rabbitmq.listener.simple.retry.enabled",
                "false",
                "spring.rabbitmq.listener.simple.default-requeue-rejected",
                "true",
                "spring.rabbitmq.listener.direct.retry.enabled",
                "true",
                "spring.rabbitmq.listener.direct.retry.max-retries",
                "2",
                "spring.rabbitmq.listener.direct.retry.initial-interval",
                "20ms",
                "spring.rabbitmq.listener.direct.default-requeue-rejected",
                "false",
                "spring.rabbitmq.listener.direct.prefetch",
                "10"));
    List<String> sends = sendWithDuplicates(50, 0.3, Map.of("m-7", "poison"));

    awaitProcessed();
    GetResponse dead =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> admin.basicGet(queue + ".dlq", true), r -> r != null);
    assertThat(dead.getProps().getMessageId()).isEqualTo("m-7");
    assertThat(app.getBean(RabbitListenerEndpointRegistry.class).getListenerContainers())
        .singleElement()
        .isInstanceOf(DirectMessageListenerContainer.class);
    assertEachOnce(50, "m-7");
    assertThat(db.effectCounts()).doesNotContainKey("m-7");
    Listener listener = app.getBean(Listener.class);
    long poisonSends = sends.stream().filter("m-7"::equals).count();
    assertThat(listener.invocations.get("m-7")).isEqualTo(3 * (int) poisonSends);
    // Every delivery of a good id but its first was skipped, and reported after its commit.
    long goodDuplicates = sends.size() - 50 - (poisonSends - 1);
    assertThat(listener.total).hasValue(49 + 3 * (int) poisonSends + 1);
    assertThat(app.getBean(RecordingOnceListener.class).duplicates)
        .isEqualTo(
            Map.of("rabbit:" + queue + "|rabbitmq:" + queue + "|postgresql", (int) goodDuplicates));
    assertThat(app.getBean(RecordingOnceListener.class).deadLetters)
        .isEqualTo(Map.of("rabbit:" + queue + "|rabbitmq:" + queue + "|failed", (int) poisonSends));
  }

  @Test
  void onAQuorumQueueTheDeliveriesBeforeARestartSpendAttemptsSoAPoisonMessageStillEnds()
      throws Exception {
    String quorum = queue + ".quorum";
    admin.queueDeclare(
        quorum,
        true,
        false,
        false,
        Map.of("x-queue-type", "quorum", "x-dead-letter-exchange", queue + ".dlx"));
    try {
      // Two deliveries of q-1 that ended without an acknowledgment, as a consumer killed twice
      // mid-retry leaves it: the broker counts them.
      publish(quorum, "q-1", "poison");
      for (int i = 0; i < 2; i++) {
        GetResponse taken =
            await()
                .atMost(Duration.ofSeconds(10))
                .until(() -> admin.basicGet(quorum, false), r -> r != null);
        admin.basicNack(taken.getEnvelope().getDeliveryTag(), false, true);
      }
      publish(quorum, "q-2", "poison");

      ConfigurableApplicationContext app = start(Map.of("test.queue", quorum));
      List<String> dead = new ArrayList<>();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                GetResponse r = admin.basicGet(queue + ".dlq", true);
                if (r != null) {
                  dead.add(r.getProps().getMessageId());
                }
                return dead.size() == 2;
              });
      assertThat(dead).containsExactlyInAnyOrder("q-1", "q-2");
      Listener listener = app.getBean(Listener.class);
      // Three attempts each in all: q-1 had spent two before this application started.
      assertThat(listener.invocations).containsEntry("q-1", 1).containsEntry("q-2", 3);
      assertThat(db.effectCounts()).isEmpty();
    } finally {
      admin.queueDelete(quorum);
    }
  }

  @Test
  void withoutRetryAFailureTheContainerRejectsIsReportedAsDeadLettered() throws Exception {
    ConfigurableApplicationContext app =
        start(Map.of("spring.rabbitmq.listener.simple.retry.enabled", "false"));
    sendWithDuplicates(10, 0, Map.of("m-3", "poison"));

    awaitProcessed();
    GetResponse dead =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> admin.basicGet(queue + ".dlq", true), r -> r != null);
    assertThat(dead.getProps().getMessageId()).isEqualTo("m-3");
    assertThat(app.getBean(Listener.class).invocations.get("m-3")).isEqualTo(1);
    assertDeadLettersReported(app, "failed");
  }

  @Test
  void withoutRetryAFailureTheContainerRequeuesIsNotReportedAsDeadLettered() throws Exception {
    ConfigurableApplicationContext app =
        start(
            Map.of(
                "spring.rabbitmq.listener.simple.retry.enabled",
                "false",
                "spring.rabbitmq.listener.simple.default-requeue-rejected",
                "true"));
    sendWithDuplicates(10, 0, Map.of("m-3", "flaky"));

    // Requeued after its first failure, applied at its redelivery.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> db.effectCounts().getOrDefault("m-3", 0) == 1);
    awaitProcessed();
    assertEachOnce(10, null);
    assertThat(app.getBean(Listener.class).invocations.get("m-3")).isEqualTo(2);
    assertThat(app.getBean(RecordingOnceListener.class).deadLetters).isEmpty();
    assertThat(admin.queueDeclarePassive(queue + ".dlq").getMessageCount()).isZero();
  }

  @Test
  void aDatabaseLostInsideTheListenerSpendsNoAttemptAndDeadLettersNothing() throws Exception {
    TestDatabase direct = ListenerDb.DB;
    databaseProxy = TcpProxy.start(direct.host(), direct.port());
    TestDatabase proxied = direct.withAddress("127.0.0.1", databaseProxy.port());
    // The application reaches PostgreSQL through the proxy; an outage is noticed within a second.
    ConfigurableApplicationContext app =
        start(
            Map.of(
                "spring.datasource.url",
                proxied.jdbcUrl(),
                "spring.datasource.hikari.connection-timeout",
                "1000",
                "spring.datasource.hikari.validation-timeout",
                "500"));
    sendWithDuplicates(20, 0, Map.of("m-7", "cut"));

    // Down for longer than the three attempts Boot's retry allows (each waits a connection timeout
    // of 1 s).
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                LOST_CONNECTIONS.get() >= 1
                    && (DELIVERIES.getOrDefault("m-7", 0) >= 2
                        || admin.queueDeclarePassive(queue + ".dlq").getMessageCount() > 0));
    databaseProxy.restore();

    awaitProcessed();
    assertThat(admin.queueDeclarePassive(queue + ".dlq").getMessageCount())
        .as("dead-lettered by the outage")
        .isZero();
    assertEachOnce(20, null);
    assertThat(app.getBean(Listener.class).invocations.get("m-7"))
        .as("m-7's listener ran again after the outage")
        .isGreaterThanOrEqualTo(2);
    assertThat(app.getBean(RecordingOnceListener.class).deadLetters)
        .as("dead letters reported for the outage")
        .isEmpty();
  }

  @Test
  void messageWhoseAckIsLostAfterTheCommitIsRedeliveredAndSkipped() throws Exception {
    loseAckOf = "m-5";
    ConfigurableApplicationContext app = start();
    sendWithDuplicates(20, 0, Map.of());

    awaitProcessed();
    await().atMost(Duration.ofSeconds(30)).until(() -> DELIVERIES.getOrDefault("m-5", 0) >= 2);
    assertEachOnce(20, null);
    assertThat(app.getBean(Listener.class).invocations.get("m-5")).isEqualTo(1);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> admin.queueDeclarePassive(queue).getMessageCount() == 0);
  }

  @Test
  void messageWithoutIdIsRejectedToTheDeadLetterQueueUnprocessed() throws Exception {
    ConfigurableApplicationContext app = start();
    publish(null, "{\"account\":\"x\",\"amount\":1,\"note\":\"\"}");
    sendWithDuplicates(3, 0, Map.of());

    awaitProcessed();
    GetResponse dead =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> admin.basicGet(queue + ".dlq", true), r -> r != null);
    assertThat(dead.getProps().getMessageId()).isNull();
    assertThat(app.getBean(Listener.class).total).hasValue(4);
    assertDeadLettersReported(app, "rejected");
  }

  @Test
  void twoApplicationsCompetingForTheSameQueueApplyEachDuplicatedMessageOnce() throws Exception {
    ConfigurableApplicationContext a = start();
    ConfigurableApplicationContext b = start();
    List<String> sends = sendWithDuplicates(100, 0.3, Map.of());

    // Every delivery went through an id check, then the effects settle and stay at exactly one per
    // id.
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                DELIVERIES.values().stream().mapToInt(Integer::intValue).sum() >= sends.size() + 1);
    await().atMost(Duration.ofSeconds(60)).until(() -> db.effectCounts().size() == 101);
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(10))
        .until(() -> db.effectCounts().values().stream().allMatch(n -> n == 1));
    assertEachOnce(100, null);
    int total = a.getBean(Listener.class).total.get() + b.getBean(Listener.class).total.get();
    assertThat(total).isEqualTo(101);
    assertThat(a.getBean(Listener.class).total.get()).isPositive();
    assertThat(b.getBean(Listener.class).total.get()).isPositive();
  }

  // --- helpers
  // -------------------------------------------------------------------------------------------------

  /**
   * The listener bean and the Micrometer meter both heard exactly one dead letter, for {@code
   * reason}.
   */
  private void assertDeadLettersReported(ConfigurableApplicationContext app, String reason) {
    assertThat(app.getBean(RecordingOnceListener.class).deadLetters)
        .isEqualTo(Map.of("rabbit:" + queue + "|rabbitmq:" + queue + "|" + reason, 1));
    assertThat(
            app.getBean(MeterRegistry.class)
                .get(MicrometerOnceListener.INBOX_DEAD_LETTERED)
                .tag("consumer", "rabbit:" + queue)
                .tag("source", "rabbitmq:" + queue)
                .tag("reason", reason)
                .counter()
                .count())
        .isEqualTo(1);
  }

  private ConfigurableApplicationContext start() {
    return start(Map.of());
  }

  private ConfigurableApplicationContext start(Map<String, Object> extra) {
    URI uri = URI.create(TestRabbitMq.uri());
    String[] user =
        uri.getUserInfo() == null
            ? new String[] {"guest", "guest"}
            : uri.getUserInfo().split(":", 2);
    Map<String, Object> p = new HashMap<>(db.properties());
    p.put("spring.main.web-application-type", "none");
    p.put("spring.rabbitmq.host", uri.getHost());
    p.put("spring.rabbitmq.port", uri.getPort() < 0 ? 5672 : uri.getPort());
    p.put("spring.rabbitmq.username", user[0]);
    p.put("spring.rabbitmq.password", user[1]);
    // The test's own vhost when TestRabbitMq names one (parallel builds each get theirs): the queue
    // is declared there.
    String path = uri.getPath() == null ? "" : uri.getPath();
    p.put("spring.rabbitmq.virtual-host", path.length() > 1 ? path.substring(1) : "/");
    p.put("spring.rabbitmq.listener.simple.retry.enabled", "true");
    p.put("spring.rabbitmq.listener.simple.retry.max-retries", "2");
    p.put("spring.rabbitmq.listener.simple.retry.initial-interval", "20ms");
    p.put("spring.rabbitmq.listener.simple.default-requeue-rejected", "false");
    p.put("spring.rabbitmq.listener.simple.prefetch", "10");
    p.put("test.queue", queue);
    p.put("test.container-factory", OnceRabbitListenerAdvice.CONTAINER_FACTORY);
    p.putAll(extra);
    ConfigurableApplicationContext context =
        new SpringApplicationBuilder(App.class, Listener.class, RecordingOnceListener.Beans.class)
            .properties(p)
            .run();
    contexts.add(context);
    return context;
  }

  /**
   * Sends m-0.. with duplicates mixed in, then an end marker; returns every send but the marker.
   */
  private List<String> sendWithDuplicates(int distinct, double dupShare, Map<String, String> notes)
      throws Exception {
    List<String> sends = new ArrayList<>();
    for (int i = 0; i < distinct; i++) {
      sends.add("m-" + i);
    }
    Random random = new Random(7);
    for (int i = 0; i < (int) (distinct * dupShare); i++) {
      sends.add("m-" + random.nextInt(distinct));
    }
    Collections.shuffle(sends, random);
    for (String id : sends) {
      publish(
          id,
          "{\"account\":\"acc-"
              + id
              + "\",\"amount\":"
              + (id.hashCode() & 0xff)
              + ",\"note\":\""
              + notes.getOrDefault(id, "")
              + "\"}");
    }
    publish("end", "{\"account\":\"end\",\"amount\":0,\"note\":\"\"}");
    return sends;
  }

  private void publish(String id, String json) throws Exception {
    publishTo(queue, id, json);
  }

  /** A payment noted {@code note} with the message id {@code id}, to {@code target}. */
  private void publish(String target, String id, String note) throws Exception {
    publishTo(
        target, id, "{\"account\":\"acc-" + id + "\",\"amount\":1,\"note\":\"" + note + "\"}");
  }

  private void publishTo(String target, String id, String json) throws Exception {
    AMQP.BasicProperties props =
        new AMQP.BasicProperties.Builder()
            .messageId(id)
            .contentType(MessageProperties.CONTENT_TYPE_JSON)
            .deliveryMode(2)
            .build();
    admin.basicPublish("", target, props, json.getBytes(StandardCharsets.UTF_8));
    admin.waitForConfirmsOrDie(10_000);
  }

  /**
   * One consumer, FIFO: once the end marker's effect is there, every delivery before it has been
   * handled.
   */
  private void awaitProcessed() {
    await().atMost(Duration.ofSeconds(60)).until(() -> db.effectCounts().containsKey("end"));
  }

  private void assertEachOnce(int distinct, String except) {
    Map<String, Integer> counts = db.effectCounts();
    Map<String, Integer> wrong = new HashMap<>();
    for (int i = 0; i < distinct; i++) {
      String id = "m-" + i;
      if (!id.equals(except) && counts.getOrDefault(id, 0) != 1) {
        wrong.put(id, counts.getOrDefault(id, 0));
      }
    }
    assertThat(wrong).as("ids without exactly one effect row").isEmpty();
    assertThat(counts.get("end")).isEqualTo(1);
  }
}
