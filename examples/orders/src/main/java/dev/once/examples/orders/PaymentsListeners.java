package dev.once.examples.orders;

import dev.once.spring.boot.OnceKafkaListenerContainerFactory;
import dev.once.spring.boot.OnceRabbitListenerAdvice;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.amqp.core.Binding;
import org.springframework.amqp.core.BindingBuilder;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.TopicExchange;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.json.JsonMapper;

/**
 * The payments side: an ordinary listener per broker on Once's idempotent container factory, and
 * {@code GET /charges}.
 */
@Configuration(proxyBeanMethods = false)
@Profile("payments")
public class PaymentsListeners {

  /** RabbitMQ: the queue, bound to the orders exchange, and its listener. */
  @Configuration(proxyBeanMethods = false)
  @Profile("payments")
  @ConditionalOnProperty(name = "orders.broker", havingValue = "rabbitmq", matchIfMissing = true)
  static class Rabbit {
    @Bean
    TopicExchange ordersExchange(@Value("${orders.destination}") String exchange) {
      return new TopicExchange(exchange, true, false);
    }

    @Bean
    Queue paymentsQueue(@Value("${payments.queue}") String queue) {
      return new Queue(queue, true);
    }

    @Bean
    Binding paymentsBinding(Queue paymentsQueue, TopicExchange ordersExchange) {
      return BindingBuilder.bind(paymentsQueue).to(ordersExchange).with("#");
    }

    @Bean
    RabbitOrders rabbitOrders(PaymentsService payments, JsonMapper json) {
      return new RabbitOrders(payments, json);
    }
  }

  /** The RabbitMQ listener: one delivery, one transaction, charged at most once per message id. */
  static class RabbitOrders {
    private final PaymentsService payments;
    private final JsonMapper json;

    RabbitOrders(PaymentsService payments, JsonMapper json) {
      this.payments = payments;
      this.json = json;
    }

    @RabbitListener(
        queues = "${payments.queue}",
        containerFactory = OnceRabbitListenerAdvice.CONTAINER_FACTORY)
    void on(Message message) {
      payments.charge(
          json.readValue(message.getBody(), OrderPlaced.class),
          message.getMessageProperties().getMessageId());
    }
  }

  /** Kafka: the listener, in the consumer group {@code payments.group}. */
  @Configuration(proxyBeanMethods = false)
  @Profile("payments")
  @ConditionalOnProperty(name = "orders.broker", havingValue = "kafka")
  static class Kafka {
    @Bean
    KafkaOrders kafkaOrders(PaymentsService payments, JsonMapper json) {
      return new KafkaOrders(payments, json);
    }
  }

  /** The Kafka listener: one record, one transaction, charged at most once per message id. */
  static class KafkaOrders {
    private final PaymentsService payments;
    private final JsonMapper json;

    KafkaOrders(PaymentsService payments, JsonMapper json) {
      this.payments = payments;
      this.json = json;
    }

    @org.springframework.kafka.annotation.KafkaListener(
        topics = "${orders.destination}",
        groupId = "${payments.group}",
        containerFactory = OnceKafkaListenerContainerFactory.BEAN_NAME)
    void on(ConsumerRecord<String, String> record) {
      payments.charge(
          json.readValue(record.value(), OrderPlaced.class),
          new String(record.headers().lastHeader("message-id").value(), StandardCharsets.UTF_8));
    }
  }

  /** {@code GET /charges}: what the payments service charged. */
  @RestController
  @Profile("payments")
  static class Charges {
    private final PaymentsService payments;

    Charges(PaymentsService payments) {
      this.payments = payments;
    }

    @GetMapping("/charges")
    List<Charge> all() {
      return payments.all();
    }
  }
}
