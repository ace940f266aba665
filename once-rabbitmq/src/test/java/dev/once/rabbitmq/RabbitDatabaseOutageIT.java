package dev.once.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.jdbc.JdbcInbox;
import dev.once.testkit.servers.TcpProxy;
import dev.once.testkit.servers.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL goes away inside a RabbitMQ handler (the test kit's {@link TcpProxy} between the
 * consumer and the database is cut mid-batch, resetting the batch's connection): that is an outage
 * to wait out, not the message's failure. Real RabbitMQ, real PostgreSQL.
 */
class RabbitDatabaseOutageIT {

  private TestBroker broker;
  private TestDb db;
  private TcpProxy proxy;
  private HikariDataSource viaProxy;
  private RabbitInboxConsumer consumer;

  @BeforeEach
  void setUp() throws Exception {
    broker = new TestBroker();
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
    if (consumer != null) {
      consumer.close();
    }
    proxy.restore();
    viaProxy.close();
    proxy.close();
    try {
      broker.close();
    } finally {
      db.close();
    }
  }

  @Test
  void aConnectionLostInsideTheHandlerIsAnOutageNotAPoisonMessage() throws Exception {
    String queue = broker.queueWithDeadLetters("once-db-outage");
    for (int i = 0; i < 20; i++) {
      broker.publish(queue, "m-" + i, i == 7 ? "cut" : "effect m-" + i);
    }
    AtomicBoolean cut = new AtomicBoolean();
    AtomicInteger lostConnections = new AtomicInteger();
    JdbcInbox inbox =
        JdbcInbox.builder(viaProxy, db.store(viaProxy)).consumer("rabbit-outage-it").build();
    // One attempt: were the lost connection counted as the message's failure, it would be
    // dead-lettered at once.
    consumer =
        RabbitInboxConsumer.builder(broker.connection(), queue, inbox)
            .handler(
                (c, d) -> {
                  String body = RabbitInboxIT.body(d);
                  if (body.equals("cut") && cut.compareAndSet(false, true)) {
                    proxy.cut(); // the database goes away inside this batch's transaction, before
                    // this message's effect
                  }
                  try {
                    TestDb.log(c, db.effects(), RabbitInboxConsumer.amqpMessageId(d), body);
                  } catch (SQLException e) {
                    lostConnections.incrementAndGet();
                    throw e;
                  }
                })
            .batchSize(10)
            .prefetch(20)
            .maxAttempts(1)
            .storeRetryDelay(Duration.ofMillis(100))
            .build();
    consumer.start();

    await().atMost(Duration.ofSeconds(30)).until(() -> lostConnections.get() >= 1);
    proxy.restore();

    await()
        .atMost(Duration.ofSeconds(60))
        // On the effects themselves: a count of settled messages would include redelivered
        // duplicates and could end the wait before every message was applied.
        .until(() -> db.effectCounts().size() + broker.ready(queue + ".dlq") >= 20);
    Map<String, Integer> counts = db.effectCounts();
    assertThat(broker.ready(queue + ".dlq"))
        .as("dead-lettered because the database went away")
        .isZero();
    assertThat(counts).as("every message applied after the outage, m-7 included").hasSize(20);
    assertThat(counts.values()).as("each exactly once").allMatch(n -> n == 1);
    assertThat(broker.ready(queue)).as("every delivery acknowledged").isZero();
  }

  @Test
  void aHandlerWhoseOwnConnectionIsLostIsWaitedOutNotDeadLettered() throws Exception {
    String queue = broker.queueWithDeadLetters("once-lookup-outage");
    for (int i = 0; i < 20; i++) {
      broker.publish(queue, "m-" + i, i == 7 ? "cut" : "effect m-" + i);
    }
    AtomicBoolean cut = new AtomicBoolean();
    AtomicInteger lostConnections = new AtomicInteger();
    // The batch's connection stays healthy; the handler's lookups (its own pool, through the proxy)
    // lose theirs, as
    // when the handler reads through a second DataSource or the server drops some of the
    // connections.
    JdbcInbox inbox = JdbcInbox.builder(db.pool, db.store()).consumer("rabbit-outage-it").build();
    consumer =
        RabbitInboxConsumer.builder(broker.connection(), queue, inbox)
            .handler(
                (c, d) -> {
                  String body = RabbitInboxIT.body(d);
                  if (body.equals("cut") && cut.compareAndSet(false, true)) {
                    proxy.cut();
                  }
                  try (java.sql.Connection lookup = viaProxy.getConnection();
                      java.sql.Statement s = lookup.createStatement()) {
                    s.execute("SELECT 1");
                  } catch (SQLException e) {
                    lostConnections.incrementAndGet();
                    throw e;
                  }
                  TestDb.log(c, db.effects(), RabbitInboxConsumer.amqpMessageId(d), body);
                })
            .batchSize(10)
            .prefetch(20)
            .maxAttempts(1)
            .storeRetryDelay(Duration.ofMillis(100))
            .build();
    consumer.start();

    await().atMost(Duration.ofSeconds(30)).until(() -> lostConnections.get() >= 2);
    proxy.restore();

    await()
        .atMost(Duration.ofSeconds(60))
        // On the effects themselves: a count of settled messages would include redelivered
        // duplicates and could end the wait before every message was applied.
        .until(() -> db.effectCounts().size() + broker.ready(queue + ".dlq") >= 20);
    Map<String, Integer> counts = db.effectCounts();
    assertThat(broker.ready(queue + ".dlq"))
        .as("dead-lettered because the database went away")
        .isZero();
    assertThat(counts).as("every message applied after the outage, m-7 included").hasSize(20);
    assertThat(counts.values()).as("each exactly once").allMatch(n -> n == 1);
    assertThat(broker.ready(queue)).as("every delivery acknowledged").isZero();
  }
}
