package dev.once.examples.payments;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.testkit.EffectChecker;
import dev.once.testkit.servers.TcpProxy;
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
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * The payments service on PostgreSQL in atomic mode, with every database connection lost again and
 * again (a {@link TcpProxy} between the service and the server that drops the service's side of
 * each connection and leaves the server's side open and silent, as a network partition does) under
 * clients that retry every key until it has a final answer. A transaction whose client vanished
 * must not hold its key for longer than the configured bound: then every key is charged exactly
 * once, and none is answered 409 for longer than the bound.
 */
class PartitionDrillIT {

  private static final int CUTS = 10;
  private static final int CLIENTS = 8;

  /** Short here so that the drill is short; the default is in OnceProperties. */
  private static final Duration BOUND = Duration.ofSeconds(3);

  @Test
  void aKeyWhoseConnectionVanishedIsFreeAgainWithinTheBoundAndChargedOnce() throws Exception {
    long seed = Long.getLong("once.chaos.seed", System.nanoTime());
    System.out.println(
        "[payments] partition drill seed "
            + seed
            + " (repeat with -Donce.chaos.seed="
            + seed
            + ")");
    Random random = new Random(seed);
    try (PostgresSchema schema = new PostgresSchema();
        TcpProxy proxy = TcpProxy.start(schema.server().host(), schema.server().port())) {
      Map<String, String> properties = new LinkedHashMap<>(schema.properties(proxy));
      // Every cut makes the pool and the driver log each broken connection with its stack:
      // thousands of lines.
      properties.put("logging.level.com.zaxxer.hikari", "OFF");
      properties.put("logging.level.org.postgresql", "OFF");
      properties.put(
          "once.jdbc.idle-transaction-timeout",
          System.getProperty("once.drill.bound", BOUND.toMillis() + "ms"));
      try (PaymentsApp app = PaymentsApp.start(new ScriptedProcessor(), properties);
          RetryingClients clients = RetryingClients.start("cut", CLIENTS, () -> app.base)) {
        List<Integer> cutAt = new ArrayList<>();
        for (int cut = 0; cut < CUTS; cut++) {
          int target = clients.acknowledged() + 20 + random.nextInt(100);
          try {
            await().atMost(Duration.ofSeconds(60)).until(() -> clients.acknowledged() >= target);
          } catch (ConditionTimeoutException e) {
            throw new AssertionError(
                "no progress after cut "
                    + cut
                    + ": keys unanswered "
                    + clients.unanswered()
                    + "; transactions idle on the server: "
                    + idleInTransaction(schema),
                e);
          }
          proxy.partition();
          proxy.restore();
          cutAt.add(clients.acknowledged());
        }
        clients.stopSendingNewKeys();
        try {
          // A key held by a transaction whose client is gone is answered 409 until the server ends
          // that transaction.
          await().atMost(BOUND.plusSeconds(20)).until(clients::finished);
        } catch (ConditionTimeoutException e) {
          throw new AssertionError(
              "keys still unanswered "
                  + clients.unanswered()
                  + "; transactions idle on the server: "
                  + idleInTransaction(schema),
              e);
        }
        List<String> acknowledged = clients.acknowledgedKeys();
        EffectChecker.Verdict verdict = EffectChecker.check(acknowledged, paymentsPerCustomer(app));
        System.out.println(
            "[payments] partition drill seed "
                + seed
                + ": "
                + CUTS
                + " cuts at "
                + cutAt
                + " keys answered 201; "
                + acknowledged.size()
                + " keys answered 201 in all; "
                + verdict);
        assertThat(clients.failures()).as("clients that failed").isEmpty();
        assertThat(clients.answers().values()).as("final answers").allMatch(a -> a.status() == 201);
        verdict.assertExactlyOnce("seed " + seed);
      }
    }
  }

  private static Map<String, Long> paymentsPerCustomer(PaymentsApp app) {
    Map<String, Long> counts = new HashMap<>();
    app.jdbc()
        .query(
            "SELECT customer_id, COUNT(*) FROM payments GROUP BY customer_id",
            (ResultSet rs) -> {
              counts.put(rs.getString(1), rs.getLong(2));
            });
    return counts;
  }

  private static List<String> idleInTransaction(PostgresSchema schema) {
    List<String> found = new ArrayList<>();
    try (Connection c = schema.server().connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT pid, client_port, now() - state_change, left(query, 80) FROM pg_stat_activity"
                    + " WHERE datname = current_database() AND state = 'idle in transaction'")) {
      while (rs.next()) {
        found.add(
            "pid "
                + rs.getInt(1)
                + " port "
                + rs.getInt(2)
                + " idle "
                + rs.getString(3)
                + ": "
                + rs.getString(4));
      }
    } catch (Exception e) {
      found.add("(cannot read pg_stat_activity: " + e + ")");
    }
    return found;
  }
}
