package dev.once.spring.boot.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import dev.once.testkit.ChildJvm;
import dev.once.testkit.EffectChecker;
import dev.once.testkit.EffectTables;
import dev.once.testkit.servers.TestKafka;
import dev.once.testkit.servers.TestRabbitMq;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An ordinary Spring Boot application with a {@code @KafkaListener} or {@code @RabbitListener} on
 * the starter's idempotent container factory ({@link BankListenerApp}), in a child JVM SIGKILLed at
 * least 10 times at random points of a bank workload with 30 % repeated ids (see docs/chaos.md):
 * every id applied exactly once, balances conserved, everything acknowledged at the end.
 */
class SpringListenerChaosIT {

  private static final int ACCOUNTS = 10;
  private static final long INITIAL = 10_000;
  private static final int MESSAGES = 4_000;
  private static final int ROUNDS = 11;

  /** The effect log and accounts, plus the application's Once table. */
  private static final class BankTables extends EffectTables {
    BankTables() throws SQLException {
      super("once_slc_");
    }

    String onceTable() {
      return prefix + "_once";
    }

    @Override
    protected void dropAlso(Statement s) throws SQLException {
      s.execute("DROP TABLE IF EXISTS " + onceTable());
      s.execute("DROP SEQUENCE IF EXISTS " + onceTable() + "_token_seq");
    }
  }

  /** One broker's side of the run: where commands go and when everything is acknowledged. */
  private interface Broker extends AutoCloseable {
    void publish(String id, String command) throws Exception;

    /** {@return whether every published message is acknowledged (Kafka: offsets committed)} */
    boolean drained() throws Exception;

    /** {@return the child's broker arguments: its kind and Spring properties} */
    List<String> childArgs();
  }

  private BankTables db;
  private final List<ChildJvm> children = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    db = new BankTables();
    try (Connection c = db.pool.getConnection();
        Statement s = c.createStatement()) {
      for (int a = 0; a < ACCOUNTS; a++) {
        s.execute(
            "INSERT INTO " + db.accounts() + " (id, balance) VALUES (" + a + ", " + INITIAL + ")");
      }
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    for (ChildJvm c : children) {
      c.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    db.close();
  }

  @Test
  void aKafkaListenerApplicationSurvivesRandomSigkills() throws Exception {
    String topic = "once-slc-" + UUID.randomUUID().toString().substring(0, 8);
    String group = topic + "-bank";
    TestKafka.createTopic(topic, 3);
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    KafkaProducer<String, String> producer =
        new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap()));
    try (Broker kafka =
        new Broker() {
          @Override
          public void publish(String id, String command) throws Exception {
            ProducerRecord<String, String> r = new ProducerRecord<>(topic, id, command);
            r.headers().add("message-id", id.getBytes(StandardCharsets.UTF_8));
            producer.send(r).get();
          }

          @Override
          public boolean drained() throws Exception {
            Map<TopicPartition, OffsetAndMetadata> committed =
                admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, OffsetSpec> latest = new LinkedHashMap<>();
            for (int p = 0; p < 3; p++) {
              latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            for (var end : admin.listOffsets(latest).all().get().entrySet()) {
              OffsetAndMetadata at = committed.get(end.getKey());
              if (end.getValue().offset() > (at == null ? 0 : at.offset())) {
                return false;
              }
            }
            return true;
          }

          @Override
          public List<String> childArgs() {
            // A fixed group.instance.id (static membership): the restarted child takes over the
            // killed one's partitions at once instead of after its session timeout.
            return List.of(
                "kafka",
                "spring.kafka.bootstrap-servers=" + TestKafka.bootstrap(),
                "spring.kafka.consumer.auto-offset-reset=earliest",
                "spring.kafka.consumer.properties.group.instance.id=" + group + "-child",
                "spring.kafka.consumer.properties.session.timeout.ms=10000",
                "test.topic=" + topic,
                "test.group=" + group);
          }

          @Override
          public void close() {
            producer.close();
            admin.close();
          }
        }) {
      runBankUnderSigkills(kafka, "kafka");
    }
  }

  @Test
  void aRabbitListenerApplicationSurvivesRandomSigkills() throws Exception {
    String queue = "once-slc-" + UUID.randomUUID().toString().substring(0, 8);
    ConnectionFactory factory = new ConnectionFactory();
    factory.setUri(TestRabbitMq.uri());
    com.rabbitmq.client.Connection connection = factory.newConnection("once-slc-it");
    Channel channel = connection.createChannel();
    channel.confirmSelect();
    channel.queueDeclare(queue, false, false, false, null);
    try (Broker rabbit =
        new Broker() {
          @Override
          public void publish(String id, String command) throws Exception {
            channel.basicPublish(
                "",
                queue,
                new AMQP.BasicProperties.Builder().messageId(id).build(),
                command.getBytes(StandardCharsets.UTF_8));
            channel.waitForConfirmsOrDie(10_000);
          }

          @Override
          public boolean drained() throws Exception {
            return channel.queueDeclarePassive(queue).getMessageCount() == 0;
          }

          @Override
          public List<String> childArgs() {
            java.net.URI uri = java.net.URI.create(TestRabbitMq.uri());
            String[] user =
                (uri.getUserInfo() == null ? "guest:guest" : uri.getUserInfo()).split(":");
            String vhost =
                uri.getPath() == null || uri.getPath().length() <= 1
                    ? "/"
                    : uri.getPath().substring(1);
            return List.of(
                "rabbit",
                "spring.rabbitmq.host=" + uri.getHost(),
                "spring.rabbitmq.port=" + (uri.getPort() < 0 ? 5672 : uri.getPort()),
                "spring.rabbitmq.username=" + user[0],
                "spring.rabbitmq.password=" + user[1],
                "spring.rabbitmq.virtual-host=" + vhost,
                "test.queue=" + queue);
          }

          @Override
          public void close() throws Exception {
            channel.queueDelete(queue);
            connection.close();
          }
        }) {
      runBankUnderSigkills(rabbit, "rabbitmq");
    }
  }

