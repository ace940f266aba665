package dev.once.testkit.servers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.jspecify.annotations.Nullable;

/**
 * The Kafka broker the tests use, once per JVM: the server at {@code ONCE_TEST_KAFKA_BOOTSTRAP} (or
 * the system property {@code once.test.kafka.bootstrap}) when it answers, otherwise a real
 * in-process KRaft broker (Kafka's own {@code KafkaRaftServer}: one combined controller+broker,
 * formatted like {@code kafka-storage format --standalone}, free ports, a temp directory) stopped
 * by a shutdown hook. Needs {@code org.apache.kafka:kafka_2.13} (and kafka-clients) on the test
 * classpath: the test kit declares them optional, like the other embedded fallbacks.
 *
 * <pre>{@code
 * String servers = TestKafka.bootstrap();
 * TestKafka.createTopic("transfers", 3);
 * }</pre>
 */
public final class TestKafka {

  private static @Nullable String bootstrap;

  private TestKafka() {}

  /**
   * A child JVM uses its parent's broker as is: never probe, never start another.
   *
   * @param servers the parent's {@link #bootstrap()}
   */
  public static synchronized void use(String servers) {
    bootstrap = servers;
  }

  /** {@return the bootstrap servers of the tests' broker, found or started on first use} */
  public static synchronized String bootstrap() {
    if (bootstrap == null) {
      String configured =
          System.getProperty(
              "once.test.kafka.bootstrap", System.getenv("ONCE_TEST_KAFKA_BOOTSTRAP"));
      if (configured != null && !configured.isBlank() && answers(configured)) {
        bootstrap = configured;
        System.out.println(
            "[once-testkit] tests use the Kafka broker at "
                + configured
                + " (ONCE_TEST_KAFKA_BOOTSTRAP)");
      } else {
        bootstrap = startEmbedded(configured);
      }
    }
    return bootstrap;
  }

  private static boolean answers(String servers) {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000);
    try (Admin admin = Admin.create(p)) {
      admin.describeCluster().clusterId().get(5, TimeUnit.SECONDS);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (Exception e) {
      return false;
    }
  }

  private static String startEmbedded(String configured) {
    try {
      Path dir = Files.createTempDirectory("once-kafka-kraft");
      int brokerPort = freePort();
      int controllerPort = freePort();
      Properties p = new Properties();
      p.put("process.roles", "broker,controller");
      p.put("node.id", "1");
      p.put(
          "listeners",
          "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
      p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
      p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
      p.put("controller.listener.names", "CONTROLLER");
      p.put("inter.broker.listener.name", "PLAINTEXT");
      p.put("controller.quorum.bootstrap.servers", "127.0.0.1:" + controllerPort);
      p.put("log.dirs", dir.resolve("data").toString());
      p.put("num.partitions", "1");
      p.put("offsets.topic.replication.factor", "1");
      p.put("offsets.topic.num.partitions", "1");
      p.put("transaction.state.log.replication.factor", "1");
      p.put("transaction.state.log.min.isr", "1");
      p.put("share.coordinator.state.topic.replication.factor", "1");
      p.put("share.coordinator.state.topic.min.isr", "1");
      p.put("group.initial.rebalance.delay.ms", "0");
      p.put("auto.create.topics.enable", "true");
      Path config = dir.resolve("server.properties");
      try (var out = Files.newOutputStream(config)) {
        p.store(out, "once-kafka tests");
      }
      java.io.ByteArrayOutputStream formatLog = new java.io.ByteArrayOutputStream();
      int rc =
          kafka.tools.StorageTool.execute(
              new String[] {
                "format",
                "--cluster-id",
                org.apache.kafka.common.Uuid.randomUuid().toString(),
                "--config",
                config.toString(),
                "--standalone"
              },
              new java.io.PrintStream(formatLog, true, java.nio.charset.StandardCharsets.UTF_8));
      if (rc != 0) {
        throw new IllegalStateException("kafka-storage format failed (" + rc + "): " + formatLog);
      }
      kafka.server.KafkaRaftServer server =
          new kafka.server.KafkaRaftServer(
              kafka.server.KafkaConfig.fromProps(p), org.apache.kafka.common.utils.Time.SYSTEM);
      server.startup();
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    server.shutdown();
                    server.awaitShutdown();
                    try {
                      org.apache.kafka.common.utils.Utils.delete(dir.toFile());
                    } catch (java.io.IOException e) {
                      System.err.println("[once-testkit] could not delete " + dir + ": " + e);
                    }
                  },
                  "once-kafka-broker-stop"));
      String servers = "127.0.0.1:" + brokerPort;
      if (!answers(servers)) {
        throw new IllegalStateException("the in-process broker at " + servers + " does not answer");
      }
      System.out.println(
          "[once-testkit] tests use an in-process KRaft broker (kafka_2.13 4.4.0 KafkaRaftServer) at "
              + servers
              + " in "
              + dir
              + (configured == null ? "" : "; " + configured + " did not answer"));
      return servers;
    } catch (Exception e) {
      throw new IllegalStateException("could not start the in-process Kafka broker: " + e, e);
    }
  }

  private static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /**
   * Creates a topic and waits until the broker leads every partition.
   *
   * @param topic the topic's name; it must not exist yet
   * @param partitions how many partitions
   * @throws InterruptedException if the calling thread is interrupted while waiting
   * @throws ExecutionException if the broker refuses to create the topic
   * @throws TimeoutException if the broker does not answer within 30 seconds
   */
  public static void createTopic(String topic, int partitions)
      throws InterruptedException, ExecutionException, TimeoutException {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
      admin
          .createTopics(java.util.List.of(new NewTopic(topic, partitions, (short) 1)))
          .all()
          .get(Duration.ofSeconds(30).toMillis(), TimeUnit.MILLISECONDS);
      // The controller has the topic; wait until the broker leads every partition, or the first
      // produce request
      // may meet NOT_LEADER_OR_FOLLOWER.
      // Right after the creation the broker may not know the topic yet and answer
      // UNKNOWN_TOPIC_OR_PARTITION: ask again.
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptionsMatching(
              e ->
                  e.getCause()
                      instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)
          .until(
              () -> {
                var d =
                    admin.describeTopics(java.util.List.of(topic)).allTopicNames().get().get(topic);
                return d != null
                    && d.partitions().size() == partitions
                    && d.partitions().stream()
                        .allMatch(p -> p.leader() != null && !p.leader().isEmpty());
              });
    }
  }
}
