package dev.once.nats;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.jdbc.ConcurrentClaimPolicy;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.JdbcInbox;
import io.nats.client.Connection;
import io.nats.client.Message;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.time.Duration;

/**
 * A child JVM for {@link NatsCrashIT}: consumes the durable {@link TestJetStream#DURABLE} of a
 * stream into PostgreSQL until killed, or until it reads {@code stop} on stdin (then it finishes
 * its batch, acks, prints {@code CLOSED} and exits). One line per event on stdout.
 *
 * <p>Args: natsUrl stream jdbcUrl user password(- for empty) tablePrefix. Messages are {@code log
 * <text>}, {@code deposit <account> <amount>} or {@code transfer <from> <to> <amount>}; each
 * appends one effect row. After each acknowledged batch it prints {@code BATCH applied=<n>
 * duplicates=<n> redelivered=<n> redeliveredDuplicates=<n>} (redelivered: of the applied, those
 * JetStream had delivered before; redeliveredDuplicates: of the duplicates).
 */
public final class NatsWorker {

  private NatsWorker() {}

  public static void main(String[] args) throws Exception {
    String url = args[0];
    String stream = args[1];
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(args[2]);
    config.setUsername(args[3]);
    config.setPassword(args[4].equals("-") ? "" : args[4]);
    config.setMaximumPoolSize(2);
    String prefix = args[5];
    String effects = prefix + "_effects";
    String accounts = prefix + "_accounts";
    try (HikariDataSource pool = new HikariDataSource(config);
        Connection nats = TestJetStream.connect(url)) {
      JdbcIdempotencyStore store =
          JdbcIdempotencyStore.builder(pool)
              .table(prefix + "_once")
              .concurrentClaims(ConcurrentClaimPolicy.WAIT)
              .build();
      JdbcInbox inbox = JdbcInbox.builder(pool, store).consumer("nats-worker").build();
      NatsInboxConsumer consumer =
          NatsInboxConsumer.builder(nats, stream, TestJetStream.DURABLE, inbox)
              .handler(
                  (c, d) -> {
                    String id = NatsInboxConsumer.natsMsgId(d);
                    String body = new String(d.getData(), StandardCharsets.UTF_8);
                    String[] p = body.split(" ");
                    switch (p[0]) {
                      case "log" -> {}
                      case "deposit" ->
                          update(
                              c,
                              "UPDATE " + accounts + " SET balance = balance + ? WHERE id = ?",
                              Long.parseLong(p[2]),
                              Integer.parseInt(p[1]));
                      case "transfer" -> {
                        long amount = Long.parseLong(p[3]);
                        if (update(
                                c,
                                "UPDATE "
                                    + accounts
                                    + " SET balance = balance - ? WHERE id = ? AND balance >= "
                                    + amount,
                                amount,
                                Integer.parseInt(p[1]))
                            == 1) {
                          update(
                              c,
                              "UPDATE " + accounts + " SET balance = balance + ? WHERE id = ?",
                              amount,
                              Integer.parseInt(p[2]));
                        }
                      }
                      default -> throw new IllegalArgumentException(body);
                    }
                    TestDb.log(c, effects, id, body);
                  })
              .batchSize(25)
              .fetchWait(Duration.ofMillis(20))
              .onBatch(
                  b ->
                      System.out.println(
                          "BATCH applied="
                              + b.applied().size()
                              + " duplicates="
                              + b.duplicates().size()
                              + " redelivered="
                              + redelivered(b.applied())
                              + " redeliveredDuplicates="
                              + redelivered(b.duplicates())
                              + " skipped="
                              + String.join(
                                  ",",
                                  b.duplicates().stream()
                                      .map(NatsInboxConsumer::natsMsgId)
                                      .toList())))
              .build();
      consumer.start();
      System.out.println("READY");
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        if (line.equals("stop")) {
          break;
        }
      }
      consumer.close();
      System.out.println("CLOSED");
    }
  }

  /**
   * How many of these messages JetStream had delivered before (to a consumer that died without
   * acking).
   */
  private static long redelivered(java.util.List<Message> messages) {
    return messages.stream().filter(m -> m.metaData().deliveredCount() > 1).count();
  }

  private static int update(java.sql.Connection c, String sql, long amount, int account)
      throws Exception {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, amount);
      ps.setInt(2, account);
      return ps.executeUpdate();
    }
  }
}