  private void runBankUnderSigkills(Broker broker, String name) throws Exception {
    long seed = Long.getLong("once.chaos.seed", System.nanoTime());
    System.out.println(
        "[once-spring "
            + name
            + "] chaos seed "
            + seed
            + " (repeat with -Donce.chaos.seed="
            + seed
            + ")");
    Random random = new Random(seed);
    Map<String, String> sent = new LinkedHashMap<>();
    List<String> sentIds = new ArrayList<>();
    int kills = 0;
    List<String> killedAt = new ArrayList<>();
    ChildJvm child = null;
    for (int round = 0; round < ROUNDS; round++) {
      for (int i = round * MESSAGES / ROUNDS; i < (round + 1) * MESSAGES / ROUNDS; i++) {
        String id;
        if (!sentIds.isEmpty() && random.nextInt(100) < 30) {
          id = sentIds.get(random.nextInt(sentIds.size()));
        } else {
          id = "c-" + i;
          sent.put(
              id,
              random.nextBoolean()
                  ? "deposit " + random.nextInt(ACCOUNTS) + " " + (1 + random.nextInt(100))
                  : "transfer "
                      + random.nextInt(ACCOUNTS)
                      + " "
                      + random.nextInt(ACCOUNTS)
                      + " "
                      + (1 + random.nextInt(500)));
          sentIds.add(id);
        }
        broker.publish(id, sent.get(id));
      }
      if (child == null || !child.process().isAlive()) {
        child = start(broker);
      }
      if (round == ROUNDS - 1) {
        break;
      }
      // Kill at a random point of the backlog, strictly before its end, so the child holds
      // deliveries it has not acknowledged; the target may be where it stands now, so the kill can
      // also land while the application is still starting.
      long now = db.effectRows();
      long backlog = sent.size() - now;
      long target = backlog <= 1 ? now : now + random.nextInt((int) backlog);
      ChildJvm victim = child;
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(1 + random.nextInt(20)))
          .until(() -> db.effectRows() >= target || !victim.process().isAlive());
      assertThat(victim.process().isAlive())
          .as("the child is alive before its kill; output: %s", victim.lines())
          .isTrue();
      boolean consuming = victim.saw("READY");
      victim.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      kills++;
      killedAt.add((consuming ? "" : "starting@") + db.effectRows());
      db.assertBankConserved(ACCOUNTS, INITIAL, sent);
    }
    ChildJvm last = child;
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> db.effectRows() >= sent.size() && broker.drained());
    last.send("stop");
    assertThat(last.process().waitFor(60, TimeUnit.SECONDS)).as("the child stopped").isTrue();
    assertThat(last.process().exitValue()).as("exit code; output: %s", last.lines()).isZero();
    assertThat(last.saw("CLOSED")).isTrue();

    EffectChecker.Verdict verdict = EffectChecker.check(sent.keySet(), db.effectCounts());
    System.out.println(
        "[once-spring "
            + name
            + "] chaos seed "
            + seed
            + ": "
            + MESSAGES
            + " published, "
            + sent.size()
            + " distinct ids, "
            + kills
            + " SIGKILLs at effect rows "
            + killedAt
            + "; "
            + verdict);
    assertThat(kills).isGreaterThanOrEqualTo(10);
    verdict.assertExactlyOnce("seed " + seed);
    db.assertBankConserved(ACCOUNTS, INITIAL, sent);
    assertThat(broker.drained()).as("everything acknowledged").isTrue();
  }

  private ChildJvm start(Broker broker) {
    List<String> args = new ArrayList<>(broker.childArgs());
    args.addAll(
        List.of(
            "spring.datasource.url=" + db.db.jdbcUrl(),
            "spring.datasource.username=" + db.db.user(),
            "spring.datasource.password=" + db.db.password(),
            "spring.datasource.hikari.maximum-pool-size=4",
            "spring.main.web-application-type=none",
            "spring.main.banner-mode=off",
            "logging.level.root=WARN",
            "once.jdbc.table=" + db.onceTable(),
            "once.jdbc.create-schema=always",
            "test.effects=" + db.effects(),
            "test.accounts=" + db.accounts()));
    ChildJvm child = ChildJvm.start(BankListenerApp.class, List.of("-Xmx256m"), args);
    children.add(child);
    return child;
  }
}
