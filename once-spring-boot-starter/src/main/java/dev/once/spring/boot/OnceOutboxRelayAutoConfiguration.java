package dev.once.spring.boot;

import dev.once.outbox.Outbox;
import dev.once.outbox.OutboxPublisher;
import dev.once.outbox.OutboxRelay;
import java.time.Duration;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Runs the outbox relay ({@link OnceOutboxRelay}, started and stopped with the context) when the
 * application has an {@link Outbox} and one {@link OutboxPublisher}: its own bean, or the one
 * {@link OnceOutboxAutoConfiguration} builds for {@code once.outbox.relay.broker}. {@code
 * once.outbox.relay.enabled=false} keeps the relay out of this application (another one relays).
 */
@AutoConfiguration(after = OnceOutboxAutoConfiguration.class)
@ConditionalOnClass(Outbox.class)
@ConditionalOnSingleCandidate(DataSource.class)
@ConditionalOnBean(Outbox.class)
@ConditionalOnProperty(
    prefix = "once.outbox.relay",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
@EnableConfigurationProperties(OnceProperties.class)
public class OnceOutboxRelayAutoConfiguration {

  /**
   * The relay on the application's DataSource and publisher, unless the application defines an
   * {@link OnceOutboxRelay}.
   *
   * @param dataSource the application's single DataSource
   * @param outbox the outbox, for its table
   * @param publisher the broker the messages go to
   * @param properties {@code once.outbox.relay.*}
   * @return the relay, started with the context
   * @throws IllegalArgumentException if a setting is out of range, naming it
   */
  @Bean
  @ConditionalOnSingleCandidate(OutboxPublisher.class)
  @ConditionalOnMissingBean
  public OnceOutboxRelay onceOutboxRelay(
      DataSource dataSource, Outbox outbox, OutboxPublisher publisher, OnceProperties properties) {
    OnceOutboxProperties.Relay relay = properties.getOutbox().getRelay();
    Duration retention = relay.getRetention();
    // The builder checks each value as it is set, so a bad one fails the start-up here.
    OutboxRelay.Builder builder =
        OutboxRelay.builder(dataSource, publisher)
            .table(outbox.table())
            .name(relay.getName())
            .batchSize(relay.getBatchSize())
            .maxAttempts(relay.getMaxAttempts())
            .backoff(relay.getBackoffInitial(), relay.getBackoffMax())
            .pollInterval(relay.getPollInterval())
            .linger(relay.getLinger())
            .retention(retention);
    return new OnceOutboxRelay(builder::build);
  }

  /**
   * {@code once.outbox.relay.broker} is set but no publisher could be built from it: fails the
   * start-up saying what is missing, rather than leaving the outbox unpublished without a word.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(prefix = "once.outbox.relay", name = "broker")
  @ConditionalOnMissingBean(OutboxPublisher.class)
  static class MissingPublisher {
    MissingPublisher(OnceProperties properties) {
      OnceOutboxProperties.Broker broker = properties.getOutbox().getRelay().getBroker();
      throw new IllegalStateException(
          "once.outbox.relay.broker="
              + (broker == null ? "" : broker.name().toLowerCase(java.util.Locale.ROOT))
              + " but no OutboxPublisher could be built: "
              + (broker == OnceOutboxProperties.Broker.RABBITMQ
                  ? "it needs dev.once:once-rabbitmq and spring-boot-starter-amqp (a RabbitMQ"
                      + " ConnectionFactory bean)"
                  : "it needs dev.once:once-kafka and spring-boot-starter-kafka (Spring Boot's"
                      + " KafkaProperties)")
              + " on the class path");
    }
  }
}
