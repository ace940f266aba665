package dev.once.spring.boot;

import dev.once.OnceListener;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.spring.boot.internal.CompositeListener;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.sql.DataSource;
import org.aopalliance.aop.Advice;
import org.springframework.amqp.rabbit.config.AbstractRabbitListenerContainerFactory;
import org.springframework.amqp.rabbit.config.ContainerCustomizer;
import org.springframework.amqp.rabbit.config.DirectRabbitListenerContainerFactory;
import org.springframework.amqp.rabbit.config.SimpleRabbitListenerContainerFactory;
import org.springframework.amqp.rabbit.config.StatelessRetryOperationsInterceptor;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.DirectMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.amqp.rabbit.transaction.RabbitTransactionManager;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.amqp.autoconfigure.DirectRabbitListenerContainerFactoryConfigurer;
import org.springframework.boot.amqp.autoconfigure.RabbitProperties;
import org.springframework.boot.amqp.autoconfigure.SimpleRabbitListenerContainerFactoryConfigurer;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * Registers an idempotent {@link SimpleRabbitListenerContainerFactory} as {@value
 * OnceRabbitListenerAdvice#CONTAINER_FACTORY} when the application has Spring AMQP and one
 * DataSource: Boot's configurer applies every {@code spring.rabbitmq.listener.simple.*} setting
 * (retry included) and the {@code MessageConverter} bean, then {@link OnceRabbitListenerAdvice} is
 * appended to the advice chain; and likewise an idempotent {@code
 * DirectRabbitListenerContainerFactory} as {@value
 * OnceRabbitListenerAdvice#DIRECT_CONTAINER_FACTORY} from {@code
 * spring.rabbitmq.listener.direct.*}. {@code once.rabbit.enabled=false} turns them off.
 */
@AutoConfiguration(
    after = OnceJdbcAutoConfiguration.class,
    afterName = {
      "org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration",
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
      "org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration"
    })
@ConditionalOnClass({
  SimpleRabbitListenerContainerFactory.class,
  SimpleRabbitListenerContainerFactoryConfigurer.class,
  JdbcIdempotencyStore.class,
  DataSourceUtils.class
})
@ConditionalOnSingleCandidate(DataSource.class)
@ConditionalOnBean({SimpleRabbitListenerContainerFactoryConfigurer.class, ConnectionFactory.class})
@ConditionalOnProperty(
    prefix = "once.rabbit",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
@EnableConfigurationProperties(OnceProperties.class)
public class OnceRabbitAutoConfiguration {

  /**
   * The advice that runs each delivery in a transaction with its marker, unless the application
   * defines one.
   *
   * @param dataSource the database the listeners write to
   * @param transactionManagers the application's transaction managers
   * @param messageIds the application's id resolver, if any; else {@code once.rabbit.*} decides
   * @param properties {@code once.rabbit.*} and the store settings
   * @param listeners every {@link OnceListener} bean, in order: they hear the skipped duplicates
   *     and the dead letters
   * @return the advice
   */
  @Bean
  @ConditionalOnMissingBean
  public OnceRabbitListenerAdvice onceRabbitListenerAdvice(
      DataSource dataSource,
      ObjectProvider<PlatformTransactionManager> transactionManagers,
      ObjectProvider<RabbitMessageIdResolver> messageIds,
      OnceProperties properties,
      ObjectProvider<OnceListener> listeners) {
    OnceRabbitProperties rabbit = properties.getRabbit();
    return new OnceRabbitListenerAdvice(
        ListenerStores.store(dataSource, properties),
        dataSource,
        ListenerStores.transactionManager(
            transactionManagers, dataSource, tm -> tm instanceof RabbitTransactionManager),
        messageIds.getIfAvailable(() -> defaultMessageIds(rabbit)),
        rabbit.getConsumer(),
        rabbit.getRetention(),
        CompositeListener.of(listeners.orderedStream().toList()));
  }

  /**
   * The idempotent listener container factory: Spring Boot's configuration, with the advice last in
   * the chain. When {@code spring.rabbitmq.listener.simple.retry} is enabled the advice does the
   * retrying, in place of Spring AMQP's stateless retry.
   *
   * @param configurer applies {@code spring.rabbitmq.listener.simple.*}
   * @param connectionFactory the application's connection factory
   * @param customizer the application's container customizer, if any
   * @param advice the idempotent advice
   * @param rabbitProperties {@code spring.rabbitmq.*}, for the retry settings
   * @return the factory
   */
  @Bean(name = OnceRabbitListenerAdvice.CONTAINER_FACTORY)
  @ConditionalOnMissingBean(name = OnceRabbitListenerAdvice.CONTAINER_FACTORY)
  public SimpleRabbitListenerContainerFactory onceRabbitListenerContainerFactory(
      SimpleRabbitListenerContainerFactoryConfigurer configurer,
      ConnectionFactory connectionFactory,
      ObjectProvider<ContainerCustomizer<SimpleMessageListenerContainer>> customizer,
      OnceRabbitListenerAdvice advice,
      RabbitProperties rabbitProperties) {
    SimpleRabbitListenerContainerFactory factory = new SimpleRabbitListenerContainerFactory();
    configurer.configure(factory, connectionFactory);
    adviseLast(factory, advice, rabbitProperties.getListener().getSimple());
    customizer.ifAvailable(factory::setContainerCustomizer);
    return factory;
  }

  /**
   * The idempotent listener container factory for a {@code DirectMessageListenerContainer}
   * (listeners on the connection's threads, no consumer thread per queue): Spring Boot's
   * configuration from {@code spring.rabbitmq.listener.direct.*}, with a {@link
   * OnceRabbitListenerAdvice#copy() copy} of the advice last in the chain, doing the retries of
   * {@code spring.rabbitmq.listener.direct.retry} when enabled.
   *
   * @param configurer applies {@code spring.rabbitmq.listener.direct.*}
   * @param connectionFactory the application's connection factory
   * @param customizer the application's container customizer, if any
   * @param advice the idempotent advice, copied
   * @param rabbitProperties {@code spring.rabbitmq.*}, for the retry settings
   * @return the factory
   */
  @Bean(name = OnceRabbitListenerAdvice.DIRECT_CONTAINER_FACTORY)
  @ConditionalOnMissingBean(name = OnceRabbitListenerAdvice.DIRECT_CONTAINER_FACTORY)
  @ConditionalOnBean(DirectRabbitListenerContainerFactoryConfigurer.class)
  public DirectRabbitListenerContainerFactory onceDirectRabbitListenerContainerFactory(
      DirectRabbitListenerContainerFactoryConfigurer configurer,
      ConnectionFactory connectionFactory,
      ObjectProvider<ContainerCustomizer<DirectMessageListenerContainer>> customizer,
      OnceRabbitListenerAdvice advice,
      RabbitProperties rabbitProperties) {
    DirectRabbitListenerContainerFactory factory = new DirectRabbitListenerContainerFactory();
    configurer.configure(factory, connectionFactory);
    adviseLast(factory, advice.copy(), rabbitProperties.getListener().getDirect());
    customizer.ifAvailable(factory::setContainerCustomizer);
    return factory;
  }

  /**
   * Puts {@code advice} last in the factory's chain, with the container's retry and requeue
   * settings.
   */
  private static void adviseLast(
      AbstractRabbitListenerContainerFactory<?> factory,
      OnceRabbitListenerAdvice advice,
      RabbitProperties.AmqpContainer container) {
    List<Advice> chain = new ArrayList<>();
    Advice[] configured = factory.getAdviceChain();
    if (configured != null) {
      chain.addAll(Arrays.asList(configured));
    }
    Boolean requeueRejected = container.getDefaultRequeueRejected();
    advice.setDefaultRequeueRejected(requeueRejected == null || requeueRejected);
    RabbitProperties.ListenerRetry retry = container.getRetry();
    if (retry.isEnabled()) {
      // Spring AMQP's stateless retry re-enters the same invocation and would skip our advice from
      // the second attempt on (those attempts would run outside any transaction): the advice
      // retries instead.
      chain.removeIf(a -> a instanceof StatelessRetryOperationsInterceptor);
      advice.setRetry(
          new OnceRabbitListenerAdvice.Retry(
              (int) Math.min(Integer.MAX_VALUE, 1 + retry.getMaxRetries()),
              retry.getInitialInterval(),
              retry.getMultiplier(),
              retry.getMaxInterval()));
    }
    chain.add(advice);
    factory.setAdviceChain(chain.toArray(Advice[]::new));
  }

  private static RabbitMessageIdResolver defaultMessageIds(OnceRabbitProperties rabbit) {
    String expression = rabbit.getMessageIdExpression();
    if (expression != null && !expression.isBlank()) {
      SpelMessageIds spel = new SpelMessageIds(expression);
      return spel::evaluate;
    }
    return OnceRabbitListenerAdvice.amqpMessageIds();
  }
}
