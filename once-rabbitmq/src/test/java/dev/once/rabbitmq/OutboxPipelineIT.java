package dev.once.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.BuiltinExchangeType;
import dev.once.outbox.Outbox;
import dev.once.testkit.ChildJvm;
import dev.once.testkit.EffectChecker;
import dev.once.testkit.servers.TestKafka;
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
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The whole path, end to end, on PostgreSQL and a real broker: an orders service writes each order
 * and its {@code OrderPlaced} event through {@link Outbox} in one transaction (and later its {@code
 * OrderConfirmed}, same key), a tenth of the transactions rolling back; an {@code OutboxRelay} in a
 * child JVM ({@link PipelineRelay}) publishes with the broker's outbox publisher and is SIGKILLed
 * at random moments and restarted; a payments service in another child ({@link PipelinePayments})
 * applies every event through the broker's inbox consumer, and is killed too. Then every committed
 * event must have exactly one effect, no rolled-back order any, and each order's events must have
 * been applied in the order they were written.
 *
 * <p>It lives in once-rabbitmq, the module whose tests see both brokers, so both brokers run the
 * same scenario. The seed is printed; {@code -Donce.chaos.seed=<seed>} repeats a run's choices.
 */
class OutboxPipelineIT {

  private static final int ROUNDS = 11;
  private static final int ORDERS_PER_ROUND = 30;
  private static final int ROLLBACK_PERCENT = 10;
  private static final Set<Integer> CONSUMER_KILL_ROUNDS = Set.of(3, 7);

  /** Rounds whose relay kill lands after the broker acknowledged a batch, before it was marked. */
  private static final Set<Integer> HELD_KILL_ROUNDS = Set.of(1, 4, 8);

  private TestDb db;
  private TestBroker broker;
  private final List<ChildJvm> children = new ArrayList<>();
  private String outboxTable;

  @BeforeEach
  void setUp() throws Exception {
    broker = new TestBroker();
    db = new TestDb();
    outboxTable = db.prefix + "_outbox";
    try (Connection c = db.pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE "
              + db.prefix
              + "_orders (id BIGINT PRIMARY KEY, amount BIGINT NOT NULL, status VARCHAR(16) NOT NULL)");
      Outbox.builder().table(outboxTable).build().createSchema(c);
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    for (ChildJvm c : children) {
      c.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    try (Connection c = db.pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + db.prefix + "_orders");
      s.execute("DROP TABLE IF EXISTS " + outboxTable);
      s.execute("DROP TABLE IF EXISTS " + db.prefix + "_offsets");
    } finally {
      try {
        broker.close();
      } finally {
        db.close();
      }
    }
  }

  @Test
  void kafka() throws Exception {
    String topic = "orders-" + db.prefix;
    TestKafka.createTopic(topic, 3);
    run("kafka", TestKafka.bootstrap(), topic, topic);
  }

  @Test
  void rabbitmq() throws Exception {
    String exchange = broker.exchangeWithQueue("orders", BuiltinExchangeType.TOPIC, "#");
    run("rabbitmq", TestBroker.uri(), exchange, exchange + ".q");
  }

  /**
   * @param destination where the orders service sends its events
   * @param source what the payments service consumes
   */
  private void run(String kind, String address, String destination, String source)
      throws Exception {
    long seed = Long.getLong("once.chaos.seed", System.nanoTime());
    System.out.println(
        "[once-outbox] "
            + kind
            + " pipeline seed "
            + seed
            + " (repeat with -Donce.chaos.seed="
            + seed
            + ")");
    Random random = new Random(seed);
    Orders orders = new Orders(destination, random);

    ChildJvm payments = startPayments(kind, address, source);
    ChildJvm relay = startRelay(kind, address);
    int relayKills = 0;
    int heldKills = 0;
    int paymentsKills = 0;
    List<String> killedAt = new ArrayList<>();
    for (int round = 0; round < ROUNDS; round++) {
      ChildJvm victim = relay;
      if (HELD_KILL_ROUNDS.contains(round)) {
        victim.send("hold");
        orders.write(ORDERS_PER_ROUND);
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> victim.saw("HELD") || !victim.process().isAlive());
        heldKills++;
      } else {
        orders.write(ORDERS_PER_ROUND);
        // A random moment: once the broker has acknowledged a random share of what is committed;
        // the relay may be in a batch, between the broker's answer and its commit, or idle.
        long sentNow = sent();
        long committed = orders.committedEvents.size();
        long target =
            sentNow + (committed > sentNow ? random.nextInt((int) (committed - sentNow)) : 0);
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(1 + random.nextInt(10)))
            .until(() -> sent() >= target || !victim.process().isAlive());
      }
      assertThat(victim.process().isAlive())
          .as("the relay is alive before its kill; output: %s", victim.lines())
          .isTrue();
      victim.kill();
      relayKills++;
      killedAt.add((HELD_KILL_ROUNDS.contains(round) ? "relay(held)@" : "relay@") + sent());
      relay = startRelay(kind, address);

