package dev.once.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.testkit.ChildJvm;
import dev.once.testkit.EffectChecker;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The consumer in child JVMs ({@link SqsWorker}) killed for real, against ElasticMQ in this JVM: at
 * the failpoint between the commit and the delete (the batch comes back after its visibility
 * timeout and is skipped), and with SIGKILL at random moments under a bank workload (see
 * docs/chaos.md).
 */
class SqsCrashIT {

  /** Short, so what a killed child received and did not delete comes back soon. */
  private static final int VISIBILITY_SECONDS = 2;

  private TestSqs sqs;
  private String queue;
  private TestDb db;
  private final List<ChildJvm> children = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    sqs = new TestSqs("once-crash");
    queue = sqs.queue(VISIBILITY_SECONDS);
    db = new TestDb();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (ChildJvm c : children) {
      c.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    try {
      sqs.close();
    } finally {
      db.close();
    }
  }

  @Test
  void aConsumerHaltedAfterCommitBeforeDeleteHasItsRedeliveriesSkipped() throws Exception {
    List<Map.Entry<String, String>> messages = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      messages.add(Map.entry("m-" + i, "log m-" + i));
    }
    sqs.sendAll(queue, messages);
    ChildJvm halted = start("-Donce.failpoints=sqs.after-commit-before-delete:halt");
    assertThat(halted.process().waitFor(60, TimeUnit.SECONDS))
        .as("the failpoint halted the child")
        .isTrue();
    assertThat(halted.process().exitValue()).isEqualTo(137);
    assertThat(halted.saw("FAILPOINT sqs.after-commit-before-delete halt")).isTrue();
    long committed = db.effectRows();
    assertThat(committed).as("the halted batch committed").isPositive();

