package dev.once.spring.boot;

import dev.once.OnceListener;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.spring.boot.internal.CompositeListener;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
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
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.ConsumerRecordRecoverer;
import org.springframework.kafka.listener.ContainerPausingBackOffHandler;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.ListenerContainerPauseService;
import org.springframework.kafka.listener.ListenerContainerRegistry;
import org.springframework.kafka.support.ExponentialBackOffWithMaxRetries;
import org.springframework.kafka.transaction.KafkaAwareTransactionManager;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
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
   *     and, with {@code once.kafka.retry.*}, the dead letters
   * @param errorHandlers the application's error handler, if any
   * @param recoverers the application's recoverer, if any: where {@code once.kafka.retry.*} sends a
   *     record it gave up on
   * @param registry the listener containers, paused during a retry backoff
   * @param retryScheduler resumes them, with {@code once.kafka.retry.*}
   * @return the factory
   * @throws IllegalArgumentException if {@code once.kafka.message-id-header} is blank and no
   *     expression is set, or {@code once.kafka.retry.*} is out of range
   * @throws IllegalStateException if {@code once.kafka.retry.max-attempts} is set while the
   *     application has its own {@code CommonErrorHandler}
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
      ObjectProvider<OnceListener> listeners,
      ObjectProvider<CommonErrorHandler> errorHandlers,
      ObjectProvider<ConsumerRecordRecoverer> recoverers,
      ObjectProvider<ListenerContainerRegistry> registry,
      @Qualifier(RETRY_SCHEDULER) ObjectProvider<TaskScheduler> retryScheduler) {
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
    OnceKafkaProperties.Retry retry = kafka.getRetry();
    Integer maxAttempts = retry.getMaxAttempts();
    if (maxAttempts != null) {
      if (errorHandlers.stream().findAny().isPresent()) {
        throw new IllegalStateException(
            "once.kafka.retry.max-attempts builds the idempotent listeners' error handler, but the"
                + " application has its own CommonErrorHandler: remove one of them (give your"
                + " handler factory.deadLetterReporter() to count its dead letters)");
      }
      factory.setCommonErrorHandler(
          retryingErrorHandler(
              retry,
              maxAttempts,
              recoverers.getIfUnique(),
              registry.getObject(),
              retryScheduler.getObject(),
              factory));
    }
    return factory;
  }

  /** The name of the scheduler that resumes a listener container after a retry backoff. */
  static final String RETRY_SCHEDULER = "onceKafkaRetryScheduler";

  /**
   * Resumes the listener containers paused by a {@code once.kafka.retry.*} backoff.
   *
   * @return a one-thread scheduler, stopped with the context
   */
  @Bean(name = RETRY_SCHEDULER)
  @ConditionalOnProperty(prefix = "once.kafka.retry", name = "max-attempts")
  public ThreadPoolTaskScheduler onceKafkaRetryScheduler() {
    ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
    scheduler.setThreadNamePrefix("once-kafka-retry-");
    scheduler.setDaemon(true);
    return scheduler;
  }

  /**
   * Tries a failing record {@code max-attempts} times with an exponential backoff spent with the
   * container paused, not asleep: the consumer goes on polling (and gets nothing) meanwhile, so
   * even a long backoff never exceeds {@code max.poll.interval.ms} and never costs the group a
   * rebalance. Then the recoverer, and the dead letter is reported.
   */
  private static CommonErrorHandler retryingErrorHandler(
      OnceKafkaProperties.Retry retry,
      int attempts,
      @Nullable ConsumerRecordRecoverer recoverer,
      ListenerContainerRegistry registry,
      TaskScheduler scheduler,
      OnceKafkaListenerContainerFactory factory) {
    if (attempts < 1) {
      throw new IllegalArgumentException(
          "once.kafka.retry.max-attempts must be at least 1, but was " + attempts);
    }
    if (retry.getMultiplier() < 1) {
      throw new IllegalArgumentException(
          "once.kafka.retry.multiplier must be at least 1, but was " + retry.getMultiplier());
    }
    if (retry.getInitialInterval().isNegative()
        || retry.getMaxInterval().compareTo(retry.getInitialInterval()) < 0) {
      throw new IllegalArgumentException(
          "once.kafka.retry: need 0 <= initial-interval <= max-interval, but got "
              + retry.getInitialInterval()
              + " and "
              + retry.getMaxInterval());
    }
    ExponentialBackOffWithMaxRetries backOff = new ExponentialBackOffWithMaxRetries(attempts - 1);
    backOff.setInitialInterval(retry.getInitialInterval().toMillis());
    backOff.setMultiplier(retry.getMultiplier());
    backOff.setMaxInterval(retry.getMaxInterval().toMillis());
    DefaultErrorHandler handler =
        new DefaultErrorHandler(
            recoverer,
            backOff,
            new ContainerPausingBackOffHandler(
                new ListenerContainerPauseService(registry, scheduler)));
    handler.setRetryListeners(factory.deadLetterReporter());
    return handler;
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
