package dev.once.examples.orders;

import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.amqp.core.AmqpAdmin;
import org.springframework.amqp.core.TopicExchange;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;

/**
 * The broker's side of the example, declared by the service that publishes. RabbitMQ: the orders
 * side declares the exchange it publishes to before its relay starts: the RabbitMQ publisher
 * refuses messages to an exchange that does not exist (and the relay would try them again after a
 * backoff). Kafka: the topic, three partitions (one customer's events stay in one of them, in
 * order).
 */
@Configuration(proxyBeanMethods = false)
@Profile("orders")
public class OrdersTopology {

  /** RabbitMQ: the orders exchange. */
  @Configuration(proxyBeanMethods = false)
  @Profile("orders")
  @ConditionalOnProperty(name = "orders.broker", havingValue = "rabbitmq", matchIfMissing = true)
  static class Rabbit {
    @Bean
    InitializingBean declareOrdersExchange(
        AmqpAdmin admin, @Value("${orders.destination}") String exchange) {
      return () -> admin.declareExchange(new TopicExchange(exchange, true, false));
    }
  }

  /** Kafka: the orders topic, created by Spring Boot's KafkaAdmin if missing. */
  @Configuration(proxyBeanMethods = false)
  @Profile("orders")
  @ConditionalOnProperty(name = "orders.broker", havingValue = "kafka")
  static class Kafka {
    @Bean
    NewTopic ordersTopic(@Value("${orders.destination}") String topic) {
      return new NewTopic(topic, 3, (short) 1);
    }
  }
}
