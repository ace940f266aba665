package dev.once.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.testkit.ChildJvm;
import dev.once.testkit.EffectChecker;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestKafka;
import dev.once.testkit.servers.TestServers;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The chaos test of docs/chaos.md, sized for CI: a consumer in a child JVM applies bank deposits
 * and transfers to PostgreSQL while the test SIGKILLs it at random points of its backlog and
 * restarts it; the producer injects ~30% duplicate message ids, half of them on another partition
 * than their original; then one child halts itself at each failpoint. Then every id must have
 * exactly one effect, the balances must add up, and the redelivery path must have been taken:
 * records handed to a child that died were handed again to its successor (and, with the offsets in
 * Kafka, ones whose effect had committed were skipped as duplicates). It runs once with the offsets
 * in the database and once with the offsets in Kafka. The seed is printed; {@code
 * -Donce.chaos.seed=<seed>} repeats a run.
 */
class KafkaChaosIT {

  private static final int MESSAGES = 10_000;
  private static final int PARTITIONS = 3;
  private static final int KILLS = 10;
  private static final int ACCOUNTS = 10;
  private static final long INITIAL_BALANCE = 1_000_000;

  /** After the SIGKILL rounds, one round per failpoint: the child halts itself there (exit 137). */
  private static final List<String> HALTS =
      List.of(
          Failpoints.AFTER_CLAIM,
          Failpoints.AFTER_EFFECT_BEFORE_COMMIT,
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

  @ParameterizedTest(name = "offsets in {0}")
  @ValueSource(strings = {"db", "kafka"})
  void aConsumerKilledAtRandomMomentsAppliesEveryMessageExactlyOnce(String offsets)
      throws Exception {
    long seed = Long.getLong("once.chaos.seed", System.nanoTime());
    System.out.println(
        "[once-kafka] chaos (offsets in "
            + offsets
            + ") seed "
            + seed
            + " (repeat with"
            + " -Donce.chaos.seed="
            + seed
            + ")");
    Random random = new Random(seed);
    TestDatabase db = TestServers.postgres();
    f = new KafkaFixture(db, KafkaFixture.newPrefix(), 2);
    f.execute(
        "CREATE TABLE "
            + f.prefix
            + "_effects (id BIGSERIAL, msg_id VARCHAR(100) NOT NULL,"
            + " kind VARCHAR(16) NOT NULL, amount BIGINT NOT NULL, child INT NOT NULL,"
            + " committed_at TIMESTAMPTZ DEFAULT now())");
    f.execute(
        "CREATE TABLE " + f.prefix + "_accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL)");
    for (int a = 0; a < ACCOUNTS; a++) {
      f.execute(
          "INSERT INTO " + f.prefix + "_accounts VALUES (" + a + ", " + INITIAL_BALANCE + ")");
    }
    String topic = "chaos-" + f.prefix;
    String group = "chaos-" + f.prefix;
    TestKafka.createTopic(topic, PARTITIONS);

    // The history: every message id the broker acknowledged, with its payload (a duplicate repeats
    // both).
    Map<String, String> sent = new LinkedHashMap<>();
    List<String> ids = new ArrayList<>();
    Map<String, Integer> partitionOf = new HashMap<>();
    int produced = 0;
    int otherPartitionDuplicates = 0;
    int killed = 0;
    int halted = 0;
    List<String> killedAt = new ArrayList<>();
    try (KafkaProducer<String, String> producer = KafkaFixture.producer()) {
      for (int round = 0; round <= ROUNDS; round++) {
        int upTo = MESSAGES * (round + 1) / (ROUNDS + 1);
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        for (; produced < upTo; produced++) {
          String id;
          int partition;
          if (!ids.isEmpty() && random.nextInt(100) < 30) {
            id = ids.get(random.nextInt(ids.size()));
            int original = partitionOf.get(id);
            // Half the duplicates on the original's partition (a producer retry), half on another
            // (a republish
            // with another key), where they can be processed before their original or in the same
            // batch.
            partition =
                random.nextBoolean()
                    ? original
                    : (original + 1 + random.nextInt(PARTITIONS - 1)) % PARTITIONS;
            if (partition != original) {
              otherPartitionDuplicates++;
            }
          } else {
            id = "m-" + ids.size();
            ids.add(id);
            partition = random.nextInt(PARTITIONS);
            partitionOf.put(id, partition);
            sent.put(
                id,
                random.nextInt(3) == 0
                    ? "deposit " + random.nextInt(ACCOUNTS) + " " + (1 + random.nextInt(1000))
                    : "transfer "
                        + random.nextInt(ACCOUNTS)
                        + " "
                        + random.nextInt(ACCOUNTS)
                        + " "
                        + (1 + random.nextInt(1000)));
          }
          ProducerRecord<String, String> message =
              new ProducerRecord<>(topic, partition, id, sent.get(id));
          message
              .headers()
              .add(KafkaInboxConsumer.MESSAGE_ID_HEADER, id.getBytes(StandardCharsets.UTF_8));
          acks.add(producer.send(message));
        }
        for (Future<RecordMetadata> ack : acks) {
          ack.get();
        }
        if (round >= KILLS && round < ROUNDS) {
          String point = HALTS.get(round - KILLS);
          ChildJvm child = start(db, topic, group, offsets, point + ":halt");
          await().atMost(Duration.ofSeconds(60)).until(() -> !child.process().isAlive());
          assertThat(child.process().exitValue())
              .as("exit of the child halted at %s; output: %s", point, child.lines())
              .isEqualTo(137);
          halted++;
          continue;
        }
        ChildJvm child = start(db, topic, group, offsets);
        if (round == ROUNDS) {
          break; // the last one runs to the end
        }
        // A random point of the backlog, anywhere from its first records to its last, plus a random
        // few
        // milliseconds, so the kill lands inside a batch as often as between two.
        long applied = effectRows();
        long backlog = sent.size() - applied;
        long target =
            backlog <= 0 ? applied : applied + 1 + random.nextInt((int) Math.max(1, backlog - 1));
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(5))
            .until(() -> effectRows() >= target || !child.process().isAlive());
        assertThat(child.process().isAlive()).as("child alive; output: %s", child.lines()).isTrue();
        long killAt = System.nanoTime() + random.nextInt(30) * 1_000_000L;
        await()
            .pollInterval(Duration.ofMillis(1))
            .atMost(Duration.ofSeconds(5))
            .until(() -> System.nanoTime() >= killAt);
        child.process().destroyForcibly().waitFor();
        killed++;
        killedAt.add(Math.round(100.0 * (effectRows() - applied) / Math.max(1, backlog)) + "%");
      }
    }

    long expectedDeposits =
        sent.values().stream()
            .filter(v -> v.startsWith("deposit"))
            .mapToLong(v -> Long.parseLong(v.substring(v.lastIndexOf(' ') + 1)))
            .sum();
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap()))) {
      // Consumed to the end by the offsets that decide where a consumer starts.
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(250))
          .until(
              () ->
                  (offsets.equals("db")
                          ? f.queryLong(
                              "SELECT COALESCE(SUM(next_offset), 0) FROM " + f.offsetsTable())
                          : admin
                              .listConsumerGroupOffsets(group)
                              .partitionsToOffsetAndMetadata()
                              .get()
                              .values()
                              .stream()
                              .filter(o -> o != null)
                              .mapToLong(OffsetAndMetadata::offset)
                              .sum())
                      == MESSAGES);
    }
    ChildJvm last = children.get(children.size() - 1);
    last.process().destroyForcibly().waitFor();

    // The checker: classify every id.
    Map<String, Long> effects = new HashMap<>();
    Map<String, Integer> appliedBy = new HashMap<>();
    try (Connection c = f.pool.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT msg_id, COUNT(*), MIN(child) FROM "
                    + f.prefix
                    + "_effects GROUP BY msg_id")) {
      while (rs.next()) {
        effects.put(rs.getString(1), rs.getLong(2));
        appliedBy.put(rs.getString(1), rs.getInt(3));
      }
    }
    EffectChecker.Verdict verdict = EffectChecker.check(sent.keySet(), effects);
    long total = f.queryLong("SELECT SUM(balance) FROM " + f.prefix + "_accounts");
    long negative = f.queryLong("SELECT COUNT(*) FROM " + f.prefix + "_accounts WHERE balance < 0");

    // The redelivery path: which children were handed each record.
    Map<String, List<Integer>> pollers = new HashMap<>();
    Map<String, String> idAt = new HashMap<>();
    for (int i = 0; i < children.size(); i++) {
      for (String line : children.get(i).lines()) {
        if (line.startsWith("P ")) {
          String[] p = line.split(" ");
          pollers.computeIfAbsent(p[1], k -> new ArrayList<>()).add(i);
          idAt.put(p[1], p[2]);
        }
      }
    }
    long redelivered =
        pollers.values().stream()
            .filter(handedTo -> handedTo.stream().distinct().count() > 1)
            .count();
    // Handed again after its id's effect had committed in an earlier child: the last child skipped
    // it.
    long skippedAfterRedelivery =
        pollers.entrySet().stream()
            .filter(e -> e.getValue().stream().distinct().count() > 1)
            .filter(
                e ->
                    appliedBy.getOrDefault(idAt.get(e.getKey()), Integer.MAX_VALUE)
                        < e.getValue().get(e.getValue().size() - 1))
            .count();

    StringBuilder report =
        new StringBuilder(
            "[once-kafka] chaos checker (offsets in "
                + offsets
                + ", seed "
                + seed
                + "): "
                + MESSAGES
                + " messages, "
                + sent.size()
                + " distinct ids, "
                + otherPartitionDuplicates
                + " duplicates on another partition than their original, "
                + killed
                + " SIGKILLs at backlog progress "
                + killedAt
                + ", "
                + halted
                + " failpoint halts, "
                + children.size()
                + " child JVMs (batches before death: "
                + children.stream().map(c -> c.count("POLLED")).toList()
                + "); "
                + redelivered
                + " records handed to"
                + " more than one child, "
                + skippedAfterRedelivery
                + " of them after their effect had committed;");
    report.append(' ').append(verdict);
    report
        .append("; balance sum ")
        .append(total)
        .append(" (expected ")
        .append(ACCOUNTS * INITIAL_BALANCE + expectedDeposits)
        .append(')');
    System.out.println(report);

    assertThat(killed).isGreaterThanOrEqualTo(KILLS);
    assertThat(halted).isEqualTo(HALTS.size());
    assertThat(otherPartitionDuplicates)
        .as("duplicates published on another partition")
        .isPositive();
    verdict.assertExactlyOnce("seed " + seed);
    assertThat(verdict.ok()).hasSize(sent.size());
    assertThat(total)
        .as("sum of balances = initial + distinct deposits")
        .isEqualTo(ACCOUNTS * INITIAL_BALANCE + expectedDeposits);
    assertThat(negative).as("accounts below zero").isZero();
    // The halts after the claim and after the effect die with a polled batch uncommitted: it is
    // handed again.
    assertThat(redelivered)
        .as("records handed again after a child died (seed %d)", seed)
        .isPositive();
    if (offsets.equals("kafka")) {
      // The halt between the database commit and Kafka's offset commit: its batch comes back and is
      // skipped.
      assertThat(skippedAfterRedelivery)
          .as("records handed again after their effect committed (seed %d)", seed)
          .isPositive();
    }
  }

  private long effectRows() throws SQLException {
    return f.queryLong("SELECT COUNT(*) FROM " + f.prefix + "_effects");
  }

  private ChildJvm start(
      TestDatabase db, String topic, String group, String offsets, String... failpoints) {
    List<String> args =
        new ArrayList<>(
            List.of(
                TestKafka.bootstrap(),
                db.jdbcUrl(),
                db.user(),
                db.password().isEmpty() ? "-" : db.password(),
                f.prefix,
                topic,
                group,
                offsets,
                String.valueOf(children.size())));
    args.addAll(List.of(failpoints));
    ChildJvm child =
        ChildJvm.start(ChaosConsumer.class, List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"), args);
    children.add(child);
    return child;
  }
}
