package dev.once.examples.orders;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.testkit.EffectChecker;
import dev.once.testkit.servers.TestKafka;
import dev.once.testkit.servers.TestRabbitMq;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The example's two sides as they run from the jar, each on its own SQLite file, against real
 * brokers (the RabbitMQ server the test kit finds; the test kit's in-process KRaft broker): orders
 * placed over HTTP from several threads are each charged once; events the relay publishes a second
 * time (their outbox rows set back to pending, as a relay that died between the broker's
 * acknowledgement and marking them sent leaves them) are skipped by the payments side's inbox; an
 * invalid order is refused and publishes nothing.
 */
class OrdersToPaymentsIT {

  private static final Pattern EVENT_ID = Pattern.compile("\"eventId\":\"([0-9a-f-]{36})\"");

  private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private final String run = UUID.randomUUID().toString().substring(0, 8);
  private Path dataDir;

  @AfterEach
  void stop() throws IOException {
    contexts.forEach(ConfigurableApplicationContext::close);
    if (dataDir != null) {
      try (var files = Files.list(dataDir)) {
        for (Path f : files.toList()) {
          Files.deleteIfExists(f);
        }
      }
      Files.deleteIfExists(dataDir);
    }
  }

  @Test
  void overRabbitMqEachOrderIsChargedOnce() throws Exception {
    Map<String, Object> broker = new HashMap<>();
    broker.put("orders.broker", "rabbitmq");
    broker.put("spring.rabbitmq.addresses", TestRabbitMq.uri());
    placeOrdersAndCheckEachIsChargedOnce(broker);
  }

  @Test
  void overKafkaEachOrderIsChargedOnce() throws Exception {
    TestKafka.createTopic("orders-" + run, 3);
    Map<String, Object> broker = new HashMap<>();
    broker.put("orders.broker", "kafka");
    broker.put("spring.kafka.bootstrap-servers", TestKafka.bootstrap());
    placeOrdersAndCheckEachIsChargedOnce(broker);
  }

  private void placeOrdersAndCheckEachIsChargedOnce(Map<String, Object> broker) throws Exception {
    dataDir = Files.createDirectories(Paths.get("target", "it-data-" + run)).toAbsolutePath();
    // The payments side first: on RabbitMQ it declares the queue the exchange routes to.
    ConfigurableApplicationContext payments = start("payments", broker);
    ConfigurableApplicationContext orders = start("orders", broker);
    String ordersUrl = "http://127.0.0.1:" + port(orders) + "/orders";
    JdbcTemplate ordersDb = orders.getBean(JdbcTemplate.class);
    JdbcTemplate paymentsDb = payments.getBean(JdbcTemplate.class);

    HttpResponse<String> invalid = post(ordersUrl, "{\"customer\":\"c0\",\"amountCents\":0}");
    assertThat(invalid.statusCode()).isEqualTo(400);
    assertThat(invalid.body()).contains("amountCents must be positive");

    long seed = System.nanoTime();
    System.out.println("[orders-example] seed " + seed);
    Set<String> eventIds = ConcurrentHashMap.newKeySet();
    ExecutorService clients = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        Random random = new Random(seed + t);
        done.add(
            clients.submit(
                () -> {
                  for (int i = 0; i < 15; i++) {
                    String body =
                        "{\"customer\":\"c"
                            + random.nextInt(4)
                            + "\",\"amountCents\":"
                            + (100 + random.nextInt(10_000))
                            + "}";
                    eventIds.add(eventIdOf(post(ordersUrl, body)));
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      clients.shutdownNow();
    }
    assertThat(eventIds).hasSize(60);
    assertThat(count(ordersDb, "SELECT COUNT(*) FROM orders")).isEqualTo(60);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> charges(paymentsDb).keySet().containsAll(eventIds));

    // c0's events published again, then one more c0 order: the relay keeps a key's order and the
    // payments side consumes it in order, so once that order is charged the copies have been
    // delivered before it.
    int republished =
        ordersDb.update("UPDATE once_outbox SET state = 'P', sent_at = NULL WHERE msg_key = 'c0'");
    assertThat(republished).isPositive();
    String sentinel = eventIdOf(post(ordersUrl, "{\"customer\":\"c0\",\"amountCents\":42}"));
    eventIds.add(sentinel);
    await().atMost(Duration.ofSeconds(60)).until(() -> charges(paymentsDb).containsKey(sentinel));
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> count(ordersDb, "SELECT COUNT(*) FROM once_outbox WHERE state <> 'S'") == 0);

    EffectChecker.Verdict verdict = EffectChecker.check(eventIds, charges(paymentsDb));
    System.out.println(
        "[orders-example] "
            + broker.get("orders.broker")
            + " republished "
            + republished
            + ": "
            + verdict);
    verdict.assertExactlyOnce("seed " + seed);
    assertThat(count(paymentsDb, "SELECT COUNT(*) FROM once_records WHERE status = 'C'"))
        .isEqualTo(61);
  }

  private ConfigurableApplicationContext start(String side, Map<String, Object> broker) {
    Map<String, Object> p = new HashMap<>(broker);
    p.put("server.port", "0");
    p.put("example.data-dir", dataDir.toString());
    p.put("orders.destination", "orders-" + run);
    p.put("payments.queue", "payments-" + run);
    p.put("payments.group", "payments-" + run);
    p.put("once.outbox.relay.poll-interval", "50ms");
    // As command-line arguments: they win over the profile's properties files, as they would for
    // a user running the jar.
    String[] args =
        p.entrySet().stream()
            .map(e -> "--" + e.getKey() + "=" + e.getValue())
            .toArray(String[]::new);
    ConfigurableApplicationContext context =
        new SpringApplicationBuilder(OrdersExampleApplication.class).profiles(side).run(args);
    contexts.add(context);
    return context;
  }

  private static int port(ConfigurableApplicationContext context) {
    return Integer.parseInt(context.getEnvironment().getRequiredProperty("local.server.port"));
  }

  private HttpResponse<String> post(String url, String json)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String eventIdOf(HttpResponse<String> response) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
    Matcher m = EVENT_ID.matcher(response.body());
    assertThat(m.find()).as(response.body()).isTrue();
    return m.group(1);
  }

  private static Map<String, Integer> charges(JdbcTemplate db) {
    Map<String, Integer> counts = new HashMap<>();
    db.query(
        "SELECT message_id, COUNT(*) FROM charges GROUP BY message_id",
        rs -> {
          counts.put(rs.getString(1), rs.getInt(2));
        });
    return counts;
  }

  private static long count(JdbcTemplate db, String sql) {
    Long n = db.queryForObject(sql, Long.class);
    return n == null ? 0 : n;
  }
}
