package dev.once.kafka;

import dev.once.redis.RedisIdempotencyStore;
import dev.once.testkit.servers.TestKafka;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * The child JVM of {@link KafkaLeaseConsumerIT}'s crash test: a {@link KafkaLeaseConsumer} on Redis
 * whose handler calls both {@link FakeApi}s with the lease's idempotency key and token and prints
 * {@code EFFECT <id> <token>}. After the effect of message {@code haltAt} it arms {@link
 * Failpoints#LEASE_AFTER_EFFECT_BEFORE_COMPLETE}, so the JVM halts (exit 137, as under SIGKILL)
 * between that effect and its {@code complete}.
 */
public final class LeaseChild {

  private LeaseChild() {}

  public static void main(String[] args) throws Exception {
    TestKafka.use(args[0]);
    String redisUri = args[1];
    String prefix = args[2];
    String topic = args[3];
    String group = args[4];
    String haltAt = args[5];
    Duration lease = Duration.ofMillis(Long.parseLong(args[6]));
    RedisIdempotencyStore store = KafkaLeaseConsumerIT.store(redisUri, prefix);
    FakeApi api = new FakeApi(redisUri, prefix);
    KafkaProducer<String, String> dlt = KafkaFixture.producer();
    KafkaLeaseConsumer<String, String> consumer =
        KafkaLeaseConsumer.builder(
                KafkaFixture.consumer(
                    group,
                    Map.of(
                        ConsumerConfig.GROUP_INSTANCE_ID_CONFIG,
                        "lease-child",
                        ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG,
                        6000,
                        ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                        10)),
                store,
                (r, l) -> {
                  api.call(l.messageId(), l.token());
                  api.callIdempotent(l.idempotencyKey(), l.messageId(), l.token());
                  System.out.println("EFFECT " + l.messageId() + " " + l.token());
                  if (l.messageId().equals(haltAt)) {
                    System.setProperty(
                        Failpoints.PROPERTY,
                        Failpoints.LEASE_AFTER_EFFECT_BEFORE_COMPLETE + ":halt");
                  }
                })
            .topics(List.of(topic))
            .deadLetters(dlt)
            .lease(lease)
            .retention(Duration.ofMinutes(10))
            .build();
    System.out.println("READY");
    consumer.run();
  }
}
