package dev.once.kafka;

import dev.once.testkit.EffectChecker;
import dev.once.testkit.servers.TestKafka;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.ChildJvm;
import dev.once.testkit.servers.TestServers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The chaos test of docs/chaos.md, sized for CI: a consumer in a child JVM applies bank deposits and transfers to
 * PostgreSQL while the test SIGKILLs it at random moments and restarts it; the producer injects ~30% duplicate
 * message ids; then one child halts itself at each failpoint. Then every id must have exactly one effect and the balances must add up. The seed is printed;
 * {@code -Donce.chaos.seed=<seed>} repeats a run.
 */
class KafkaChaosIT {

  private static final int MESSAGES = 10_000;
  private static final int KILLS = 10;
  private static final int ACCOUNTS = 10;
  private static final long INITIAL_BALANCE = 1_000_000;
  /** After the SIGKILL rounds, one round per failpoint: the child halts itself there (exit 137). */
  private static final List<String> HALTS = List.of(Failpoints.AFTER_CLAIM, Failpoints.AFTER_EFFECT_BEFORE_COMMIT,
      Failpoints.AFTER_COMMIT_BEFORE_OFFSET_COMMIT);
  private static final int ROUNDS = KILLS + HALTS.size();

  private final List<ChildJvm> children = new ArrayList<>();
  private KafkaFixture f;

  @AfterEach
  void tearDown() throws Exception {
    for (ChildJvm c : children) {
      c.process().destroyForcibly().waitFor();
    }
    if (f != null) {
      f.close();
    }
  }

  @Test
  void aConsumerKilledAtRandomMomentsAppliesEveryMessageExactlyOnce() throws Exception {
    long seed = Long.getLong("once.chaos.seed", System.nanoTime());
    System.out.println("[once-kafka] chaos seed " + seed + " (repeat with -Donce.chaos.seed=" + seed + ")");
    Random random = new Random(seed);
    TestDatabase db = TestServers.postgres();
    f = new KafkaFixture(db, KafkaFixture.newPrefix(), 2);
    f.execute("CREATE TABLE " + f.prefix + "_effects (id BIGSERIAL, msg_id VARCHAR(100) NOT NULL,"
        + " kind VARCHAR(16) NOT NULL, amount BIGINT NOT NULL, committed_at TIMESTAMPTZ DEFAULT now())");
    f.execute("CREATE TABLE " + f.prefix + "_accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL)");
    for (int a = 0; a < ACCOUNTS; a++) {
      f.execute("INSERT INTO " + f.prefix + "_accounts VALUES (" + a + ", " + INITIAL_BALANCE + ")");
    }
    String topic = "chaos-" + f.prefix;
    String group = "chaos-" + f.prefix;
    TestKafka.createTopic(topic, 3);

    // The history: every message id the broker acknowledged, with its payload (a duplicate repeats both).
    Map<String, String> sent = new LinkedHashMap<>();
    List<String> ids = new ArrayList<>();
    int produced = 0;
    int killed = 0;
    int halted = 0;
    try (KafkaProducer<String, String> producer = KafkaFixture.producer()) {
      for (int round = 0; round <= ROUNDS; round++) {
        int upTo = MESSAGES * (round + 1) / (ROUNDS + 1);
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        for (; produced < upTo; produced++) {
          String id;
          if (!ids.isEmpty() && random.nextInt(100) < 30) {
            id = ids.get(random.nextInt(ids.size()));
          } else {
            id = "m-" + ids.size();
            ids.add(id);
            sent.put(id, random.nextInt(3) == 0
                ? "deposit " + random.nextInt(ACCOUNTS) + " " + (1 + random.nextInt(1000))
                : "transfer " + random.nextInt(ACCOUNTS) + " " + random.nextInt(ACCOUNTS) + " " + (1 + random.nextInt(1000)));
          }
          acks.add(producer.send(KafkaFixture.message(topic, id, id, sent.get(id))));
        }
        for (Future<RecordMetadata> ack : acks) {
          ack.get();
        }
        if (round >= KILLS && round < ROUNDS) {
          String point = HALTS.get(round - KILLS);
          ChildJvm child = start(db, topic, group, point + ":halt");
          await().atMost(Duration.ofSeconds(60)).until(() -> !child.process().isAlive());
          assertThat(child.process().exitValue()).as("exit of the child halted at %s; output: %s", point, child.lines())
              .isEqualTo(137);
          halted++;
          continue;
        }
        ChildJvm child = start(db, topic, group);
        if (round == ROUNDS) {
          break; // the last one runs to the end
        }
        // A random moment mid-stream: after a random number of this child's batches (a round is about 65 batches
        // of 10), plus a random few milliseconds, so the kill lands inside a batch as often as between two.
        int batches = 1 + random.nextInt(10);
        await().atMost(Duration.ofSeconds(60)).until(() -> child.count("POLLED") >= batches || !child.process().isAlive());
        assertThat(child.process().isAlive()).as("child alive; output: %s", child.lines()).isTrue();
        long killAt = System.nanoTime() + random.nextInt(30) * 1_000_000L;
        await().pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(5))
            .until(() -> System.nanoTime() >= killAt);
        child.process().destroyForcibly().waitFor();
        killed++;
      }
    }

