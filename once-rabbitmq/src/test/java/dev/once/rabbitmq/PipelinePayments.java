package dev.once.rabbitmq;

import com.rabbitmq.client.Connection;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.jdbc.ConcurrentClaimPolicy;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.JdbcInbox;
import dev.once.kafka.KafkaInboxConsumer;
import dev.once.testkit.servers.TestKafka;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The payments service of {@link OutboxPipelineIT}, in a child JVM so the test can SIGKILL it: the
 * broker's inbox consumer with a {@link JdbcInbox} on PostgreSQL; each order event appends one row
 * to {@code <prefix>_effects} (no unique constraint; its serial id records the order events were
 * applied in). Runs until killed, or until {@code stop} on stdin. Prints {@code READY}, then {@code
 * BATCH applied=<n> duplicates=<n>} per batch.
 *
 * <p>Args: kafka|rabbitmq brokerAddress topicOrQueue jdbcUrl user password(- for empty) prefix.
 */
public final class PipelinePayments {

  private PipelinePayments() {}

  public static void main(String[] args) throws Exception {
    String kind = args[0];
    String address = args[1];
    String source = args[2];
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(args[3]);
    config.setUsername(args[4]);
    config.setPassword(args[5].equals("-") ? "" : args[5]);
    config.setMaximumPoolSize(2);
    String prefix = args[6];
    try (HikariDataSource pool = new HikariDataSource(config)) {
      JdbcIdempotencyStore store =
          JdbcIdempotencyStore.builder(pool)
              .table(prefix + "_once")
              .concurrentClaims(ConcurrentClaimPolicy.WAIT)
              .build();
      JdbcInbox inbox = JdbcInbox.builder(pool, store).consumer("payments").build();
      switch (kind) {
        case "kafka" -> consumeKafka(address, source, pool, inbox, prefix);
        case "rabbitmq" -> consumeRabbit(address, source, inbox, prefix);
        default -> throw new IllegalArgumentException("kafka or rabbitmq, not " + kind);
      }
    }
  }

  private static void consumeKafka(
      String bootstrap, String topic, HikariDataSource pool, JdbcInbox inbox, String prefix)
      throws Exception {
    TestKafka.use(bootstrap);
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, "payments-" + prefix);
    // Static membership: a restarted child takes its predecessor's partitions at once.
    c.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "payments");
    c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6000);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 20);
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (KafkaProducer<String, String> deadLetters =
        new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      KafkaInboxConsumer<String, String> consumer =
          KafkaInboxConsumer.builder(
                  new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer()),
                  pool,
                  inbox,
                  (connection, r) ->
                      TestDb.log(
                          connection,
                          prefix + "_effects",
                          KafkaInboxConsumer.messageIdHeader(r),
                          r.value()))
              .topics(List.of(topic))
              .deadLetters(deadLetters)
              .offsetsTable(prefix + "_offsets")
              .createSchema(true)
              .build();
      System.out.println("READY");
      long applied = 0;
      long duplicates = 0;
      while (true) {
        if (consumer.pollOnce(Duration.ofMillis(100)) > 0) {
          KafkaInboxConsumer.Stats s = consumer.stats();
          System.out.println(
              "BATCH applied="
                  + (s.applied() - applied)
                  + " duplicates="
                  + (s.duplicates() - duplicates));
          applied = s.applied();
          duplicates = s.duplicates();
        }
      }
    }
  }

  private static void consumeRabbit(String uri, String queue, JdbcInbox inbox, String prefix)
      throws Exception {
    try (Connection rabbit = TestBroker.factory(uri).newConnection("once-pipeline-payments")) {
      RabbitInboxConsumer consumer =
          RabbitInboxConsumer.builder(rabbit, queue, inbox)
              .handler(
                  (connection, d) ->
                      TestDb.log(
                          connection,
                          prefix + "_effects",
                          RabbitInboxConsumer.amqpMessageId(d),
                          new String(d.getBody(), StandardCharsets.UTF_8)))
              .prefetch(50)
              .batchSize(20)
              .linger(Duration.ofMillis(5))
              .onBatch(
                  b ->
                      System.out.println(
                          "BATCH applied="
                              + b.applied().size()
                              + " duplicates="
                              + b.duplicates().size()))
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
    }
  }
}
