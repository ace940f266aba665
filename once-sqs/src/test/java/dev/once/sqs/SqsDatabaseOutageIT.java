package dev.once.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.jdbc.JdbcInbox;
import dev.once.testkit.servers.TcpProxy;
import dev.once.testkit.servers.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * PostgreSQL goes away inside an SQS handler (the test kit's {@link TcpProxy} between the consumer
 * and the database is cut mid-batch, resetting the batch's connection): that is an outage to wait
 * out, not the message's failure. The outage lasts several visibility timeouts, and no message is
 * deleted, received again or given up meanwhile (the batch's visibility extensions go on; one
 * attempt allowed, and a redrive policy that moves a message on its second receive), though a
 * second, healthy consumer of the same queue receives all along (to which SQS would hand them).
 * Real SQS-compatible server (ElasticMQ), real PostgreSQL.
 */
class SqsDatabaseOutageIT {

  /**
   * Shorter than one retry of the batch plus the outage (a second to find the database gone, the
   * retry delay, and the wait below), so the extensions must keep their period across retries.
   */
  private static final int VISIBILITY_SECONDS = 3;

  private TestSqs sqs;
  private String queue;
  private String dlq;
  private TestDb db;
  private TcpProxy proxy;
  private HikariDataSource viaProxy;
  private final List<SqsInboxConsumer> consumers = new ArrayList<>();
  private final AtomicInteger lostConnections = new AtomicInteger();
  private final AtomicInteger failedBatches = new AtomicInteger();
  private final Map<String, List<Integer>> receives = new ConcurrentHashMap<>();

  @BeforeEach
  void setUp() throws Exception {
    sqs = new TestSqs("once-db-outage");
    dlq = sqs.deadLetterQueue();
    queue = sqs.queue(VISIBILITY_SECONDS, dlq, 1);
    db = new TestDb();
    proxy = TcpProxy.start(db.db.host(), db.db.port());
    TestDatabase proxied = db.db.withAddress("127.0.0.1", proxy.port());
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(proxied.jdbcUrl());
    config.setUsername(proxied.user());
    config.setPassword(proxied.password());
    config.setMaximumPoolSize(2);
    // An outage is noticed quickly: a connection attempt through the cut proxy gives up after 1 s.
    config.setConnectionTimeout(1000);
    config.setValidationTimeout(500);
    viaProxy = new HikariDataSource(config);
  }

  @AfterEach
  void tearDown() throws Exception {
    consumers.forEach(SqsInboxConsumer::close);
    proxy.restore();
    viaProxy.close();
    proxy.close();
    try {
      sqs.close();
    } finally {
      db.close();
    }
  }

  @Test
  void aConnectionLostInsideTheHandlerIsAnOutageNotAPoisonMessage() throws Exception {
    sendWithCutAtM7();
    // The batch's own connection goes through the proxy: the cut resets it mid-transaction.
    JdbcInbox inbox =
        JdbcInbox.builder(countingFailures(viaProxy), db.store(viaProxy))
            .consumer("sqs-outage-it")
            .build();
    AtomicBoolean cut = new AtomicBoolean();
    start(
        inbox,
        (c, m) -> {
          if (m.body().equals("cut") && cut.compareAndSet(false, true)) {
            proxy.cut(); // the database goes away inside this batch's transaction
          }
          try {
            apply(c, m);
          } catch (SQLException e) {
            lostConnections.incrementAndGet();
            throw e;
          }
        });

    waitOutTheOutageWithAHealthyConsumerReceiving();
  }

  @Test
  void aHandlerWhoseOwnConnectionIsLostIsWaitedOutNotGivenUp() throws Exception {
    sendWithCutAtM7();
    // The batch's connection stays healthy; the handler's lookups (its own pool, through the proxy)
    // lose theirs, as when the handler reads through a second DataSource.
    JdbcInbox inbox = JdbcInbox.builder(db.pool, db.store()).consumer("sqs-outage-it").build();
    AtomicBoolean cut = new AtomicBoolean();
    start(
        inbox,
        (c, m) -> {
          if (m.body().equals("cut") && cut.compareAndSet(false, true)) {
            proxy.cut();
          }
          try (java.sql.Connection lookup = viaProxy.getConnection();
              java.sql.Statement s = lookup.createStatement()) {
            s.execute("SELECT 1");
          } catch (SQLException e) {
            lostConnections.incrementAndGet();
            failedBatches.incrementAndGet();
            throw e;
          }
          apply(c, m);
        });

    waitOutTheOutageWithAHealthyConsumerReceiving();
  }

  /** A pool whose failed getConnection calls are counted: each is one retry of the batch. */
  private javax.sql.DataSource countingFailures(HikariDataSource pool) {
    return (javax.sql.DataSource)
        java.lang.reflect.Proxy.newProxyInstance(
            getClass().getClassLoader(),
            new Class<?>[] {javax.sql.DataSource.class},
            (p, method, args) -> {
              try {
                return method.invoke(pool, args);
              } catch (java.lang.reflect.InvocationTargetException e) {
                if (method.getName().equals("getConnection")) {
                  failedBatches.incrementAndGet();
                }
                throw e.getCause();
              }
            });
  }

  /** m-0..m-19; the first receive (a batch of 10) holds m-7, whose handler cuts the database. */
  private void sendWithCutAtM7() {
    List<Map.Entry<String, String>> messages = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      messages.add(Map.entry("m-" + i, i == 7 ? "cut" : "effect m-" + i));
    }
    sqs.sendAll(queue, messages);
  }

  private void waitOutTheOutageWithAHealthyConsumerReceiving() throws Exception {
    await().atMost(Duration.ofSeconds(30)).until(() -> lostConnections.get() >= 1);
    // A second instance with a healthy database: it applies the rest and keeps receiving, so a
    // message of the first one's batch whose visibility ran out would reach it.
    start(JdbcInbox.builder(db.pool, db.store()).consumer("sqs-outage-it").build(), this::apply);
    await().atMost(Duration.ofSeconds(30)).until(() -> db.effectCounts().size() == 10);
    int before = failedBatches.get();

    // The outage outlasts two visibility timeouts, counted in retries of the batch (each takes at
    // least the 1 s connection timeout or the handler's): meanwhile the batch stays in flight, and
    // nothing is received twice, given up or deleted.
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              assertThat(receives.values()).allSatisfy(r -> assertThat(r).containsOnly(1));
              assertThat(sqs.unsettled(dlq)).as("given up").isZero();
              assertThat(sqs.inFlight(queue)).as("the cut batch, undeleted").isEqualTo(10);
              assertThat(failedBatches.get() - before)
                  .isGreaterThanOrEqualTo(2 * VISIBILITY_SECONDS);
            });
    proxy.restore();

    await().atMost(Duration.ofSeconds(60)).until(() -> db.effectCounts().size() >= 20);
    Map<String, Integer> counts = db.effectCounts();
    assertThat(sqs.unsettled(dlq)).as("given up because the database went away").isZero();
    assertThat(counts).as("every message applied after the outage, m-7 included").hasSize(20);
    assertThat(counts.values()).as("each exactly once").allMatch(n -> n == 1);
    assertThat(receives.values())
        .as("every handler call on the first receive: no attempt spent")
        .allSatisfy(r -> assertThat(r).containsOnly(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> sqs.unsettled(queue) == 0);
  }

  private void apply(java.sql.Connection c, Message m) throws SQLException {
    receives
        .computeIfAbsent(m.body(), k -> new CopyOnWriteArrayList<>())
        .add(SqsInboxConsumer.receiveCount(m));
    TestDb.log(
        c,
        db.effects(),
        SqsInboxConsumer.messageAttribute(TestSqs.ID_ATTRIBUTE).apply(m),
        m.body());
  }

  // One attempt, and a redrive policy that moves a message on its second receive: were the lost
  // connection counted as the message's failure, it would be given up and moved at once.
  private void start(JdbcInbox inbox, dev.once.jdbc.JdbcInbox.Handler<Message> handler) {
    SqsInboxConsumer consumer =
        SqsInboxConsumer.builder(sqs.client, queue, inbox)
            .handler(handler)
            .messageId(SqsInboxConsumer.messageAttribute(TestSqs.ID_ATTRIBUTE))
            .batchSize(10)
            .waitTime(Duration.ofSeconds(1))
            .maxAttempts(1)
            .storeRetryDelay(Duration.ofMillis(100))
            .build();
    consumers.add(consumer);
    consumer.start();
  }
}
