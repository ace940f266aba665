package dev.once.spring.boot;

import dev.once.OnceListener;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.spring.boot.internal.CompositeListener;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.ConcurrentKafkaListenerContainerFactoryConfigurer;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.config.ContainerCustomizer;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.transaction.KafkaAwareTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * Registers {@link OnceKafkaListenerContainerFactory} as {@value
 * OnceKafkaListenerContainerFactory#BEAN_NAME} when the application has Spring Kafka and one
 * DataSource; configured by Boot's own configurer, so every {@code spring.kafka.listener.*}
 * setting, the {@code CommonErrorHandler}, converter and interceptor beans apply to it as to Boot's
 * {@code kafkaListenerContainerFactory}. Its skipped duplicates are reported to every {@code
 * OnceListener} bean. {@code once.kafka.enabled=false} turns it off.
 */
@AutoConfiguration(
    after = OnceJdbcAutoConfiguration.class,
    afterName = {
      "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration",
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
      "org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration"
    })
@ConditionalOnClass({
  ConcurrentKafkaListenerContainerFactory.class,
  ConcurrentKafkaListenerContainerFactoryConfigurer.class,
  JdbcIdempotencyStore.class,
  DataSourceUtils.class
})
@ConditionalOnSingleCandidate(DataSource.class)
@ConditionalOnBean(ConcurrentKafkaListenerContainerFactoryConfigurer.class)
@ConditionalOnProperty(
    prefix = "once.kafka",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
@EnableConfigurationProperties(OnceProperties.class)
public class OnceKafkaAutoConfiguration {

  /**
   * The idempotent listener container factory, configured like Spring Boot's own (its configurer,
   * consumer factory and container customizer), unless a bean of that name exists.
   *
   * @param configurer applies {@code spring.kafka.listener.*}
   * @param consumerFactory the application's consumer factory, if any
   * @param kafkaProperties {@code spring.kafka.*}, for a consumer factory of its own
   * @param customizer the application's container customizer, if any
   * @param dataSource the database the listeners write to
   * @param transactionManagers the application's transaction managers
   * @param messageIds the application's id resolver, if any; else {@code once.kafka.*} decides
   * @param properties {@code once.kafka.*} and the store settings
   * @param listeners every {@link OnceListener} bean, in order: they hear the skipped duplicates
   * @return the factory
   * @throws IllegalArgumentException if {@code once.kafka.message-id-header} is blank and no
   *     expression is set
   */
  @Bean(name = OnceKafkaListenerContainerFactory.BEAN_NAME)
  @ConditionalOnMissingBean(name = OnceKafkaListenerContainerFactory.BEAN_NAME)
  public OnceKafkaListenerContainerFactory onceKafkaListenerContainerFactory(
      ConcurrentKafkaListenerContainerFactoryConfigurer configurer,
      ObjectProvider<ConsumerFactory<Object, Object>> consumerFactory,
      KafkaProperties kafkaProperties,
      ObjectProvider<
              ContainerCustomizer<
                  Object, Object, ConcurrentMessageListenerContainer<Object, Object>>>
          customizer,
      DataSource dataSource,
      ObjectProvider<PlatformTransactionManager> transactionManagers,
      ObjectProvider<KafkaMessageIdResolver> messageIds,
      OnceProperties properties,
      ObjectProvider<OnceListener> listeners) {
    OnceKafkaProperties kafka = properties.getKafka();
    OnceKafkaListenerContainerFactory factory =
        new OnceKafkaListenerContainerFactory(
            ListenerStores.store(dataSource, properties),
            dataSource,
            ListenerStores.transactionManager(
                transactionManagers,
                dataSource,
                tm -> tm instanceof KafkaAwareTransactionManager<?, ?>),
            messageIds.getIfAvailable(() -> defaultMessageIds(kafka)),
            kafka.getNoIdPolicy() == OnceKafkaProperties.NoIdPolicy.TOPIC_PARTITION_OFFSET,
            kafka.getConsumer(),
            kafka.getRetention(),
            CompositeListener.of(listeners.orderedStream().toList()));
    configurer.configure(
        factory,
        consumerFactory.getIfAvailable(
            () -> new DefaultKafkaConsumerFactory<>(kafkaProperties.buildConsumerProperties())));
    customizer.ifAvailable(factory::setContainerCustomizer);
    return factory;
  }

  private static KafkaMessageIdResolver defaultMessageIds(OnceKafkaProperties kafka) {
    String expression = kafka.getMessageIdExpression();
    if (expression != null && !expression.isBlank()) {
      SpelMessageIds spel = new SpelMessageIds(expression);
      return spel::evaluate;
    }
    String header = kafka.getMessageIdHeader();
    if (header == null || header.isBlank()) {
      throw new IllegalArgumentException(
          "once.kafka.message-id-header must not be blank, but was '" + header + "'");
    }
    return OnceKafkaListenerContainerFactory.headerMessageIds(header);
  }
}
