package dev.once.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;
import javax.sql.DataSource;
import org.aopalliance.aop.Advice;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.config.DirectRabbitListenerContainerFactory;
import org.springframework.amqp.rabbit.config.SimpleRabbitListenerContainerFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.transaction.PlatformTransactionManager;

class OnceListenerAutoConfigurationTest {

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  KafkaAutoConfiguration.class,
                  RabbitAutoConfiguration.class,
                  OnceJdbcAutoConfiguration.class,
                  OnceKafkaAutoConfiguration.class,
                  OnceRabbitAutoConfiguration.class));

  @Configuration(proxyBeanMethods = false)
  static class Database {
    @Bean
    DataSource dataSource() {
      JdbcDataSource ds = new JdbcDataSource();
      ds.setURL("jdbc:h2:mem:listeners-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
      return ds;
    }

    @Bean
    PlatformTransactionManager transactionManager(DataSource dataSource) {
      return new JdbcTransactionManager(dataSource);
    }
  }

  @Test
  void withSpringKafkaSpringAmqpAndADataSourceBothIdempotentFactoriesAreRegistered() {
    runner
        .withUserConfiguration(Database.class)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).hasSingleBean(OnceKafkaListenerContainerFactory.class);
              assertThat(context).hasBean(OnceKafkaListenerContainerFactory.BEAN_NAME);
              // Boot's own factories stay, for the listeners that are not idempotent.
              assertThat(context).hasBean("kafkaListenerContainerFactory");
              assertThat(context).hasBean(OnceRabbitListenerAdvice.CONTAINER_FACTORY);
              assertThat(context).hasBean(OnceRabbitListenerAdvice.DIRECT_CONTAINER_FACTORY);
              assertThat(context).hasBean("rabbitListenerContainerFactory");
            });
  }

  @Test
  void withoutADataSourceNoIdempotentFactoryIsRegistered() {
    runner.run(
        context -> {
          assertThat(context).hasNotFailed();
          assertThat(context).doesNotHaveBean(OnceKafkaListenerContainerFactory.BEAN_NAME);
          assertThat(context).doesNotHaveBean(OnceRabbitListenerAdvice.CONTAINER_FACTORY);
        });
  }

  @Test
  void eachFactoryCanBeSwitchedOffByProperty() {
    runner
        .withUserConfiguration(Database.class)
        .withPropertyValues("once.kafka.enabled=false", "once.rabbit.enabled=false")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).doesNotHaveBean(OnceKafkaListenerContainerFactory.BEAN_NAME);
              assertThat(context).doesNotHaveBean(OnceRabbitListenerAdvice.CONTAINER_FACTORY);
              assertThat(context)
                  .doesNotHaveBean(OnceRabbitListenerAdvice.DIRECT_CONTAINER_FACTORY);
            });
  }

  @Test
  void withoutSpringKafkaOrSpringAmqpOnTheClassPathTheStarterStillStarts() {
    runner
        .withUserConfiguration(Database.class)
        .withClassLoader(new FilteredClassLoader(KafkaTemplate.class, RabbitTemplate.class))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).doesNotHaveBean(OnceKafkaListenerContainerFactory.BEAN_NAME);
              assertThat(context).doesNotHaveBean(OnceRabbitListenerAdvice.CONTAINER_FACTORY);
            });
  }

  @Test
  void bootsRabbitRetryIsMovedIntoTheAdviceSoThatEveryAttemptHasItsTransaction() {
    runner
        .withUserConfiguration(Database.class)
        .withPropertyValues(
            "spring.rabbitmq.listener.simple.retry.enabled=true",
            "spring.rabbitmq.listener.simple.retry.max-retries=4")
        .run(
            context -> {
              SimpleRabbitListenerContainerFactory factory =
                  context.getBean(
                      OnceRabbitListenerAdvice.CONTAINER_FACTORY,
                      SimpleRabbitListenerContainerFactory.class);
              Advice[] chain = factory.getAdviceChain();
              assertThat(chain).containsExactly(context.getBean(OnceRabbitListenerAdvice.class));
            });
  }

  @Test
  void theDirectFactoryHasItsOwnCopyOfTheAdviceWithTheDirectRetryMovedIntoIt() {
    runner
        .withUserConfiguration(Database.class)
        .withPropertyValues(
            "spring.rabbitmq.listener.direct.retry.enabled=true",
            "spring.rabbitmq.listener.direct.retry.max-retries=4")
        .run(
            context -> {
              DirectRabbitListenerContainerFactory factory =
                  context.getBean(
                      OnceRabbitListenerAdvice.DIRECT_CONTAINER_FACTORY,
                      DirectRabbitListenerContainerFactory.class);
              Advice[] chain = factory.getAdviceChain();
              assertThat(chain).hasSize(1);
              assertThat(chain[0])
                  .isInstanceOf(OnceRabbitListenerAdvice.class)
                  .isNotSameAs(context.getBean(OnceRabbitListenerAdvice.class));
              // The simple factory keeps Boot's chain: no retry was enabled for it.
              assertThat(
                      context
                          .getBean(
                              OnceRabbitListenerAdvice.CONTAINER_FACTORY,
                              SimpleRabbitListenerContainerFactory.class)
                          .getAdviceChain())
                  .containsExactly(context.getBean(OnceRabbitListenerAdvice.class));
            });
  }

  @Test
  void aBadMessageIdExpressionFailsTheStartUp() {
    runner
        .withUserConfiguration(Database.class)
        .withPropertyValues("once.kafka.message-id-expression=key(")
        .run(context -> assertThat(context).hasFailed());
  }
}
