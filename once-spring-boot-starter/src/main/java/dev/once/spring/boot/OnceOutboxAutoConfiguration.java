package dev.once.spring.boot;

import dev.once.kafka.KafkaOutboxPublisher;
import dev.once.outbox.Outbox;
import dev.once.outbox.OutboxException;
import dev.once.outbox.OutboxPublisher;
import dev.once.rabbitmq.RabbitOutboxPublisher;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.springframework.amqp.rabbit.connection.AbstractConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.DataSourceUtils;

/**
 * The transactional outbox on the application's {@link DataSource}, when {@code
 * dev.once:once-outbox} is on the class path: an {@link Outbox} ({@code once.outbox.*}) and the
 * {@link TransactionalOutbox} that application code writes through, directly or by publishing an
 * {@link OutboxEvent}. With {@code once.outbox.relay.broker=kafka} or {@code rabbitmq} it also
 * builds the relay's {@link OutboxPublisher} from Spring Boot's own connection settings ({@code
 * spring.kafka.*}, {@code spring.rabbitmq.*}); {@link OnceOutboxRelayAutoConfiguration} runs the
 * relay. {@code once.outbox.enabled=false} turns it all off.
 */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration",
      "org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration"
    })
@ConditionalOnClass({Outbox.class, DataSourceUtils.class})
@ConditionalOnSingleCandidate(DataSource.class)
@ConditionalOnProperty(
    prefix = "once.outbox",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
@EnableConfigurationProperties(OnceProperties.class)
public class OnceOutboxAutoConfiguration {

  /**
   * The outbox's settings ({@code once.outbox.table}, {@code notify-relays}), unless the
   * application defines an {@link Outbox}; creates the table as {@code once.outbox.create-schema}
   * says.
   *
   * @param dataSource the application's single DataSource
   * @param properties {@code once.outbox.*}
   * @return the outbox
   * @throws OutboxException if the table was to be created and could not be
   */
  @Bean
  @ConditionalOnMissingBean
  public Outbox onceOutbox(DataSource dataSource, OnceProperties properties) {
    OnceOutboxProperties settings = properties.getOutbox();
    Outbox outbox =
        Outbox.builder()
            .table(settings.getTable())
            .notifyRelays(settings.isNotifyRelays())
            .notifyInterval(settings.getNotifyInterval())
            .build();
    boolean create =
        switch (settings.getCreateSchema()) {
          case ALWAYS -> true;
          case NEVER -> false;
          case EMBEDDED -> OnceJdbcAutoConfiguration.isInMemory(dataSource);
        };
    if (create) {
      try (Connection c = dataSource.getConnection()) {
        outbox.createSchema(c);
      } catch (SQLException e) {
        throw new OutboxException("could not create the outbox table " + outbox.table(), e);
      }
    }
    return outbox;
  }

  /**
   * The bean application code writes its messages through, in its Spring transaction.
   *
   * @param outbox the outbox's settings
   * @param dataSource the application's single DataSource
   * @return the transactional outbox
   */
  @Bean
  @ConditionalOnMissingBean
  public TransactionalOutbox onceTransactionalOutbox(Outbox outbox, DataSource dataSource) {
    return new TransactionalOutbox(outbox, dataSource);
  }

  /**
   * Writes every {@link OutboxEvent} the application publishes through the transactional outbox.
   *
   * @param outbox the transactional outbox
   * @return the listener
   */
  @Bean
  @ConditionalOnMissingBean
  OutboxEventWriter onceOutboxEventWriter(TransactionalOutbox outbox) {
    return new OutboxEventWriter(outbox);
  }

  /** {@code once.outbox.relay.broker=kafka}: the publisher from {@code spring.kafka.*}. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass({KafkaOutboxPublisher.class, KafkaProperties.class})
  @ConditionalOnBean(KafkaProperties.class)
  @ConditionalOnProperty(prefix = "once.outbox.relay", name = "broker", havingValue = "kafka")
  static class KafkaPublisher {

    /**
     * Spring Boot's producer settings ({@code spring.kafka.bootstrap-servers}, {@code
     * spring.kafka.producer.*}, security and SSL) without its serializers: the publisher sends the
     * outbox's bytes. A setting that weakens delivery ({@code acks} other than all, ...) fails the
     * start-up, named.
     */
    @Bean
    @ConditionalOnMissingBean(OutboxPublisher.class)
    KafkaOutboxPublisher onceOutboxPublisher(KafkaProperties kafka, OnceProperties properties) {
      Map<String, Object> config = new HashMap<>(kafka.buildProducerProperties());
      config.remove(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG);
      config.remove(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);
      return KafkaOutboxPublisher.builder(config)
          .timeout(properties.getOutbox().getRelay().getPublishTimeout())
          .build();
    }
  }

  /** {@code once.outbox.relay.broker=rabbitmq}: the publisher from {@code spring.rabbitmq.*}. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass({RabbitOutboxPublisher.class, AbstractConnectionFactory.class})
  @ConditionalOnBean(ConnectionFactory.class)
  @ConditionalOnProperty(prefix = "once.outbox.relay", name = "broker", havingValue = "rabbitmq")
  static class RabbitPublisher {

    /**
     * A publisher on its own connection, opened from the RabbitMQ client factory behind Spring
     * AMQP's connection factory (so every {@code spring.rabbitmq.*} connection setting applies).
     */
    @Bean
    @ConditionalOnMissingBean(OutboxPublisher.class)
    RabbitOutboxPublisher onceOutboxPublisher(
        ConnectionFactory connectionFactory, OnceProperties properties) {
      if (!(connectionFactory instanceof AbstractConnectionFactory spring)) {
        throw new IllegalStateException(
            "once.outbox.relay.broker=rabbitmq needs Spring AMQP's CachingConnectionFactory (an"
                + " AbstractConnectionFactory), but the ConnectionFactory bean is a "
                + connectionFactory.getClass().getName()
                + "; define an OutboxPublisher bean instead");
      }
      return RabbitOutboxPublisher.builder(spring.getRabbitConnectionFactory())
          .timeout(properties.getOutbox().getRelay().getPublishTimeout())
          .connectionName("once-outbox-" + properties.getOutbox().getRelay().getName())
          .build();
    }
  }
}
