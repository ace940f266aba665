package dev.once.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.once.testkit.servers.TestRabbitMq;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The real RabbitMQ for the tests: {@code ONCE_TEST_RABBITMQ_URI} (system property {@code
 * once.test.rabbitmq.uri}), default {@code amqp://guest:guest@127.0.0.1:5672}. Queues get unique
 * names and are deleted on {@link #close}.
 */
final class TestBroker implements AutoCloseable {

  private final Connection connection;
  private final Channel channel;
  private final List<String> queues = new ArrayList<>();
  private final List<String> exchanges = new ArrayList<>();

  TestBroker() throws Exception {
    this.connection = factory(uri()).newConnection("once-rabbitmq-test");
    this.channel = connection.createChannel();
    channel.confirmSelect();
  }

  static String uri() {
    return TestRabbitMq.uri();
  }

  static ConnectionFactory factory(String uri) throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setUri(uri);
    f.setAutomaticRecoveryEnabled(true);
    f.setNetworkRecoveryInterval(200);
    f.setRequestedHeartbeat(5);
    return f;
  }

  Connection connection() {
    return connection;
  }

  /**
   * A fresh queue whose dead-letter exchange routes to {@code <queue>.dlq}; returns the queue's
   * name.
   */
  String queueWithDeadLetters(String prefix) throws Exception {
    String queue = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    String dlx = queue + ".dlx";
    channel.exchangeDeclare(dlx, BuiltinExchangeType.FANOUT, false, false, null);
    exchanges.add(dlx);
    channel.queueDeclare(queue + ".dlq", false, false, false, null);
    queues.add(queue + ".dlq");
    channel.queueBind(queue + ".dlq", dlx, "");
    channel.queueDeclare(queue, false, false, false, Map.of("x-dead-letter-exchange", dlx));
    queues.add(queue);
    return queue;
  }

  /**
   * A fresh exchange of {@code type} and a fresh queue bound to it with {@code bindingKey}, both
   * deleted on {@link #close}.
   *
   * @return the exchange's name; the queue is named {@code <exchange>.q}
   */
  String exchangeWithQueue(String prefix, BuiltinExchangeType type, String bindingKey)
      throws Exception {
    String exchange = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    channel.exchangeDeclare(exchange, type, false, false, null);
    exchanges.add(exchange);
    channel.queueDeclare(exchange + ".q", false, false, false, null);
    queues.add(exchange + ".q");
    channel.queueBind(exchange + ".q", exchange, bindingKey);
    return exchange;
  }

  /** Publishes with a publisher confirm; {@code messageId} null publishes without the property. */
  void publish(String queue, String messageId, String body) throws Exception {
    AMQP.BasicProperties props =
        new AMQP.BasicProperties.Builder().messageId(messageId).deliveryMode(2).build();
    channel.basicPublish("", queue, props, body.getBytes(StandardCharsets.UTF_8));
    channel.waitForConfirmsOrDie(Duration.ofSeconds(10).toMillis());
  }

  /** Ready (not unacknowledged) messages in the queue. */
  long ready(String queue) throws Exception {
    return channel.queueDeclarePassive(queue).getMessageCount();
  }

  /** Takes one message (auto-ack), or null. */
  GetResponse get(String queue) throws Exception {
    return channel.basicGet(queue, true);
  }

  @Override
  public void close() throws Exception {
    try {
      for (String q : queues) {
        channel.queueDelete(q);
      }
      for (String x : exchanges) {
        channel.exchangeDelete(x);
      }
    } finally {
      connection.close();
    }
  }
}
