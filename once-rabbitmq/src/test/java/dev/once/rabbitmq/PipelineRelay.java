package dev.once.rabbitmq;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.kafka.KafkaOutboxPublisher;
import dev.once.outbox.OutboxMessage;
import dev.once.outbox.OutboxPublisher;
import dev.once.outbox.OutboxRelay;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The relay of {@link OutboxPipelineIT}, in a child JVM so the test can SIGKILL it: an {@link
 * OutboxRelay} on PostgreSQL publishing with the broker's outbox publisher until killed (or until
 * {@code stop} on stdin). Prints {@code READY} once its loop runs. After {@code hold} on stdin, the
 * next batch the broker acknowledged is held before the relay can mark it sent: the child prints
 * {@code HELD <n>} and waits to be killed, so the kill lands exactly between the broker's
 * acknowledgment and the relay's commit.
 *
 * <p>Args: kafka|rabbitmq brokerAddress(bootstrap or AMQP URI) jdbcUrl user password(- for empty)
 * outboxTable.
 */
public final class PipelineRelay {

  private static final CountDownLatch NEVER = new CountDownLatch(1);
  private static volatile boolean holdAfterAck;

  private PipelineRelay() {}

  public static void main(String[] args) throws Exception {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(args[2]);
    config.setUsername(args[3]);
    config.setPassword(args[4].equals("-") ? "" : args[4]);
    config.setMaximumPoolSize(3);
    try (HikariDataSource pool = new HikariDataSource(config);
        OutboxPublisher publisher = holding(publisher(args[0], args[1]))) {
      OutboxRelay relay =
          OutboxRelay.builder(pool, publisher)
              .table(args[5])
              .name("pipeline")
              // Small batches, so a kill lands between the broker's acknowledgment and the marking.
              .batchSize(10)
              .pollInterval(Duration.ofMillis(100))
              .backoff(Duration.ofMillis(100), Duration.ofSeconds(1))
              .outageBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
              .build();
      relay.start();
      System.out.println("READY");
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        if (line.equals("stop")) {
          break;
        }
        if (line.equals("hold")) {
          holdAfterAck = true;
        }
      }
      relay.close();
      System.out.println("CLOSED");
    }
  }

  private static OutboxPublisher holding(OutboxPublisher publisher) {
    return new OutboxPublisher() {
      @Override
      public Map<UUID, Exception> publish(List<OutboxMessage> messages)
          throws InterruptedException {
        Map<UUID, Exception> refused = publisher.publish(messages);
        int acknowledged = messages.size() - refused.size();
        if (holdAfterAck && acknowledged > 0) {
          System.out.println("HELD " + acknowledged);
          NEVER.await();
        }
        return refused;
      }

      @Override
      public void close() {
        publisher.close();
      }
    };
  }

  private static OutboxPublisher publisher(String kind, String address) throws Exception {
    return switch (kind) {
      case "kafka" ->
          KafkaOutboxPublisher.builder(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, address))
              .timeout(Duration.ofSeconds(10))
              .build();
      case "rabbitmq" ->
          RabbitOutboxPublisher.builder(TestBroker.factory(address))
              .timeout(Duration.ofSeconds(10))
              .build();
      default -> throw new IllegalArgumentException("kafka or rabbitmq, not " + kind);
    };
  }
}
