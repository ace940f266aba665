package dev.once.kafka;

import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestKafka;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;

/**
 * The child JVM of {@link KafkaSigstopZombieIT}: a {@link KafkaInboxConsumer} (client id {@code
 * zombie}, session timeout and {@code max.poll.interval.ms} 6 s) that appends one row per applied
 * message to {@code <prefix>_effects}. After {@code pauseAfter} non-empty batches it arms the
 * {@link Failpoints#AFTER_POLL} pause: the next batch is polled and held in memory, {@code
 * FAILPOINT kafka.after-poll PAUSED} is printed, and the thread blocks until the line {@code GO}
 * arrives on stdin. It then processes that batch and prints {@code ZOMBIE-BATCH applied=<n>
 * duplicates=<n> outcome=COMMITTED|FENCED <exception>} and exits.
 */
public final class ZombieChild {

  private ZombieChild() {}

  public static void main(String[] args) throws Exception {
    TestKafka.use(args[0]);
    TestDatabase db =
        new TestDatabase("zombie", args[1], args[2], args[3].equals("-") ? "" : args[3]);
    String prefix = args[4];
    String topic = args[5];
    String group = args[6];
    int pauseAfter = Integer.parseInt(args[7]);
    Thread stdin =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                  if (line.equals("GO")) {
                    System.clearProperty(Failpoints.PROPERTY);
                  }
                }
              } catch (Exception e) {
                System.out.println("STDIN FAILED " + e);
              }
            },
            "stdin");
    stdin.setDaemon(true);
    stdin.start();

    KafkaFixture f = new KafkaFixture(db, prefix, 2);
    KafkaProducer<String, String> dlt = KafkaFixture.producer();
    KafkaInboxConsumer<String, String> inbox =
        KafkaInboxConsumer.builder(
                KafkaFixture.consumer(
                    group,
                    Map.of(
                        ConsumerConfig.CLIENT_ID_CONFIG, "zombie",
                        ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6000,
                        ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1000,
                        ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 6000,
                        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10)),
                f.pool,
                f.inbox,
                (connection, r) -> {
                  try (PreparedStatement log =
                      connection.prepareStatement(
                          "INSERT INTO "
                              + prefix
                              + "_effects (msg_id, writer) VALUES (?, 'zombie')")) {
                    log.setString(1, KafkaInboxConsumer.messageIdHeader(r));
                    log.executeUpdate();
                  }
                })
            .topics(List.of(topic))
            .deadLetters(dlt)
            .offsetsTable(f.offsetsTable())
            .createSchema(true)
            .build();
    System.out.println("READY");
    int batches = 0;
    while (true) {
      boolean zombieBatch = batches >= pauseAfter;
      if (zombieBatch) {
        System.setProperty(Failpoints.PROPERTY, Failpoints.AFTER_POLL + ":pause");
      }
      KafkaInboxConsumer.Stats before = inbox.stats();
      String outcome;
      try {
        int n = inbox.pollOnce(Duration.ofMillis(200));
        if (n == 0) {
          continue;
        }
        outcome = "COMMITTED";
      } catch (KafkaException e) {
        if (!zombieBatch) {
          throw e;
        }
        outcome = "FENCED " + e;
      }
      batches++;
      KafkaInboxConsumer.Stats after = inbox.stats();
      if (!zombieBatch) {
        System.out.println("POLLED applied=" + (after.applied() - before.applied()));
        continue;
      }
      System.out.println(
          "ZOMBIE-BATCH applied="
              + (after.applied() - before.applied())
              + " duplicates="
              + (after.duplicates() - before.duplicates())
              + " outcome="
              + outcome);
      System.out.flush();
      Runtime.getRuntime().halt(0);
    }
  }
}