    ChildJvm second = start();
    // The halted batch comes back once its visibility timeout ran out; all deleted means it was
    // skipped too.
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> db.effectRows() == 40 && sqs.unsettled(queue) == 0);
    stop(second);

    long duplicates = batchTotal(List.of(second), "duplicates");
    System.out.println(
        "[once-sqs] halted after committing "
            + committed
            + "; the restart skipped "
            + duplicates
            + " redelivered duplicates");
    assertThat(duplicates).as("the committed batch came back and was skipped").isEqualTo(committed);
    assertThat(batchTotal(List.of(second), "redeliveredDuplicates"))
        .as("skipped deliveries marked redelivered")
        .isEqualTo(committed);
    assertThat(db.effectCounts())
        .hasSize(40)
        .allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
    assertThat(sqs.unsettled(queue)).isZero();
  }

  @Test
  void chaosBankWorkloadSurvivesRandomSigkills() throws Exception {
    long seed = Long.getLong("once.chaos.seed", System.nanoTime());
    System.out.println(
        "[once-sqs] chaos seed " + seed + " (repeat with -Donce.chaos.seed=" + seed + ")");
    Random random = new Random(seed);
    int accounts = 10;
    long initial = 10_000;
    try (Connection c = db.pool.getConnection();
        Statement s = c.createStatement()) {
      for (int a = 0; a < accounts; a++) {
        s.execute(
            "INSERT INTO " + db.accounts() + " (id, balance) VALUES (" + a + ", " + initial + ")");
      }
    }

    // The history: every logical command once, by id; a duplicate resends an earlier id with the
    // same body.
    Map<String, String> sent = new LinkedHashMap<>();
    List<String> sentIds = new ArrayList<>();
    int messages = 10_000;
    int rounds = 12;
    int kills = 0;
    List<String> killedAt = new ArrayList<>();
    ChildJvm child = null;
    for (int round = 0; round < rounds; round++) {
      List<Map.Entry<String, String>> publish = new ArrayList<>();
      for (int i = round * messages / rounds; i < (round + 1) * messages / rounds; i++) {
        String id;
        if (!sentIds.isEmpty() && random.nextInt(100) < 30) {
          id = sentIds.get(random.nextInt(sentIds.size()));
        } else {
          id = "c-" + i;
          sent.put(
              id,
              random.nextBoolean()
                  ? "deposit " + random.nextInt(accounts) + " " + (1 + random.nextInt(100))
                  : "transfer "
                      + random.nextInt(accounts)
                      + " "
                      + random.nextInt(accounts)
                      + " "
                      + (1 + random.nextInt(500)));
          sentIds.add(id);
        }
        publish.add(Map.entry(id, sent.get(id)));
      }
      sqs.sendAll(queue, publish);
      if (child == null || !child.process().isAlive()) {
        child = start();
      }
      if (round == rounds - 1) {
        break;
      }
      // Kill at a random point of the backlog, strictly before its end (so received messages are
      // still undeleted); the target may be where it stands now: then the kill can land before the
      // child even started consuming.
      long now = db.effectRows();
      long backlog = sent.size() - now;
      long target = backlog <= 1 ? now : now + random.nextInt((int) backlog);
      ChildJvm victim = child;
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(1 + random.nextInt(20)))
          .until(() -> db.effectRows() >= target || !victim.process().isAlive());
      // A child that died by itself is a failure, not a kill.
      assertThat(victim.process().isAlive())
          .as("the child is alive before its kill; output: %s", victim.lines())
          .isTrue();
      boolean consuming = victim.saw("READY");
      victim.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      kills++;
      killedAt.add((consuming ? "" : "starting@") + db.effectRows());
      db.assertBankConserved(accounts, initial, sent);
    }
    ChildJvm last = child;
    await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> db.effectRows() >= sent.size() && sqs.unsettled(queue) == 0);
    stop(last);
    long skipped = batchTotal(children, "duplicates");
    long redelivered =
        batchTotal(children, "redelivered") + batchTotal(children, "redeliveredDuplicates");
    System.out.println(
        "[once-sqs] chaos: killed at effect rows "
            + killedAt
            + "; "
            + (messages - sent.size())
            + " duplicates sent, "
            + skipped
            + " duplicates skipped in deleted batches, "
            + redelivered
            + " deliveries handed out again after a kill");

    // The checker: every id classified by its committed effects.
    Map<String, Integer> counts = db.effectCounts();
    EffectChecker.Verdict verdict = EffectChecker.check(sent.keySet(), counts);
    System.out.println(
        "[once-sqs] chaos seed "
            + seed
            + ": "
            + messages
            + " sent, "
            + sent.size()
            + " distinct ids, "
            + kills
            + " SIGKILLs; "
            + verdict);
    assertThat(kills).isGreaterThanOrEqualTo(10);
    // The kills land inside the backlog, where the child holds undeleted messages: they come back.
    assertThat(redelivered)
        .as("deliveries redelivered after the kills (seed %d)", seed)
        .isPositive();
    verdict.assertExactlyOnce("seed " + seed);
    db.assertBankConserved(accounts, initial, sent);
    assertThat(sqs.unsettled(queue)).as("queue drained, everything deleted").isZero();
  }

  /** The sum of one field of every BATCH line the children printed. */
  private static long batchTotal(List<ChildJvm> children, String field) {
    return children.stream()
        .flatMap(c -> c.lines().stream())
        .filter(l -> l.startsWith("BATCH "))
        .flatMap(l -> java.util.Arrays.stream(l.split(" ")))
        .filter(kv -> kv.startsWith(field + "="))
        .mapToLong(kv -> Long.parseLong(kv.substring(field.length() + 1)))
        .sum();
  }

  private ChildJvm start(String... jvmArgs) {
    ChildJvm child =
        ChildJvm.start(
            SqsWorker.class,
            List.of(jvmArgs),
            List.of(
                TestSqs.endpoint(),
                queue,
                db.db.jdbcUrl(),
                db.db.user(),
                db.db.password().isEmpty() ? "-" : db.db.password(),
                db.prefix));
    children.add(child);
    return child;
  }

  /** Asks the child to drain, delete and exit; it must say CLOSED and exit 0. */
  private static void stop(ChildJvm child) throws Exception {
    child.send("stop");
    assertThat(child.process().waitFor(60, TimeUnit.SECONDS)).as("the child stopped").isTrue();
    assertThat(child.process().exitValue()).as("exit code; output: " + child.lines()).isZero();
    assertThat(child.saw("CLOSED")).isTrue();
  }
}
