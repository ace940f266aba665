package dev.once.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.testkit.EffectChecker;
import dev.once.testkit.servers.TcpProxy;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestKafka;
import dev.once.testkit.servers.TestServers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL goes away under a running {@link KafkaInboxConsumer#run()} (a {@link TcpProxy} between
 * them is cut, resetting every connection, then restored): the loop keeps running, waits the outage
 * out, and afterwards every message id has exactly one effect; nothing is dead-lettered because the
 * database was down.
 */
class KafkaDatabaseOutageIT {

  private final ExecutorService threads = Executors.newCachedThreadPool();
  private TestDatabase direct;
  private TcpProxy proxy;
  private KafkaFixture f;
  private KafkaProducer<String, String> producer;

  @BeforeEach
  void setUp() throws Exception {
    direct = TestServers.postgres();
    proxy = TcpProxy.start(direct.host(), direct.port());
    // The consumer's pool goes through the proxy; a short connection timeout so an outage is
    // noticed quickly.
    f =
        new KafkaFixture(
            direct.withAddress("127.0.0.1", proxy.port()),
            KafkaFixture.newPrefix(),
            4,
            c -> {
              c.setConnectionTimeout(1000);
              c.setValidationTimeout(500);
            });
    f.execute("CREATE TABLE " + f.prefix + "_effects (id BIGSERIAL, msg_id VARCHAR(100) NOT NULL)");
    producer = KafkaFixture.producer();
  }

  @AfterEach
  void tearDown() throws Exception {
    threads.shutdownNow();
    proxy.restore();
    if (producer != null) {
      producer.close();
    }
    if (f != null) {
      f.close();
    }
    proxy.close();
  }

  @Test
  void runSurvivesADatabaseOutageMidStreamAndAppliesEveryMessageOnce() throws Exception {
    String topic = "outage-" + f.prefix;
    TestKafka.createTopic(topic, 3);
    Random random = new Random();
    List<String> sentIds = new ArrayList<>();
    KafkaInboxConsumer<String, String> inbox =
        inbox(
            topic,
            (c, r) -> {
              effect(c, r);
              Thread.sleep(2); // keep the stream flowing while the test cuts the proxy
            },
            5);
    Future<?> loop = threads.submit(inbox::run);

    produce(topic, 300, sentIds, random);
    await().atMost(Duration.ofSeconds(60)).until(() -> effectCount() >= 60);
    proxy.cut(); // mid-stream: a batch is in flight or the next one is about to start
    long cutAt = System.nanoTime();
    produce(topic, 300, sentIds, random); // messages keep coming while the database is down
    awaitOrDiagnose(loop, () -> inbox.stats().outages() >= 5, inbox);
    assertThat(loop.isDone()).as("run() still running during the outage").isFalse();
    long appliedDuringOutage = inbox.stats().applied();
    proxy.restore();
    long outageMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt);

    Set<String> distinct = new LinkedHashSet<>(sentIds);
    awaitOrDiagnose(
        loop,
        () -> distinctEffects() == distinct.size() && storedOffsets() == sentIds.size(),
        inbox);
    assertThat(loop.isDone()).as("run() still running after the outage").isFalse();
    KafkaInboxConsumer.Stats stats = inbox.stats();
    inbox.close();
    loop.get(30, TimeUnit.SECONDS);

