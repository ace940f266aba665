package dev.once.kafka;

import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestKafka;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * The child JVM of {@link KafkaChaosIT}: consumes bank messages ({@code deposit <account> <cents>}
 * and {@code transfer <from> <to> <cents>}) into PostgreSQL through {@link KafkaInboxConsumer}
 * until it is killed. Each applied message appends a row to {@code <prefix>_effects} (no unique
 * constraint), tagged with this child's number, and moves balances, in the batch's transaction.
 * Prints {@code P <partition>:<offset> <id>} for every record a poll hands over (before it is
 * processed, so a redelivery shows as the same record printed by two children) and {@code POLLED
 * <n>} after each non-empty batch.
 *
 * <p>Args: bootstrap jdbcUrl user password(- for empty) prefix topic group offsets(db|kafka) child
 * [failpoint].
 */
public final class ChaosConsumer {

  private ChaosConsumer() {}

  public static void main(String[] args) throws Exception {
    TestKafka.use(args[0]);
    TestDatabase db =
        new TestDatabase("chaos", args[1], args[2], args[3].equals("-") ? "" : args[3]);
    String prefix = args[4];
    String topic = args[5];
    String group = args[6];
    boolean offsetsInDatabase =
        switch (args[7]) {
          case "db" -> true;
          case "kafka" -> false;
          default -> throw new IllegalArgumentException("offsets: db or kafka, not " + args[7]);
        };
    int child = Integer.parseInt(args[8]);
    if (args.length > 9) {
      System.setProperty(
          Failpoints.PROPERTY, args[9]); // this child halts itself at that point of its first batch
    }
    KafkaFixture f = new KafkaFixture(db, prefix, 2);
    KafkaProducer<String, String> dlt = KafkaFixture.producer();
    KafkaInboxConsumer<String, String> inbox =
        KafkaInboxConsumer.builder(
                printingPolls(
                    KafkaFixture.consumer(
                        group,
                        Map.of(
                            // Static membership: a restarted child takes its predecessor's place at
                            // once, no session timeout wait.
                            ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "chaos-consumer",
                            ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6000,
                            ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10))),
                f.pool,
                f.inbox,
                (connection, r) -> {
                  String[] m = r.value().split(" ");
                  try (PreparedStatement log =
                          connection.prepareStatement(
                              "INSERT INTO "
                                  + prefix
                                  + "_effects (msg_id, kind, amount, child) VALUES (?, ?, ?, ?)");
                      PreparedStatement move =
                          connection.prepareStatement(
                              "UPDATE "
                                  + prefix
                                  + "_accounts SET balance = balance + ? WHERE id = ?")) {
                    long amount = Long.parseLong(m[m.length - 1]);
                    log.setString(1, KafkaInboxConsumer.messageIdHeader(r));
                    log.setString(2, m[0]);
                    log.setLong(3, amount);
                    log.setInt(4, child);
                    log.executeUpdate();
                    if (m[0].equals("deposit")) {
                      move.setLong(1, amount);
                      move.setInt(2, Integer.parseInt(m[1]));
                      move.executeUpdate();
                    } else {
                      move.setLong(1, -amount);
                      move.setInt(2, Integer.parseInt(m[1]));
                      move.executeUpdate();
                      move.setLong(1, amount);
                      move.setInt(2, Integer.parseInt(m[2]));
                      move.executeUpdate();
                    }
                  }
                })
            .topics(List.of(topic))
            .deadLetters(dlt)
            .offsetsInDatabase(offsetsInDatabase)
            .offsetsTable(f.offsetsTable())
            .createSchema(true)
            .build();
    System.out.println("READY");
    while (true) {
      int n = inbox.pollOnce(Duration.ofMillis(200));
      if (n > 0) {
        System.out.println("POLLED " + n);
      }
    }
  }

  /** The consumer, printing every record its polls hand over. */
  @SuppressWarnings("unchecked")
  private static Consumer<String, String> printingPolls(Consumer<String, String> consumer) {
    return (Consumer<String, String>)
        Proxy.newProxyInstance(
            ChaosConsumer.class.getClassLoader(),
            new Class<?>[] {Consumer.class},
            (proxy, method, methodArgs) -> {
              Object result;
              try {
                result = method.invoke(consumer, methodArgs);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
              if (method.getName().equals("poll")
                  && result instanceof ConsumerRecords<?, ?> records) {
                StringBuilder lines = new StringBuilder();
                for (ConsumerRecord<?, ?> r : records) {
                  lines
                      .append("P ")
                      .append(r.partition())
                      .append(':')
                      .append(r.offset())
                      .append(' ')
                      .append(KafkaInboxConsumer.messageIdHeader(r))
                      .append('\n');
                }
                System.out.print(lines);
                System.out.flush();
              }
              return result;
            });
  }
}
