package dev.once.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.testkit.servers.TestKafka;
import dev.once.testkit.servers.TestServers;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;
import org.junit.jupiter.api.Test;

/**
 * A zombie: consumer A stalls inside its batch's transaction past {@code max.poll.interval.ms}, the
 * group gives its partition to consumer B, then A wakes up and commits. A's effects commit once; B
 * skips them as duplicates; A's late Kafka offset commit is refused; nothing is applied twice.
 */
class KafkaZombieIT {

  @Test
  void aZombiesLateBatchIsNotAppliedTwice() throws Exception {
    ExecutorService threads = Executors.newCachedThreadPool();
    try (KafkaFixture f = new KafkaFixture(TestServers.postgres(), KafkaFixture.newPrefix(), 4);
        KafkaProducer<String, String> producer = KafkaFixture.producer();
        Admin admin =
            Admin.create(
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap()))) {
      f.execute("CREATE TABLE " + f.prefix + "_effects (msg_id VARCHAR(100) NOT NULL)");
      String topic = "zombie-" + f.prefix;
      String group = "g-" + f.prefix;
      TestKafka.createTopic(topic, 1);
      for (int i = 0; i < 20; i++) {
        producer
            .send(KafkaFixture.message(topic, "k", "z-" + i, i == 10 ? "stall" : "v-" + i))
            .get();
      }
      CountDownLatch stalled = new CountDownLatch(1);
      CountDownLatch wake = new CountDownLatch(1);
      KafkaInboxConsumer.RecordHandler<String, String> handler =
          (c, r) -> {
            if (r.value().equals("stall") && stalled.getCount() > 0) {
              stalled.countDown();
              wake.await(
                  60, TimeUnit.SECONDS); // the zombie's transaction stays open, its claims held
            }
            try (PreparedStatement ps =
                c.prepareStatement("INSERT INTO " + f.prefix + "_effects (msg_id) VALUES (?)")) {
              ps.setString(1, KafkaInboxConsumer.messageIdHeader(r));
              ps.executeUpdate();
            }
          };
      KafkaInboxConsumer<String, String> zombie =
          KafkaInboxConsumer.builder(
                  KafkaFixture.consumer(
                      group,
                      Map.of(
                          ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG,
                          2000,
                          ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                          20)),
                  f.pool,
                  f.inbox,
                  handler)
              .topics(List.of(topic))
              .deadLetters(producer)
              .offsetsTable(f.offsetsTable())
              .createSchema(true)
              .build();
      Future<Integer> zombieBatch =
          threads.submit(
              () -> {
                int n = 0;
                while (n == 0) {
                  n = zombie.pollOnce(Duration.ofMillis(200));
                }
                return n;
              });
      assertThat(stalled.await(60, TimeUnit.SECONDS))
          .as("the zombie reached the stalling record")
          .isTrue();

      KafkaInboxConsumer<String, String> successor =
          KafkaInboxConsumer.builder(
                  KafkaFixture.consumer(group, Map.of()), f.pool, f.inbox, handler)
              .topics(List.of(topic))
              .deadLetters(producer)
              .offsetsTable(f.offsetsTable())
              .build();
      Future<?> successorLoop = threads.submit(successor::run);
      // The group hands the partition to the successor once the zombie missed max.poll.interval.ms.
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                ConsumerGroupDescription d =
                    admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                return d.members().size() == 1
                    && !d.members().iterator().next().assignment().topicPartitions().isEmpty()
                    && !zombieBatch.isDone();
              });
      wake.countDown();

      Throwable late = null;
      try {
        zombieBatch.get(60, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        late = e.getCause();
      }
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  f.queryLong("SELECT COALESCE(MAX(next_offset), 0) FROM " + f.offsetsTable()) == 20
                      && f.queryLong("SELECT COUNT(DISTINCT msg_id) FROM " + f.prefix + "_effects")
                          == 20);
      successor.close();
      successorLoop.get(60, TimeUnit.SECONDS);
      zombie.close();

      System.out.println(
          "[once-kafka] zombie: its late offset commit -> "
              + late
              + "; zombie "
              + zombie.stats()
              + ", successor "
              + successor.stats());
      assertThat(late)
          .as("the zombie's Kafka offset commit after losing the partition")
          .isInstanceOf(KafkaException.class);
      assertThat(f.queryLong("SELECT COUNT(*) FROM " + f.prefix + "_effects"))
          .as("effects")
          .isEqualTo(20);
      assertThat(zombie.stats().applied() + successor.stats().applied())
          .as("applications")
          .isEqualTo(20);
      // The successor either waited on the zombie's open claims and then skipped them, or (if the
      // zombie committed
      // before the successor read the stored offsets) started after them; never applied them again.
      assertThat(successor.stats().applied()).isZero();
    } finally {
      threads.shutdownNow();
    }
  }
}