      if (CONSUMER_KILL_ROUNDS.contains(round)) {
        long applied = db.effectRows();
        long goal = applied + random.nextInt((int) Math.max(1, sent() - applied));
        ChildJvm consumer = payments;
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> db.effectRows() >= goal || !consumer.process().isAlive());
        assertThat(consumer.process().isAlive())
            .as("the payments child is alive before its kill; output: %s", consumer.lines())
            .isTrue();
        consumer.kill();
        paymentsKills++;
        killedAt.add("payments@" + db.effectRows());
        payments = startPayments(kind, address, source);
      }
    }
    orders.confirmAll();
    long expected = orders.committedEvents.size();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> db.effectRows() >= expected && pending() == 0);
    // Nothing more may arrive: let the children go before the counts are read.
    relay.kill();
    payments.kill();

    Map<String, Integer> effects = db.effectCounts();
    EffectChecker.Verdict verdict = EffectChecker.check(orders.committedEvents.keySet(), effects);
    long duplicatesSkipped = total(children, "duplicates");
    System.out.println(
        "[once-outbox] "
            + kind
            + " pipeline seed "
            + seed
            + ": "
            + orders.committedOrders.size()
            + " orders committed, "
            + orders.rolledBack
            + " transactions rolled back, "
            + relayKills
            + " relay and "
            + paymentsKills
            + " payments SIGKILLs at "
            + killedAt
            + "; "
            + duplicatesSkipped
            + " redelivered or republished events skipped by the inbox; "
            + verdict);
    assertThat(relayKills).isGreaterThanOrEqualTo(10);
    assertThat(paymentsKills).isGreaterThanOrEqualTo(1);
    // Each held kill left acknowledged messages unmarked: the next relay published them again.
    long held =
        children.stream()
            .flatMap(c -> c.lines().stream())
            .filter(l -> l.startsWith("HELD "))
            .mapToLong(l -> Long.parseLong(l.substring("HELD ".length())))
            .sum();
    assertThat(heldKills).isEqualTo(HELD_KILL_ROUNDS.size());
    assertThat(duplicatesSkipped)
        .as("republished events the inbox skipped, at least the %d held ones", held)
        .isGreaterThanOrEqualTo(held);
    verdict.assertExactlyOnce(kind + " pipeline, seed " + seed);
    assertNoRolledBackOrderApplied(orders);
    assertEachOrdersEventsAppliedInOrder(orders);
  }

  /** The orders service: its transactions, which ones committed, and the events they wrote. */
  private final class Orders {
    private final Outbox outbox = Outbox.builder().table(outboxTable).build();
    private final String destination;
    private final Random random;
    private long nextOrder = 1;
    final Map<String, String> committedEvents = new LinkedHashMap<>();
    final List<Long> committedOrders = new ArrayList<>();
    final List<Long> unconfirmed = new ArrayList<>();
    final Set<Long> rolledBackOrders = new TreeSet<>();
    int rolledBack;

    Orders(String destination, Random random) {
      this.destination = destination;
      this.random = random;
    }

    /** Places {@code count} orders and confirms about as many earlier ones, interleaved. */
    void write(int count) throws Exception {
      for (int i = 0; i < count; i++) {
        place();
        if (!unconfirmed.isEmpty() && random.nextBoolean()) {
          confirm(unconfirmed.get(random.nextInt(unconfirmed.size())));
        }
      }
    }

    void confirmAll() throws Exception {
      while (!unconfirmed.isEmpty()) {
        confirm(unconfirmed.get(0));
      }
    }

    private void place() throws Exception {
      long order = nextOrder++;
      long amount = 1 + random.nextInt(10_000);
      String event = "OrderPlaced " + order + " " + amount;
      try (Connection c = db.pool.getConnection()) {
        c.setAutoCommit(false);
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO "
                    + db.prefix
                    + "_orders (id, amount, status) VALUES (?, ?, 'PLACED')")) {
          ps.setLong(1, order);
          ps.setLong(2, amount);
          ps.executeUpdate();
        }
        UUID id = enqueue(c, order, "OrderPlaced", event);
        if (random.nextInt(100) < ROLLBACK_PERCENT) {
          c.rollback();
          rolledBack++;
          rolledBackOrders.add(order);
        } else {
          c.commit();
          committedEvents.put(id.toString(), event);
          committedOrders.add(order);
          unconfirmed.add(order);
        }
      }
    }

    private void confirm(long order) throws Exception {
      String event = "OrderConfirmed " + order;
      try (Connection c = db.pool.getConnection()) {
        c.setAutoCommit(false);
        try (PreparedStatement ps =
            c.prepareStatement(
                "UPDATE " + db.prefix + "_orders SET status = 'CONFIRMED' WHERE id = ?")) {
          ps.setLong(1, order);
          ps.executeUpdate();
        }
        UUID id = enqueue(c, order, "OrderConfirmed", event);
        if (random.nextInt(100) < ROLLBACK_PERCENT) {
          c.rollback(); // the order stays unconfirmed; a later transaction confirms it
          rolledBack++;
        } else {
          c.commit();
          committedEvents.put(id.toString(), event);
          unconfirmed.remove(order);
        }
      }
    }

    private UUID enqueue(Connection c, long order, String type, String event) throws Exception {
      return outbox.enqueue(
          c,
          destination,
          "order." + order,
          event.getBytes(StandardCharsets.UTF_8),
          Map.of("type", type));
    }
  }

  private void assertNoRolledBackOrderApplied(Orders orders) throws Exception {
    List<Long> applied = new ArrayList<>();
    try (Connection c = db.pool.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT payload FROM " + db.effects())) {
      while (rs.next()) {
        long order = Long.parseLong(rs.getString(1).split(" ")[1]);
        if (orders.rolledBackOrders.contains(order)) {
          applied.add(order);
        }
      }
    }
    assertThat(orders.rolledBackOrders).as("some orders rolled back").isNotEmpty();
    assertThat(applied).as("rolled-back orders that were charged").isEmpty();
    assertThat(
            db.scalar(
                "SELECT COUNT(*) FROM "
                    + outboxTable
                    + " WHERE msg_key IN ("
                    + orders.rolledBackOrders.stream()
                        .map(o -> "'order." + o + "'")
                        .reduce((a, b) -> a + "," + b)
                        .orElseThrow()
                    + ")"))
        .as("outbox rows of rolled-back orders")
        .isZero();
  }

  /** Each order's OrderPlaced effect was written before its OrderConfirmed effect. */
  private void assertEachOrdersEventsAppliedInOrder(Orders orders) throws Exception {
    Map<Long, List<String>> eventsByOrder = new HashMap<>();
    try (Connection c = db.pool.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT payload FROM " + db.effects() + " ORDER BY id")) {
      while (rs.next()) {
        String[] event = rs.getString(1).split(" ");
        eventsByOrder
            .computeIfAbsent(Long.parseLong(event[1]), o -> new ArrayList<>())
            .add(event[0]);
      }
    }
    List<String> outOfOrder = new ArrayList<>();
    for (long order : orders.committedOrders) {
      List<String> seen = eventsByOrder.getOrDefault(order, List.of());
      if (!seen.equals(List.of("OrderPlaced", "OrderConfirmed"))) {
        outOfOrder.add(order + "=" + seen);
      }
    }
    assertThat(outOfOrder)
        .as("orders whose events were not applied placed-then-confirmed")
        .isEmpty();
  }

  private long sent() throws Exception {
    return db.scalar("SELECT COUNT(*) FROM " + outboxTable + " WHERE state = 'S'");
  }

  private long pending() throws Exception {
    return db.scalar("SELECT COUNT(*) FROM " + outboxTable + " WHERE state <> 'S'");
  }

  private ChildJvm startRelay(String kind, String address) {
    ChildJvm child =
        ChildJvm.start(
            PipelineRelay.class,
            List.of("-Xmx192m"),
            List.of(kind, address, db.db.jdbcUrl(), db.db.user(), password(), outboxTable));
    children.add(child);
    return child;
  }

  private ChildJvm startPayments(String kind, String address, String source) {
    ChildJvm child =
        ChildJvm.start(
            PipelinePayments.class,
            List.of("-Xmx256m"),
            List.of(kind, address, source, db.db.jdbcUrl(), db.db.user(), password(), db.prefix));
    children.add(child);
    return child;
  }

  private String password() {
    return db.db.password().isEmpty() ? "-" : db.db.password();
  }

  /** The sum of one field of every BATCH line the children printed. */
  private static long total(List<ChildJvm> children, String field) {
    return children.stream()
        .flatMap(c -> c.lines().stream())
        .filter(l -> l.startsWith("BATCH "))
        .flatMap(l -> java.util.Arrays.stream(l.split(" ")))
        .filter(kv -> kv.startsWith(field + "="))
        .mapToLong(kv -> Long.parseLong(kv.substring(field.length() + 1)))
        .sum();
  }
}
