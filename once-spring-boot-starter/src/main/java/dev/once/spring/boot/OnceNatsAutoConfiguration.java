package dev.once.spring.boot;

import dev.once.OnceListener;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.nats.NatsInboxConsumer;
import dev.once.spring.boot.internal.CompositeListener;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.datasource.DataSourceUtils;

/**
 * Registers {@link OnceNatsConsumers} when the application has once-nats (and jnats) and one
 * DataSource: it builds NATS JetStream inbox consumers whose handlers write through {@code
 * JdbcTemplate} in the markers' transaction, and starts and stops every {@link NatsInboxConsumer}
 * bean with the context. {@code once.nats.enabled=false} turns it off.
 */
@AutoConfiguration(
    after = OnceJdbcAutoConfiguration.class,
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration"
    })
@ConditionalOnClass({
  NatsInboxConsumer.class,
  io.nats.client.Connection.class,
  JdbcIdempotencyStore.class,
  DataSourceUtils.class
})
@ConditionalOnSingleCandidate(DataSource.class)
@ConditionalOnProperty(
    prefix = "once.nats",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
@EnableConfigurationProperties(OnceProperties.class)
public class OnceNatsAutoConfiguration {

  /**
   * The consumer factory and lifecycle, unless the application defines one.
   *
   * @param dataSource the database the handlers write to
   * @param listeners every {@link OnceListener} bean, in order
   * @param consumers the application's {@link NatsInboxConsumer} beans, started with the context
   * @param properties {@code once.nats.*} and the store settings
   * @return the factory
   */
  @Bean
  @ConditionalOnMissingBean
  public OnceNatsConsumers onceNatsConsumers(
      DataSource dataSource,
      ObjectProvider<OnceListener> listeners,
      ObjectProvider<NatsInboxConsumer> consumers,
      OnceProperties properties) {
    return new OnceNatsConsumers(
        dataSource,
        ListenerStores.store(dataSource, properties),
        CompositeListener.of(listeners.orderedStream().toList()),
        properties.getNats().getRetention(),
        consumers);
  }
}
