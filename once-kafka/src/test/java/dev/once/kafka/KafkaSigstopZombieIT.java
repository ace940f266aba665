package dev.once.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.testkit.ChildJvm;
import dev.once.testkit.EffectChecker;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestKafka;
import dev.once.testkit.servers.TestServers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The zombie of docs/chaos.md for real: a consumer in a child JVM applies a few batches, polls one
 * more and is frozen with SIGSTOP while it holds that batch in memory; it stays stopped past its
 * session timeout and {@code max.poll.interval.ms} (6 s) until the group has given every partition
 * to a successor in this JVM, which applies everything; then SIGCONT. The zombie processes its
 * stale batch (every id already applied: skipped) and its offset commit is refused, or commits
 * nothing new. The checker: every message id applied exactly once.
 */
class KafkaSigstopZombieIT {

  private static final int MESSAGES = 300;

  private final List<ChildJvm> children = new ArrayList<>();
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private KafkaFixture f;

  @AfterEach
  void tearDown() throws Exception {
    for (ChildJvm c : children) {
      signal("CONT", c.process().pid()); // never leave a stopped process behind
      c.kill();
    }
    threads.shutdownNow();
    if (f != null) {
      f.close();
    }
  }

  @Test
  void aConsumerStoppedPastItsSessionAndResumedAppliesNothingTwice() throws Exception {
    TestDatabase db = TestServers.postgres();
    f = new KafkaFixture(db, KafkaFixture.newPrefix(), 4);
    f.execute(
        "CREATE TABLE "
            + f.prefix
            + "_effects (id BIGSERIAL, msg_id VARCHAR(100) NOT NULL,"
            + " writer VARCHAR(16) NOT NULL, committed_at TIMESTAMPTZ DEFAULT now())");
    String topic = "sigstop-" + f.prefix;
    String group = "sigstop-" + f.prefix;
    TestKafka.createTopic(topic, 2);
    List<String> sentIds = new ArrayList<>();
    Random random = new Random();
    try (KafkaProducer<String, String> producer = KafkaFixture.producer();
        Admin admin =
            Admin.create(
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap()))) {
      List<Future<RecordMetadata>> acks = new ArrayList<>();
      for (int i = 0; i < MESSAGES; i++) {
        String id =
            !sentIds.isEmpty() && random.nextInt(100) < 20
                ? sentIds.get(random.nextInt(sentIds.size()))
                : "z-" + sentIds.size();
        sentIds.add(id);
        acks.add(producer.send(KafkaFixture.message(topic, id, id, "v")));
      }
      for (Future<RecordMetadata> ack : acks) {
        ack.get();
      }

      ChildJvm zombie =
          ChildJvm.start(
              ZombieChild.class,
              List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"),
              List.of(
                  TestKafka.bootstrap(),
                  db.jdbcUrl(),
                  db.user(),
                  db.password().isEmpty() ? "-" : db.password(),
                  f.prefix,
                  topic,
                  group,
                  "3"));
      children.add(zombie);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  zombie.saw("FAILPOINT " + Failpoints.AFTER_POLL + " PAUSED")
                      || !zombie.process().isAlive());
      assertThat(zombie.process().isAlive())
          .as("zombie alive; output: %s", zombie.lines())
          .isTrue();
      signal("STOP", zombie.process().pid());
      long appliedByZombie = f.queryLong("SELECT COUNT(*) FROM " + f.prefix + "_effects");

      String successorId = "successor-" + f.prefix;
      KafkaInboxConsumer<String, String> successor =
          KafkaInboxConsumer.builder(
                  KafkaFixture.consumer(
                      group,
                      Map.of(
                          ConsumerConfig.CLIENT_ID_CONFIG,
                          successorId,
                          ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                          50)),
                  f.pool,
                  f.inbox,
                  (c, r) -> {
                    try (PreparedStatement ps =
                        c.prepareStatement(
                            "INSERT INTO "
                                + f.prefix
                                + "_effects (msg_id, writer) VALUES (?, 'successor')")) {
                      ps.setString(1, KafkaInboxConsumer.messageIdHeader(r));
                      ps.executeUpdate();
                    }
                  })
              .topics(List.of(topic))
              .deadLetters(producer)
              .offsetsTable(f.offsetsTable())
              .build();
      Future<?> successorLoop = threads.submit(successor::run);
      // The stopped zombie sends no heartbeat: after its session timeout the group is the successor
      // alone, owning
      // both partitions.
      long stoppedAt = System.nanoTime();
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                ConsumerGroupDescription d =
                    admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                if (d.members().size() != 1) {
                  return false;
                }
                MemberDescription m = d.members().iterator().next();
                return m.clientId().equals(successorId)
                    && m.assignment().topicPartitions().size() == 2;
              });
      long takeoverMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt);
      Set<String> distinct = new LinkedHashSet<>(sentIds);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  f.queryLong("SELECT COUNT(DISTINCT msg_id) FROM " + f.prefix + "_effects")
                          == distinct.size()
                      && f.queryLong(
                              "SELECT COALESCE(SUM(next_offset), 0) FROM " + f.offsetsTable())
                          == MESSAGES);
      assertThat(zombie.process().isAlive()).as("the zombie is still stopped").isTrue();
      assertThat(zombie.saw("ZOMBIE-BATCH")).isFalse();

      signal("CONT", zombie.process().pid());
      zombie.send("GO");
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> zombie.saw("ZOMBIE-BATCH") || !zombie.process().isAlive());
      String zombieBatch = zombie.firstWith("ZOMBIE-BATCH");
      await().atMost(Duration.ofSeconds(30)).until(() -> !zombie.process().isAlive());
      successor.close();
      successorLoop.get(30, TimeUnit.SECONDS);

      System.out.println(
          "[once-kafka] SIGSTOP zombie: applied "
              + appliedByZombie
              + " before the stop, takeover after "
              + takeoverMillis
              + " ms; after SIGCONT: "
              + zombieBatch
              + "; successor "
              + successor.stats());
      check(distinct);
      assertThat(zombieBatch).as("the zombie's stale batch after SIGCONT").contains("applied=0");
      assertThat(zombieBatch).matches(".*outcome=(FENCED|COMMITTED).*");
      assertThat(successor.stats().applied() + appliedByZombie)
          .as("applications")
          .isEqualTo(distinct.size());
    } finally {
      threads.shutdownNow();
    }
  }

  /** Sends a signal to a process this test started, by its PID. */
  private static void signal(String signal, long pid) throws Exception {
    Process kill =
        new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
            .redirectErrorStream(true)
            .start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
  }

  private void check(Set<String> sent) throws Exception {
    Map<String, Long> effects = new HashMap<>();
    try (Connection c = f.pool.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT msg_id, COUNT(*) FROM " + f.prefix + "_effects GROUP BY msg_id")) {
      while (rs.next()) {
        effects.put(rs.getString(1), rs.getLong(2));
      }
    }
    EffectChecker.Verdict verdict = EffectChecker.check(sent, effects);
    System.out.println("[once-kafka] SIGSTOP zombie checker: " + sent.size() + " ids; " + verdict);
    verdict.assertExactlyOnce("SIGSTOP zombie");
  }
}
