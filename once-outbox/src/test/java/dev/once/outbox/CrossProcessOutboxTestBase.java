package dev.once.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.testkit.ChildJvm;
import dev.once.testkit.EffectChecker;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@link OutboxTestBase} on a database that a relay in another JVM can share: the relay is killed
 * with SIGKILL in the middle of its batches while this JVM writes.
 */
abstract class CrossProcessOutboxTestBase extends OutboxTestBase {

  /**
   * The JDBC URL of the broker stand-in's sink (user and password as the outbox's): by default the
   * outbox's own database.
   */
  protected String sinkUrl() {
    return connection()[0];
  }

  private Connection sink() throws SQLException {
    String[] c = connection();
    return DriverManager.getConnection(sinkUrl(), c[1], c[2]);
  }

  @Test
  void aRelaySigkilledMidBatchAgainAndAgainLosesNothing() throws Exception {
    long seed = System.nanoTime();
    System.out.println("[outbox] kill test on " + dialect + ", seed " + seed);
    String sink = table + "_sink";
    try (Connection c = sink();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE " + sink + " (id VARCHAR(64) NOT NULL)");
    }
    List<String> committed = new CopyOnWriteArrayList<>();
    AtomicBoolean writing = new AtomicBoolean(true);
    List<Thread> writers = new ArrayList<>();
    Random seeds = new Random(seed);
    List<Throwable> writerFailures = new CopyOnWriteArrayList<>();
    for (int w = 0; w < 2; w++) {
      Random random = new Random(seeds.nextLong());
      int writer = w;
      Thread t =
          new Thread(
              () -> {
                int n = 0;
                while (writing.get() && n < 1500) {
                  try (Connection c = pool.getConnection()) {
                    c.setAutoCommit(false);
                    List<OutboxEntry> entries = new ArrayList<>();
                    for (int i = 0; i < 1 + random.nextInt(5); i++) {
                      entries.add(
                          new OutboxEntry(
                              "orders", "w" + writer + "-" + random.nextInt(4), bytes("m" + n++)));
                    }
                    List<UUID> ids = outbox.enqueueAll(c, entries);
                    if (random.nextInt(10) == 0) {
                      c.rollback();
                    } else {
                      c.commit();
                      ids.forEach(id -> committed.add(id.toString()));
                    }
                  } catch (SQLException | RuntimeException e) {
                    writerFailures.add(e);
                    return;
                  }
                }
              },
              "writer-" + w);
      writers.add(t);
      t.start();
    }
    String[] c = connection();
    int kills = 12;
    try {
      for (int round = 0; round < kills; round++) {
        ChildJvm child =
            ChildJvm.start(
                RelayChild.class,
                List.of("-Xmx128m"),
                List.of(c[0], c[1], c[2], table, sinkUrl(), sink, "hold"));
        try {
          try {
            await()
                .atMost(Duration.ofSeconds(60))
                .until(() -> child.saw("HOLD") || !child.process().isAlive());
          } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(
                "round "
                    + round
                    + ": no HOLD; states "
                    + states()
                    + ", child said "
                    + child.lines(),
                e);
          }
          assertThat(child.saw("HOLD")).as("child output: %s", child.lines()).isTrue();
        } finally {
          child.kill();
        }
      }
    } finally {
      writing.set(false);
      for (Thread t : writers) {
        t.join();
      }
    }
    assertThat(writerFailures).isEmpty();

    ChildJvm drain =
        ChildJvm.start(
            RelayChild.class,
            List.of("-Xmx128m"),
            List.of(c[0], c[1], c[2], table, sinkUrl(), sink, "drain"));
    try {
      await()
          .atMost(Duration.ofSeconds(120))
          .until(() -> !states().containsKey("P") && sinkCounts(sink).size() >= committed.size());
    } finally {
      drain.kill();
    }
    Map<String, Long> raw = sinkCounts(sink);
    Map<String, Long> first = new HashMap<>();
    raw.keySet().forEach(id -> first.put(id, 1L));
    long publications = raw.values().stream().mapToLong(Long::longValue).sum();
    EffectChecker.Verdict verdict = EffectChecker.check(committed, first);
    System.out.println(
        "[outbox] kill test on "
            + dialect
            + ", seed "
            + seed
            + ", "
            + kills
            + " kills: "
            + verdict
            + "; publications "
            + publications
            + ", re-sent after a kill "
            + (publications - raw.size()));
    verdict.assertExactlyOnce("first publications, seed " + seed);
    // Every kill landed after a batch reached the sink and before it was marked sent.
    assertThat(publications - raw.size()).isGreaterThanOrEqualTo(kills);
    try (Connection conn = sink();
        Statement s = conn.createStatement()) {
      s.execute("DROP TABLE " + sink);
    }
  }

  private Map<String, Long> sinkCounts(String sink) throws SQLException {
    Map<String, Long> counts = new HashMap<>();
    try (Connection c = sink();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id, COUNT(*) FROM " + sink + " GROUP BY id")) {
      while (rs.next()) {
        counts.put(rs.getString(1), rs.getLong(2));
      }
    }
    return counts;
  }
}
