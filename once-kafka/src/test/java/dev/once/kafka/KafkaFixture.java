package dev.once.kafka;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.jdbc.ConcurrentClaimPolicy;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.JdbcInbox;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestKafka;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A PostgreSQL pool, an inbox on unique tables, and Kafka clients for one test (also used by the
 * child JVM).
 */
final class KafkaFixture implements AutoCloseable {

  final HikariDataSource pool;
  final String prefix;
  final JdbcIdempotencyStore store;
  final JdbcInbox inbox;

  /**
   * What the inbox's listener was told of dead letters: "consumer source reason", one per record.
   */
  final List<String> deadLettered = new java.util.concurrent.CopyOnWriteArrayList<>();

  KafkaFixture(TestDatabase db, String prefix, int poolSize) {
    this(db, prefix, poolSize, config -> {});
  }

  /**
   * With {@code tune} applied to the pool's settings last (e.g. a short connection timeout for
   * outage tests).
   */
  KafkaFixture(
      TestDatabase db,
      String prefix,
      int poolSize,
      java.util.function.Consumer<HikariConfig> tune) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(db.jdbcUrl());
    config.setUsername(db.user());
    config.setPassword(db.password());
    config.setMaximumPoolSize(poolSize);
    tune.accept(config);
    this.pool = new HikariDataSource(config);
    this.prefix = prefix;
    this.store =
        JdbcIdempotencyStore.builder(pool)
            .table(prefix + "_once")
            .createSchema(true)
            .concurrentClaims(ConcurrentClaimPolicy.WAIT)
            .build();
    this.inbox =
        JdbcInbox.builder(pool, store)
            .consumer("kafka-it")
            .listener(
                new dev.once.OnceListener() {
                  @Override
                  public void deadLettered(String consumer, String source, String reason) {
                    deadLettered.add(consumer + " " + source + " " + reason);
                  }
                })
            .build();
  }

  static String newPrefix() {
    return "kafka_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  }

  String offsetsTable() {
    return prefix + "_offsets";
  }

  void execute(String sql) throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  long queryLong(String sql) throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static KafkaConsumer<String, String> consumer(String group, Map<String, Object> extra) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100);
    p.putAll(extra);
    return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
  }

  static KafkaProducer<String, String> producer() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  static ProducerRecord<String, String> message(String topic, String key, String id, String value) {
    ProducerRecord<String, String> r = new ProducerRecord<>(topic, key, value);
    if (id != null) {
      r.headers().add(KafkaInboxConsumer.MESSAGE_ID_HEADER, id.getBytes(StandardCharsets.UTF_8));
    }
    return r;
  }

  @Override
  public void close() throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      for (String drop :
          new String[] {
            "DROP TABLE IF EXISTS " + prefix + "_effects",
            "DROP TABLE IF EXISTS " + prefix + "_accounts",
            "DROP TABLE IF EXISTS " + offsetsTable(),
            "DROP TABLE IF EXISTS " + prefix + "_once",
            "DROP SEQUENCE IF EXISTS " + prefix + "_once_token_seq"
          }) {
        s.execute(drop);
      }
    } finally {
      pool.close();
    }
  }
}