    check(
        "outage mid-stream ("
            + outageMillis
            + " ms, "
            + stats
            + ", applied before restore "
            + appliedDuringOutage
            + ")",
        distinct);
    assertThat(stats.deadLettered()).as("dead-lettered").isZero();
    assertThat(stats.applied()).as("applied").isEqualTo(distinct.size());
    assertThat(stats.applied() + stats.duplicates())
        .as("every record settled")
        .isGreaterThanOrEqualTo(sentIds.size());
  }

  @Test
  void aConnectionLostInsideTheHandlerIsAnOutageNotAPoisonRecord() throws Exception {
    String topic = "outage-dlt-" + f.prefix;
    TestKafka.createTopic(topic, 1);
    AtomicBoolean cut = new AtomicBoolean();
    // maxAttempts 1: were the lost connection counted as the record's failure, it would be
    // dead-lettered at once.
    KafkaInboxConsumer<String, String> inbox =
        inbox(
            topic,
            (c, r) -> {
              if (r.value().equals("cut") && cut.compareAndSet(false, true)) {
                proxy.cut(); // the database goes away inside this record's transaction, before its
                // effect
              }
              effect(c, r);
            },
            1);
    Future<?> loop = threads.submit(inbox::run);
    List<String> sentIds = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      String id = "d-" + i;
      sentIds.add(id);
      producer.send(KafkaFixture.message(topic, "k", id, i == 20 ? "cut" : "v-" + i));
    }
    producer.flush();
    // Down for much longer than maxAttempts x backoff: several batch attempts fail, none of them
    // dead-letters.
    await().atMost(Duration.ofSeconds(60)).until(() -> inbox.stats().outages() >= 5);
    assertThat(inbox.stats().deadLettered()).isZero();
    assertThat(loop.isDone()).as("run() still running during the outage").isFalse();
    proxy.restore();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> distinctEffects() == 50 && storedOffsets() == 50);
    assertThat(loop.isDone()).isFalse();
    KafkaInboxConsumer.Stats stats = inbox.stats();
    inbox.close();
    loop.get(30, TimeUnit.SECONDS);

    check("connection lost in a handler (" + stats + ")", new LinkedHashSet<>(sentIds));
    assertThat(stats.deadLettered()).as("dead-lettered").isZero();
    assertThat(stats.retries()).as("handler retries (an outage spends no attempt)").isZero();
    assertThat(dltRecords(topic + ".DLT")).as("records on the dead-letter topic").isZero();
  }

  @Test
  void partitionsAssignedWhileTheDatabaseIsDownWaitForTheirStoredOffsets() throws Exception {
    String topic = "outage-assign-" + f.prefix;
    TestKafka.createTopic(topic, 2);
    List<String> sentIds = new ArrayList<>();
    produce(topic, 100, sentIds, new Random());
    KafkaInboxConsumer<String, String> first = inbox(topic, this::effect, 5);
    Future<?> firstLoop = threads.submit(first::run);
    await().atMost(Duration.ofSeconds(60)).until(() -> storedOffsets() == 100);
    first.close();
    firstLoop.get(30, TimeUnit.SECONDS);
    produce(topic, 100, sentIds, new Random());

    proxy.cut();
    // Joins while the offsets table cannot be read: its partitions stay paused rather than start
    // anywhere else.
    KafkaInboxConsumer<String, String> second =
        KafkaInboxConsumer.builder(
                KafkaFixture.consumer(
                    "g-" + f.prefix, Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 20)),
                f.pool,
                f.inbox,
                this::effect)
            .topics(List.of(topic))
            .deadLetters(producer)
            .offsetsTable(f.offsetsTable())
            .outageBackoff(Duration.ofMillis(50), Duration.ofMillis(400))
            .build();
    Future<?> secondLoop = threads.submit(second::run);
    await().atMost(Duration.ofSeconds(60)).until(() -> second.stats().outages() >= 3);
    proxy.restore();
    Set<String> distinct = new LinkedHashSet<>(sentIds);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> distinctEffects() == distinct.size() && storedOffsets() == 200);
    assertThat(secondLoop.isDone()).isFalse();
    second.close();
    secondLoop.get(30, TimeUnit.SECONDS);
    check("assigned during an outage (" + second.stats() + ")", distinct);
  }

  /**
   * Waits for {@code condition}; if run() ends meanwhile, fails with its exception; on a timeout,
   * prints every thread's stack (where is the loop stuck?) before failing.
   */
  private static void awaitOrDiagnose(
      Future<?> loop,
      java.util.concurrent.Callable<Boolean> condition,
      KafkaInboxConsumer<?, ?> inbox)
      throws Exception {
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> loop.isDone() || condition.call());
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      StringBuilder dump =
          new StringBuilder("[once-kafka] timed out; " + inbox.stats() + "; threads:\n");
      Thread.getAllStackTraces()
          .forEach(
              (t, stack) -> {
                dump.append(t.getName()).append(' ').append(t.getState()).append('\n');
                for (StackTraceElement s : stack) {
                  dump.append("    at ").append(s).append('\n');
                }
              });
      System.out.println(dump);
      throw e;
    }
    if (loop.isDone()) {
      loop.get(); // rethrows what ended run()
      throw new AssertionError("run() returned before close(); " + inbox.stats());
    }
  }

  private KafkaInboxConsumer<String, String> inbox(
      String topic, KafkaInboxConsumer.RecordHandler<String, String> h, int maxAttempts) {
    return KafkaInboxConsumer.builder(
            KafkaFixture.consumer(
                "g-" + f.prefix, Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 20)),
            f.pool,
            f.inbox,
            h)
        .topics(List.of(topic))
        .deadLetters(producer)
        .offsetsTable(f.offsetsTable())
        .createSchema(true)
        .retry(maxAttempts, Duration.ofMillis(10), Duration.ofMillis(50))
        .outageBackoff(Duration.ofMillis(50), Duration.ofMillis(400))
        .build();
  }

  private void effect(
      Connection c, org.apache.kafka.clients.consumer.ConsumerRecord<String, String> r)
      throws Exception {
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO " + f.prefix + "_effects (msg_id) VALUES (?)")) {
      ps.setString(1, KafkaInboxConsumer.messageIdHeader(r));
      ps.executeUpdate();
    }
  }

  /**
   * Sends {@code n} messages, ~20% of them repeating an earlier id, and waits for every
   * acknowledgement.
   */
  private void produce(String topic, int n, List<String> sentIds, Random random) throws Exception {
    List<Future<RecordMetadata>> acks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id =
          !sentIds.isEmpty() && random.nextInt(100) < 20
              ? sentIds.get(random.nextInt(sentIds.size()))
              : "o-" + sentIds.size();
      sentIds.add(id);
      acks.add(producer.send(KafkaFixture.message(topic, id, id, "v")));
    }
    for (Future<RecordMetadata> ack : acks) {
      ack.get();
    }
  }

  private long query(String sql) throws Exception {
    try (Connection c = direct.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private long effectCount() throws Exception {
    return query("SELECT COUNT(*) FROM " + f.prefix + "_effects");
  }

  private long distinctEffects() throws Exception {
    return query("SELECT COUNT(DISTINCT msg_id) FROM " + f.prefix + "_effects");
  }

  private long storedOffsets() throws Exception {
    return query("SELECT COALESCE(SUM(next_offset), 0) FROM " + f.offsetsTable());
  }

  private long dltRecords(String dlt) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap()))) {
      if (!admin.listTopics().names().get().contains(dlt)) {
        return 0;
      }
    }
    try (KafkaConsumer<String, String> c =
        KafkaFixture.consumer("dlt-check-" + f.prefix, Map.of())) {
      List<TopicPartition> parts =
          c.partitionsFor(dlt).stream().map(p -> new TopicPartition(dlt, p.partition())).toList();
      return c.endOffsets(parts).values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /**
   * The checker: every sent id has exactly one effect row; prints the counts and up to 20 examples
   * per class.
   */
  private void check(String scenario, Set<String> sent) throws Exception {
    Map<String, Long> effects = new HashMap<>();
    try (Connection c = direct.connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT msg_id, COUNT(*) FROM " + f.prefix + "_effects GROUP BY msg_id")) {
      while (rs.next()) {
        effects.put(rs.getString(1), rs.getLong(2));
      }
    }
    EffectChecker.Verdict verdict = EffectChecker.check(sent, effects);
    System.out.println("[once-kafka] " + scenario + ": " + sent.size() + " ids; " + verdict);
    verdict.assertExactlyOnce(scenario);
  }
}
