package dev.once.spring.boot.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.once.outbox.OutboxRelay;
import dev.once.spring.boot.OnceKafkaListenerContainerFactory;
import dev.once.spring.boot.OnceOutboxRelay;
import dev.once.spring.boot.TransactionalOutbox;
import dev.once.testkit.EffectChecker;
import dev.once.testkit.servers.TestKafka;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * The outbox in a Spring Boot application written the way users write one: an orders
 * {@code @Service} whose {@code @Transactional} method saves the order with {@code JdbcTemplate}
 * and writes its event through {@link TransactionalOutbox}; the relay the starter builds from
 * {@code spring.kafka.*} publishes it to a real KRaft broker; an ordinary {@code @KafkaListener} on
 * Once's idempotent container factory charges each order. Each database subclass supplies the
 * DataSource URL and the DDL.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class OutboxAppContract {

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {}

  /** The business side: an order row and its event, in one transaction. */
  @Service
  public static class OrderService {
    private final JdbcTemplate jdbc;
    private final TransactionalOutbox outbox;
    private final String orders;
    private final String topic;

    OrderService(
        JdbcTemplate jdbc,
        TransactionalOutbox outbox,
        @Value("${test.orders}") String orders,
        @Value("${test.topic}") String topic) {
      this.jdbc = jdbc;
      this.outbox = outbox;
      this.orders = orders;
      this.topic = topic;
    }

    /**
     * Saves the order and its OrderPlaced event; {@code failAfter} throws once both are written.
     */
    @Transactional
    public UUID place(String orderId, String customer, boolean failAfter) {
      jdbc.update("INSERT INTO " + orders + " (id, customer) VALUES (?, ?)", orderId, customer);
      UUID id =
          outbox.enqueue(
              topic, customer, "{\"type\":\"OrderPlaced\",\"order\":\"" + orderId + "\"}");
      if (failAfter) {
        throw new IllegalStateException("order " + orderId + " failed after its event was written");
      }
      return id;
    }
  }

  /** The consumer side: one charge row per delivery it applies (no unique constraint). */
  public static class Payments {
    private final JdbcTemplate jdbc;
    private final String charges;

    Payments(JdbcTemplate jdbc, @Value("${test.charges}") String charges) {
      this.jdbc = jdbc;
      this.charges = charges;
    }

    @KafkaListener(
        topics = "${test.topic}",
        groupId = "${test.group}",
        containerFactory = OnceKafkaListenerContainerFactory.BEAN_NAME)
    void on(ConsumerRecord<String, String> record) {
      Header id = record.headers().lastHeader("message-id");
      String order = record.value().replaceAll(".*\"order\":\"([^\"]+)\".*", "$1");
      jdbc.update(
          "INSERT INTO " + charges + " (msg_id, order_id, customer) VALUES (?, ?, ?)",
          new String(id.value(), StandardCharsets.UTF_8),
          order,
          record.key());
    }
  }

  final String prefix = "once_so_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
  final String topic = "once-so-" + UUID.randomUUID().toString().substring(0, 8);
  private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();
  ConfigurableApplicationContext app;
  JdbcTemplate jdbc;

  /** Spring properties naming the database (URL, credentials). */
  abstract Map<String, Object> databaseProperties();

  /** A JdbcTemplate on the database, outside any application. */
  abstract JdbcTemplate direct();

  /** Drops what the test made. */
  abstract void dropDatabase();

  String orders() {
    return prefix + "_orders";
  }

  String charges() {
    return prefix + "_charges";
  }

  String outboxTable() {
    return prefix + "_outbox";
  }

  @BeforeAll
  void startApplication() throws Exception {
    TestKafka.createTopic(topic, 3);
    direct()
        .execute(
            "CREATE TABLE "
                + orders()
                + " (id VARCHAR(64) PRIMARY KEY, customer VARCHAR(64) NOT NULL)");
    direct()
        .execute(
            "CREATE TABLE "
                + charges()
                + " (msg_id VARCHAR(64) NOT NULL, order_id VARCHAR(64) NOT NULL,"
                + " customer VARCHAR(64) NOT NULL)");
    app = start("first");
    jdbc = app.getBean(JdbcTemplate.class);
  }

  @AfterAll
  void stopApplications() {
    contexts.forEach(ConfigurableApplicationContext::close);
    dropDatabase();
  }

  ConfigurableApplicationContext start(String relayName) {
    Map<String, Object> p = new HashMap<>(databaseProperties());
    p.put("spring.main.web-application-type", "none");
    p.put("spring.kafka.bootstrap-servers", TestKafka.bootstrap());
    p.put("spring.kafka.consumer.auto-offset-reset", "earliest");
    p.put("once.jdbc.table", prefix + "_once");
    p.put("once.jdbc.create-schema", "always");
    p.put("once.outbox.table", outboxTable());
    p.put("once.outbox.create-schema", "always");
    p.put("once.outbox.relay.broker", "kafka");
    p.put("once.outbox.relay.name", relayName + "-" + prefix);
    p.put("once.outbox.relay.poll-interval", "100ms");
    p.put("test.orders", orders());
    p.put("test.charges", charges());
    p.put("test.topic", topic);
    p.put("test.group", "payments-" + prefix);
    ConfigurableApplicationContext context =
        new SpringApplicationBuilder(App.class, OrderService.class, Payments.class)
            .properties(p)
            .run();
    contexts.add(context);
    return context;
  }

  @Test
  void aCommittedOrderIsRelayedAndChargedOnceUnderItsOutboxId() {
    String order = "o-" + UUID.randomUUID();
    UUID id = app.getBean(OrderService.class).place(order, "alice", false);

    await().atMost(Duration.ofSeconds(60)).until(() -> chargesOf(order).size(), n -> n >= 1);
    assertThat(chargesOf(order)).containsExactly(id + " alice");
  }

  @Test
  void aRolledBackOrderPublishesNothing() {
    OrderService service = app.getBean(OrderService.class);
    String customer = "c-" + UUID.randomUUID().toString().substring(0, 8);
    String rolledBack = "o-" + UUID.randomUUID();
    String committed = "o-" + UUID.randomUUID();

    assertThatThrownBy(() -> service.place(rolledBack, customer, true))
        .isInstanceOf(IllegalStateException.class);
    service.place(committed, customer, false);

    // Same key: had the first event been written, the relay would have published it first.
    await().atMost(Duration.ofSeconds(60)).until(() -> chargesOf(committed).size(), n -> n >= 1);
    assertThat(chargesOf(rolledBack)).isEmpty();
    assertThat(count("SELECT COUNT(*) FROM " + orders() + " WHERE id = ?", rolledBack)).isZero();
    assertThat(count("SELECT COUNT(*) FROM " + outboxTable() + " WHERE msg_key = ?", customer))
        .isEqualTo(1);
  }

  @Test
  void writingOutsideATransactionIsRefusedAndWritesNothing() {
    TransactionalOutbox outbox = app.getBean(TransactionalOutbox.class);
    String key = "k-" + UUID.randomUUID();

    assertThatThrownBy(() -> outbox.enqueue(topic, key, "{}"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no transaction is active")
        .hasMessageContaining("@Transactional");
    assertThat(count("SELECT COUNT(*) FROM " + outboxTable() + " WHERE msg_key = ?", key)).isZero();
  }

  @Test
  void ordersPlacedConcurrentlyOnTwoInstancesAreEachChargedOnce() throws Exception {
    // A second instance: its relay races the first one's for the same rows, its listener shares
    // the consumer group.
    ConfigurableApplicationContext second = start("second");
    long seed = System.nanoTime();
    System.out.println("[outbox-app] seed " + seed);
    List<OrderService> services =
        List.of(app.getBean(OrderService.class), second.getBean(OrderService.class));
    Set<String> committed = ConcurrentHashMap.newKeySet();
    Set<String> rolledBack = ConcurrentHashMap.newKeySet();
    ExecutorService threads = Executors.newFixedThreadPool(6);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 6; t++) {
        Random random = new Random(seed + t);
        OrderService service = services.get(t % 2);
        int thread = t;
        done.add(
            threads.submit(
                () -> {
                  for (int i = 0; i < 25; i++) {
                    String order = "r" + thread + "-" + i + "-" + prefix;
                    String customer = "cust-" + random.nextInt(5);
                    if (random.nextInt(10) == 0) {
                      try {
                        service.place(order, customer, true);
                      } catch (IllegalStateException expected) {
                        rolledBack.add(order);
                      }
                    } else {
                      committed.add(service.place(order, customer, false).toString());
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      threads.shutdownNow();
    }

    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> chargeCounts("r%-" + prefix).keySet().containsAll(committed));
    // Every charge of this test's orders, also any of a rolled-back one (an unexpected id).
    EffectChecker.Verdict verdict = EffectChecker.check(committed, chargeCounts("r%-" + prefix));
    System.out.println("[outbox-app] " + verdict);
    verdict.assertExactlyOnce("seed " + seed);
    assertThat(rolledBack).isNotEmpty();
    for (String order : rolledBack) {
      assertThat(chargesOf(order)).as("charges of rolled-back %s", order).isEmpty();
    }
    assertThat(second.getBean(OnceOutboxRelay.class).isRunning()).isTrue();
  }

  @Test
  void theRelayStopsWithTheContext() {
    ConfigurableApplicationContext third = start("third");
    OnceOutboxRelay relay = third.getBean(OnceOutboxRelay.class);
    OutboxRelay running = relay.relay();
    String thread = "once-outbox-relay-third-" + prefix;
    assertThat(relay.isRunning()).isTrue();
    assertThat(running).isNotNull();
    assertThat(running.isRunning()).isTrue();
    assertThat(relayThreadAlive(thread)).isTrue();

    third.close();

    assertThat(relay.isRunning()).isFalse();
    assertThat(running.isRunning()).isFalse();
    assertThat(relayThreadAlive(thread)).isFalse();
  }

  private static boolean relayThreadAlive(String name) {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals(name) && t.isAlive());
  }

  List<String> chargesOf(String order) {
    return jdbc.query(
        "SELECT msg_id, customer FROM " + charges() + " WHERE order_id = ?",
        (rs, n) -> rs.getString(1) + " " + rs.getString(2),
        order);
  }

  Map<String, Integer> chargeCounts(String orderPattern) {
    Map<String, Integer> counts = new HashMap<>();
    jdbc.query(
        "SELECT msg_id, COUNT(*) FROM " + charges() + " WHERE order_id LIKE ? GROUP BY msg_id",
        rs -> {
          counts.put(rs.getString(1), rs.getInt(2));
        },
        orderPattern);
    return counts;
  }

  long count(String sql, Object... args) {
    Long n = jdbc.queryForObject(sql, Long.class, args);
    return n == null ? 0 : n;
  }
}
