package dev.once.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.once.kafka.KafkaOutboxPublisher;
import dev.once.outbox.Outbox;
import dev.once.outbox.OutboxEntry;
import dev.once.outbox.OutboxMessage;
import dev.once.outbox.OutboxPublisher;
import dev.once.outbox.OutboxRelay;
import dev.once.rabbitmq.RabbitOutboxPublisher;
import dev.once.testkit.servers.TestRabbitMq;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Which outbox beans the starter registers, from which settings, and the clear failures of the
 * settings that cannot work. The relay's publishing against real brokers is in {@code
 * outbox/*OutboxAppIT}.
 */
class OnceOutboxAutoConfigurationTest {

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  OnceOutboxAutoConfiguration.class, OnceOutboxRelayAutoConfiguration.class))
          .withUserConfiguration(Database.class);

  @Configuration(proxyBeanMethods = false)
  static class Database {
    @Bean
    DataSource dataSource() {
      JdbcDataSource ds = new JdbcDataSource();
      ds.setURL("jdbc:h2:mem:outbox-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
      return ds;
    }

    @Bean
    PlatformTransactionManager transactionManager(DataSource dataSource) {
      return new JdbcTransactionManager(dataSource);
    }
  }

  /** Records what the relay hands it and acknowledges everything: wiring, not a broker. */
  @Configuration(proxyBeanMethods = false)
  static class RecordingPublisher {
    @Bean
    Recorder recorder() {
      return new Recorder();
    }
  }

  static final class Recorder implements OutboxPublisher {
    final List<OutboxMessage> published = new CopyOnWriteArrayList<>();

    @Override
    public Map<UUID, Exception> publish(List<OutboxMessage> messages) {
      published.addAll(messages);
      return Map.of();
    }
  }

  @Test
  void withADataSourceTheOutboxAndItsTransactionalWriterAreRegisteredButNoRelayWithoutPublisher() {
    runner.run(
        context -> {
          assertThat(context).hasSingleBean(Outbox.class).hasSingleBean(TransactionalOutbox.class);
          assertThat(context).doesNotHaveBean(OnceOutboxRelay.class);
          // In-memory H2: the table was created (create-schema=embedded).
          Long rows =
              new JdbcTemplate(context.getBean(DataSource.class))
                  .queryForObject("SELECT COUNT(*) FROM once_outbox", Long.class);
          assertThat(rows).isZero();
        });
  }

  @Test
  void aPublisherBeanGetsARelayThatStartsAndStopsWithTheContextAndPublishesCommits() {
    runner
        .withUserConfiguration(RecordingPublisher.class)
        .withPropertyValues(
            "once.outbox.table=orders_outbox", "once.outbox.relay.poll-interval=50ms")
        .run(
            context -> {
              OnceOutboxRelay relay = context.getBean(OnceOutboxRelay.class);
              assertThat(relay.isRunning()).isTrue();
              OutboxRelay first = relay.relay();
              TransactionalOutbox outbox = context.getBean(TransactionalOutbox.class);
              UUID id =
                  new TransactionTemplate(context.getBean(PlatformTransactionManager.class))
                      .execute(s -> outbox.enqueue("orders", "o-1", "placed"));

              Recorder recorder = context.getBean(Recorder.class);
              await()
                  .atMost(Duration.ofSeconds(30))
                  .until(() -> recorder.published.size(), n -> n >= 1);
              assertThat(recorder.published).extracting(OutboxMessage::id).containsExactly(id);
              assertThat(new String(recorder.published.get(0).payload(), StandardCharsets.UTF_8))
                  .isEqualTo("placed");

              context.stop();
              assertThat(relay.isRunning()).isFalse();
              assertThat(first.isRunning()).isFalse();
              context.start();
              assertThat(relay.isRunning()).isTrue();
              assertThat(relay.relay()).isNotSameAs(first);
            });
  }

  /** What an application publishes with ApplicationEventPublisher. */
  record Shipped(String orderId) implements OutboxEvent {
    @Override
    public OutboxEntry toOutboxEntry() {
      return new OutboxEntry(
          "shipments",
          orderId,
          orderId.getBytes(StandardCharsets.UTF_8),
          Map.of("type", "Shipped"));
    }
  }

  @Test
  void anOutboxEventPublishedInATransactionIsWrittenInItAndRefusedOutsideOne() {
    runner
        .withUserConfiguration(RecordingPublisher.class)
        .withPropertyValues("once.outbox.relay.poll-interval=50ms")
        .run(
            context -> {
              TransactionTemplate tx =
                  new TransactionTemplate(context.getBean(PlatformTransactionManager.class));
              JdbcTemplate jdbc = new JdbcTemplate(context.getBean(DataSource.class));
              tx.executeWithoutResult(s -> context.publishEvent(new Shipped("o-7")));
              // Rolled back: its message goes with it.
              tx.executeWithoutResult(
                  s -> {
                    context.publishEvent(new Shipped("o-8"));
                    s.setRollbackOnly();
                  });

              assertThatThrownBy(() -> context.publishEvent(new Shipped("o-9")))
                  .isInstanceOf(IllegalStateException.class)
                  .hasMessageContaining("no transaction is active");
              assertThat(
                      jdbc.queryForList(
                          "SELECT msg_key FROM once_outbox ORDER BY seq", String.class))
                  .containsExactly("o-7");
              Recorder recorder = context.getBean(Recorder.class);
              await()
                  .atMost(Duration.ofSeconds(30))
                  .until(() -> recorder.published.size(), n -> n >= 1);
              assertThat(recorder.published.get(0).headers()).containsEntry("type", "Shipped");
              assertThat(recorder.published.get(0).destination()).isEqualTo("shipments");
            });
  }

  @Test
  void relayEnabledFalseKeepsTheRelayOutOfThisApplication() {
    runner
        .withUserConfiguration(RecordingPublisher.class)
        .withPropertyValues("once.outbox.relay.enabled=false")
        .run(
            context -> {
              assertThat(context).hasSingleBean(TransactionalOutbox.class);
              assertThat(context).doesNotHaveBean(OnceOutboxRelay.class);
            });
  }

  @Test
  void outboxEnabledFalseOrNoOnceOutboxOnTheClassPathRegistersNothing() {
    runner
        .withPropertyValues("once.outbox.enabled=false")
        .run(
            context ->
                assertThat(context)
                    .doesNotHaveBean(Outbox.class)
                    .doesNotHaveBean(TransactionalOutbox.class));
    runner
        .withClassLoader(new FilteredClassLoader(Outbox.class))
        .run(context -> assertThat(context).doesNotHaveBean(TransactionalOutbox.class));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "once.outbox.relay.batch-size=0         | batchSize must be at least 1, but was 0",
        "once.outbox.table=orders; DROP TABLE x | table must be a plain SQL identifier",
        "once.outbox.notify-interval=-1s        | notifyInterval must not be negative",
        "once.outbox.relay.linger=-1ms          | linger must not be negative"
      })
  void aBadSettingFailsTheStartUpNamingIt(String setting, String message) {
    runner
        .withUserConfiguration(RecordingPublisher.class)
        .withPropertyValues(setting)
        .run(
            context ->
                assertThat(context)
                    .hasFailed()
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining(message));
  }

  @Test
  void brokerKafkaWithoutOnceKafkaFailsTheStartUpSayingWhatIsMissing() {
    runner
        .withClassLoader(new FilteredClassLoader(KafkaOutboxPublisher.class))
        .withPropertyValues("once.outbox.relay.broker=kafka")
        .run(
            context ->
                assertThat(context)
                    .hasFailed()
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("once.outbox.relay.broker=kafka")
                    .hasMessageContaining("dev.once:once-kafka"));
  }

  @Test
  void brokerRabbitmqWithoutSpringAmqpConnectionFailsTheStartUpSayingWhatIsMissing() {
    runner
        .withPropertyValues("once.outbox.relay.broker=rabbitmq")
        .run(
            context ->
                assertThat(context)
                    .hasFailed()
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("once.outbox.relay.broker=rabbitmq")
                    .hasMessageContaining("dev.once:once-rabbitmq"));
  }

  @Test
  void brokerKafkaBuildsThePublisherFromSpringKafkaSettingsAndRefusesWeakeningOnes() {
    ApplicationContextRunner kafka =
        runner
            .withConfiguration(
                AutoConfigurations.of(
                    org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration.class))
            .withPropertyValues(
                "once.outbox.relay.broker=kafka",
                "once.outbox.relay.enabled=false",
                "spring.kafka.bootstrap-servers=127.0.0.1:1");
    kafka.run(context -> assertThat(context).hasSingleBean(KafkaOutboxPublisher.class));
    kafka
        .withPropertyValues("spring.kafka.producer.acks=1")
        .run(
            context ->
                assertThat(context)
                    .hasFailed()
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("acks"));
  }

  @Test
  void brokerRabbitmqBuildsThePublisherFromSpringRabbitmqSettings() {
    URI uri = URI.create(TestRabbitMq.uri());
    runner
        .withConfiguration(
            AutoConfigurations.of(
                org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration.class))
        .withPropertyValues(
            "once.outbox.relay.broker=rabbitmq",
            "once.outbox.relay.enabled=false",
            "spring.rabbitmq.addresses=" + uri)
        .run(context -> assertThat(context).hasSingleBean(RabbitOutboxPublisher.class));
  }
}
