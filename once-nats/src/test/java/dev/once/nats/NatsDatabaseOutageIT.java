package dev.once.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.jdbc.JdbcInbox;
import dev.once.testkit.servers.TcpProxy;
import dev.once.testkit.servers.TestDatabase;
import io.nats.client.Message;
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

/**
 * PostgreSQL goes away inside a NATS handler (the test kit's {@link TcpProxy} between the consumer
 * and the database is cut mid-batch, resetting the batch's connection): that is an outage to wait
 * out, not the message's failure. The outage lasts longer than the durable's AckWait, and no
 * message is redelivered meanwhile (the batch's in-progress acks go on) nor dead-lettered (with one
 * attempt allowed), though a second, healthy consumer of the same durable is fetching all along (to
 * which JetStream would redeliver them). Real NATS JetStream, real PostgreSQL.
 */
class NatsDatabaseOutageIT {

  /**
   * Longer than one retry of the batch (a second to find the database gone, plus the retry delay),
   * so the in-progress acks must keep their period across retries.
   */
  private static final Duration ACK_WAIT = Duration.ofSeconds(4);

  private TestJetStream nats;
  private TestDb db;
  private TcpProxy proxy;
  private HikariDataSource viaProxy;
  private final List<NatsInboxConsumer> consumers = new ArrayList<>();
  private final AtomicInteger lostConnections = new AtomicInteger();
  private final Map<String, List<Long>> deliveries = new ConcurrentHashMap<>();

  @BeforeEach
  void setUp() throws Exception {
    nats = new TestJetStream("once-db-outage");
    nats.durable(ACK_WAIT, -1);
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
    consumers.forEach(NatsInboxConsumer::close);
    proxy.restore();
    viaProxy.close();
    proxy.close();
    try {
      nats.close();
    } finally {
      db.close();
    }
  }

  @Test
  void aConnectionLostInsideTheHandlerIsAnOutageNotAPoisonMessage() throws Exception {
    publishWithCutAtM7();
    JdbcInbox inbox =
        JdbcInbox.builder(viaProxy, db.store(viaProxy)).consumer("nats-outage-it").build();
    // The batch's own connection goes through the proxy: the cut resets it mid-transaction.
    AtomicBoolean cut = new AtomicBoolean();
    start(
        inbox,
        (c, m) -> {
          if (TestJetStream.body(m).equals("cut") && cut.compareAndSet(false, true)) {
            proxy.cut(); // the database goes away inside this batch's transaction
          }
          try {
            apply(c, m);
          } catch (SQLException e) {
            lostConnections.incrementAndGet();
            throw e;
          }
        });

    waitOutTheOutageWithAHealthyConsumerFetching(1);
  }

  @Test
  void aHandlerWhoseOwnConnectionIsLostIsWaitedOutNotDeadLettered() throws Exception {
    publishWithCutAtM7();
    // The batch's connection stays healthy; the handler's lookups (its own pool, through the proxy)
    // lose theirs, as when the handler reads through a second DataSource.
    JdbcInbox inbox = JdbcInbox.builder(db.pool, db.store()).consumer("nats-outage-it").build();
    AtomicBoolean cut = new AtomicBoolean();
    start(
        inbox,
        (c, m) -> {
          if (TestJetStream.body(m).equals("cut") && cut.compareAndSet(false, true)) {
            proxy.cut();
          }
          try (java.sql.Connection lookup = viaProxy.getConnection();
              java.sql.Statement s = lookup.createStatement()) {
            s.execute("SELECT 1");
          } catch (SQLException e) {
            lostConnections.incrementAndGet();
            throw e;
          }
          apply(c, m);
        });

    waitOutTheOutageWithAHealthyConsumerFetching(2);
  }

  /** m-0..m-19; the first fetch (a batch of 10) holds m-7, whose handler cuts the database. */
  private void publishWithCutAtM7() throws Exception {
    for (int i = 0; i < 20; i++) {
      nats.publish("m-" + i, i == 7 ? "cut" : "effect m-" + i);
    }
  }

  private void waitOutTheOutageWithAHealthyConsumerFetching(int lostAtLeast) throws Exception {
    await().atMost(Duration.ofSeconds(30)).until(() -> lostConnections.get() >= lostAtLeast);
    // A second instance with a healthy database: it applies the rest and keeps fetching, so a
    // redelivery of the first one's batch would reach it.
    start(JdbcInbox.builder(db.pool, db.store()).consumer("nats-outage-it").build(), this::apply);

    // Longer than the AckWait with the database gone: nothing is redelivered or dead-lettered.
    await()
        .during(ACK_WAIT.multipliedBy(2))
        .atMost(ACK_WAIT.multipliedBy(3))
        .until(() -> nats.consumerInfo().getRedelivered() == 0 && nats.deadLetters() == 0);
    proxy.restore();

    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> db.effectCounts().size() + nats.deadLetters() >= 20);
    Map<String, Integer> counts = db.effectCounts();
    assertThat(nats.deadLetters()).as("dead-lettered because the database went away").isZero();
    assertThat(counts).as("every message applied after the outage, m-7 included").hasSize(20);
    assertThat(counts.values()).as("each exactly once").allMatch(n -> n == 1);
    assertThat(deliveries.values())
        .as("every handler call on the first delivery: no attempt spent")
        .allSatisfy(d -> assertThat(d).containsOnly(1L));
    await().atMost(Duration.ofSeconds(10)).until(() -> nats.unsettled() == 0);
  }

  private void apply(java.sql.Connection c, Message m) throws SQLException {
    String body = TestJetStream.body(m);
    deliveries
        .computeIfAbsent(body, k -> new CopyOnWriteArrayList<>())
        .add(m.metaData().deliveredCount());
    TestDb.log(c, db.effects(), NatsInboxConsumer.natsMsgId(m), body);
  }

  // One attempt: were the lost connection counted as the message's failure, it would be
  // dead-lettered at once.
  private void start(JdbcInbox inbox, JdbcInbox.Handler<Message> handler) throws Exception {
    NatsInboxConsumer consumer =
        NatsInboxConsumer.builder(nats.connection(), nats.stream, TestJetStream.DURABLE, inbox)
            .handler(handler)
            .batchSize(10)
            .fetchWait(Duration.ofMillis(50))
            .maxAttempts(1)
            .storeRetryDelay(Duration.ofMillis(100))
            .deadLetterSubject(nats.deadLetterSubject)
            .build();
    consumers.add(consumer);
    consumer.start();
  }
}