    long expectedDeposits = sent.values().stream().filter(v -> v.startsWith("deposit"))
        .mapToLong(v -> Long.parseLong(v.substring(v.lastIndexOf(' ') + 1))).sum();
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250)).until(() ->
        f.queryLong("SELECT COALESCE(SUM(next_offset), 0) FROM " + f.offsetsTable()) == MESSAGES);
    ChildJvm last = children.get(children.size() - 1);
    last.process().destroyForcibly().waitFor();

    // The checker: classify every id.
    Map<String, Long> effects = new HashMap<>();
    try (Connection c = f.pool.getConnection(); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT msg_id, COUNT(*) FROM " + f.prefix + "_effects GROUP BY msg_id")) {
      while (rs.next()) {
        effects.put(rs.getString(1), rs.getLong(2));
      }
    }
    EffectChecker.Verdict verdict = EffectChecker.check(sent.keySet(), effects);
    long total = f.queryLong("SELECT SUM(balance) FROM " + f.prefix + "_accounts");
    long negative = f.queryLong("SELECT COUNT(*) FROM " + f.prefix + "_accounts WHERE balance < 0");
    StringBuilder report = new StringBuilder("[once-kafka] chaos checker (seed " + seed + "): " + MESSAGES
        + " messages, " + sent.size() + " distinct ids, " + killed + " SIGKILLs, " + halted + " failpoint halts, "
        + children.size() + " child JVMs (batches before death: " + children.stream().map(c -> c.count("POLLED")).toList() + ");");
    report.append(' ').append(verdict);
    report.append("; balance sum ").append(total).append(" (expected ")
        .append(ACCOUNTS * INITIAL_BALANCE + expectedDeposits).append(')');
    System.out.println(report);

    assertThat(killed).isGreaterThanOrEqualTo(KILLS);
    assertThat(halted).isEqualTo(HALTS.size());
    verdict.assertExactlyOnce("seed " + seed);
    assertThat(verdict.ok()).hasSize(sent.size());
    assertThat(total).as("sum of balances = initial + distinct deposits").isEqualTo(ACCOUNTS * INITIAL_BALANCE
        + expectedDeposits);
    assertThat(negative).as("accounts below zero").isZero();
  }

  private ChildJvm start(TestDatabase db, String topic, String group, String... failpoints) {
    List<String> args = new ArrayList<>(List.of(TestKafka.bootstrap(), db.jdbcUrl(), db.user(),
        db.password().isEmpty() ? "-" : db.password(), f.prefix, topic, group));
    args.addAll(List.of(failpoints));
    ChildJvm child = ChildJvm.start(ChaosConsumer.class, List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"), args);
    children.add(child);
    return child;
  }
}
