package dev.once.outbox;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A relay in a JVM of its own, for the kill test. Its publisher is a broker stand-in: each message
 * it is handed becomes a row of the sink table (no unique constraint, so a repeat shows), committed
 * at once, as a broker's acknowledgement is final. In {@code hold} mode it stops inside its second
 * batch, after the sink has the batch and before the relay marks it sent, prints {@code HOLD} and
 * waits to be killed: the kill lands in the window where a relay has published but not committed.
 *
 * <p>Arguments: JDBC URL, user, password, outbox table, sink table, {@code hold} or {@code drain}.
 */
public final class RelayChild {

  private RelayChild() {}

  public static void main(String[] args) throws Exception {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(args[0]);
    config.setUsername(args[1]);
    config.setPassword(args[2]);
    config.setMaximumPoolSize(4);
    HikariDataSource pool = new HikariDataSource(config);
    String sink = args[4];
    boolean hold = args[5].equals("hold");
    AtomicInteger batches = new AtomicInteger();
    OutboxPublisher publisher =
        new OutboxPublisher() {
          @Override
          public Map<UUID, Exception> publish(List<OutboxMessage> messages)
              throws InterruptedException {
            try (Connection c = pool.getConnection();
                PreparedStatement s =
                    c.prepareStatement("INSERT INTO " + sink + " (id) VALUES (?)")) {
              c.setAutoCommit(true);
              for (OutboxMessage m : messages) {
                s.setString(1, m.id().toString());
                s.executeUpdate();
              }
            } catch (java.sql.SQLException e) {
              throw new IllegalStateException("sink unreachable", e);
            }
            int batch = batches.incrementAndGet();
            System.out.println("BATCH " + batch + " " + messages.size());
            if (hold && batch == 2) {
              System.out.println("HOLD");
              System.out.flush();
              Thread.sleep(Long.MAX_VALUE);
            }
            return Map.of();
          }
        };
    OutboxRelay relay =
        OutboxRelay.builder(pool, publisher)
            .table(args[3])
            .name("child")
            .batchSize(20)
            .pollInterval(Duration.ofMillis(20))
            .outageBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .build();
    relay.start();
    System.out.println("STARTED");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
