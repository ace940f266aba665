package dev.once.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.InMemoryIdempotencyStore;
import dev.once.testkit.servers.TestKafka;
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * {@code once-jdbc} is an optional dependency of {@code once-kafka}: a user of {@link
 * KafkaLeaseConsumer} alone (on Redis, on any store) does not get it, so the lease consumer must
 * run without it. Runs one on the test kit's real KRaft broker in a class loader whose class path
 * is this test's minus once-jdbc.
 */
class KafkaLeaseConsumerWithoutJdbcIT {

  @Test
  void aLeaseConsumerRunsWithoutOnceJdbcOnTheClassPath() throws Exception {
    String topic = "lease-nojdbc-" + System.nanoTime();
    TestKafka.createTopic(topic, 1);
    try (KafkaProducer<String, String> producer = KafkaFixture.producer()) {
      producer.send(KafkaFixture.message(topic, "k", "m-1", "v")).get();
    }
    List<URL> withoutJdbc = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!entry.contains("once-jdbc")) {
        withoutJdbc.add(new File(entry).toURI().toURL());
      }
    }
    try (URLClassLoader lessJdbc =
        new URLClassLoader(withoutJdbc.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
      assertThatThrownBy(() -> Class.forName("dev.once.jdbc.JdbcInbox", false, lessJdbc))
          .as("the loader really has no once-jdbc")
          .isInstanceOf(ClassNotFoundException.class);
      @SuppressWarnings("unchecked")
      Supplier<Integer> user =
          (Supplier<Integer>)
              Class.forName(LeaseOnlyUser.class.getName(), true, lessJdbc)
                  .getConstructor(String.class, String.class)
                  .newInstance(TestKafka.bootstrap(), topic);
      // Kafka loads its plugins (reporters, deserializers) through the context class loader.
      ClassLoader previous = Thread.currentThread().getContextClassLoader();
      Thread.currentThread().setContextClassLoader(lessJdbc);
      try {
        assertThat(user.get()).as("records the lease consumer applied").isEqualTo(1);
      } finally {
        Thread.currentThread().setContextClassLoader(previous);
      }
    }
  }

  /** What a lease-only user writes; loaded in the loader without once-jdbc. */
  public static final class LeaseOnlyUser implements Supplier<Integer> {
    private final String bootstrap;
    private final String topic;

    public LeaseOnlyUser(String bootstrap, String topic) {
      this.bootstrap = bootstrap;
      this.topic = topic;
    }

    @Override
    public Integer get() {
      AtomicInteger applied = new AtomicInteger();
      // Not KafkaFixture: it holds a JdbcInbox, and this class must touch nothing a lease-only user
      // would not.
      Properties c = new Properties();
      c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      c.put(ConsumerConfig.GROUP_ID_CONFIG, "lease-nojdbc-" + topic);
      c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
      c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      Properties p = new Properties();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      KafkaConsumer<String, String> kafka =
          new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
      try (KafkaProducer<String, String> dlt =
              new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
          KafkaLeaseConsumer<String, String> consumer =
              KafkaLeaseConsumer.builder(
                      kafka,
                      InMemoryIdempotencyStore.builder().build(),
                      (r, lease) -> applied.incrementAndGet())
                  .topics(List.of(topic))
                  .deadLetters(dlt)
                  .build()) {
        for (int polls = 0; applied.get() == 0 && polls < 120; polls++) {
          consumer.pollOnce(java.time.Duration.ofMillis(500));
        }
      }
      return applied.get();
    }
  }
}
