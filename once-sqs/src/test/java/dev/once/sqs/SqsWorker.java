package dev.once.sqs;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.jdbc.ConcurrentClaimPolicy;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.JdbcInbox;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * A child JVM for {@link SqsCrashIT}: consumes a queue into PostgreSQL until killed, or until it
 * reads {@code stop} on stdin (then it finishes its batch, deletes it, prints {@code CLOSED} and
 * exits). One line per event on stdout.
 *
 * <p>Args: sqsEndpoint queueUrl jdbcUrl user password(- for empty) tablePrefix. Messages carry
 * their id in {@link TestSqs#ID_ATTRIBUTE} and are {@code log <text>}, {@code deposit <account>
 * <amount>} or {@code transfer <from> <to> <amount>}; each appends one effect row. After each
 * deleted batch it prints {@code BATCH applied=<n> duplicates=<n> redelivered=<n>
 * redeliveredDuplicates=<n>} (redelivered: of the applied, those SQS had handed out before;
 * redeliveredDuplicates: of the duplicates).
 */
public final class SqsWorker {

  private SqsWorker() {}

  public static void main(String[] args) throws Exception {
    String endpoint = args[0];
    String queueUrl = args[1];
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(args[2]);
    config.setUsername(args[3]);
    config.setPassword(args[4].equals("-") ? "" : args[4]);
    config.setMaximumPoolSize(2);
    String prefix = args[5];
    String effects = prefix + "_effects";
    String accounts = prefix + "_accounts";
    try (HikariDataSource pool = new HikariDataSource(config);
        SqsClient sqs = TestSqs.client(endpoint)) {
      JdbcIdempotencyStore store =
          JdbcIdempotencyStore.builder(pool)
              .table(prefix + "_once")
              .concurrentClaims(ConcurrentClaimPolicy.WAIT)
              .build();
      JdbcInbox inbox = JdbcInbox.builder(pool, store).consumer("sqs-worker").build();
      SqsInboxConsumer consumer =
          SqsInboxConsumer.builder(sqs, queueUrl, inbox)
              .messageId(SqsInboxConsumer.messageAttribute(TestSqs.ID_ATTRIBUTE))
              .handler(
                  (c, m) -> {
                    String body = m.body();
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
                    TestDb.log(
                        c,
                        effects,
                        SqsInboxConsumer.messageAttribute(TestSqs.ID_ATTRIBUTE).apply(m),
                        body);
                  })
              .batchSize(20)
              .waitTime(Duration.ofSeconds(1))
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
                              + redelivered(b.duplicates())))
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

  /** How many of these messages SQS had handed out before (to a consumer that died). */
  private static long redelivered(List<Message> messages) {
    return messages.stream().filter(m -> SqsInboxConsumer.receiveCount(m) > 1).count();
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
