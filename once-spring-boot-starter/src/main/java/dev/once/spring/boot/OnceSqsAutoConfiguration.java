package dev.once.spring.boot;

import dev.once.OnceListener;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.spring.boot.internal.CompositeListener;
import dev.once.sqs.SqsInboxConsumer;
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
 * Registers {@link OnceSqsConsumers} when the application has once-sqs (and the AWS SDK for SQS)
 * and one DataSource: it builds SQS inbox consumers whose handlers write through {@code
 * JdbcTemplate} in the markers' transaction, and starts and stops every {@link SqsInboxConsumer}
 * bean with the context. {@code once.sqs.enabled=false} turns it off.
 */
@AutoConfiguration(
    after = OnceJdbcAutoConfiguration.class,
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration"
    })
@ConditionalOnClass({
  SqsInboxConsumer.class,
  software.amazon.awssdk.services.sqs.SqsClient.class,
  JdbcIdempotencyStore.class,
  DataSourceUtils.class
})
@ConditionalOnSingleCandidate(DataSource.class)
@ConditionalOnProperty(
    prefix = "once.sqs",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
@EnableConfigurationProperties(OnceProperties.class)
public class OnceSqsAutoConfiguration {

  /**
   * The consumer factory and lifecycle, unless the application defines one.
   *
   * @param dataSource the database the handlers write to
   * @param listeners every {@link OnceListener} bean, in order
   * @param consumers the application's {@link SqsInboxConsumer} beans, started with the context
   * @param properties {@code once.sqs.*} and the store settings
   * @return the factory
   */
  @Bean
  @ConditionalOnMissingBean
  public OnceSqsConsumers onceSqsConsumers(
      DataSource dataSource,
      ObjectProvider<OnceListener> listeners,
      ObjectProvider<SqsInboxConsumer> consumers,
      OnceProperties properties) {
    return new OnceSqsConsumers(
        dataSource,
        ListenerStores.store(dataSource, properties),
        CompositeListener.of(listeners.orderedStream().toList()),
        properties.getSqs().getRetention(),
        consumers);
  }
}
