package dev.once.testkit.servers;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import org.jspecify.annotations.Nullable;

/**
 * The RabbitMQ the tests use: {@code ONCE_TEST_RABBITMQ_URI} (or the system property {@code
 * once.test.rabbitmq.uri}), default {@code amqp://guest:guest@127.0.0.1:5672}. Unlike the other
 * servers there is no embedded fallback: RabbitMQ is not on Maven Central, and the AMQP 0-9-1
 * broker that is (Apache Qpid Broker-J 10) dead-letters differently (no {@code
 * x-dead-letter-exchange}; a reject without requeue requeues), which the inbox tests are about. So
 * when nothing answers, {@link #uri()} fails at once with what to do, instead of every test timing
 * out.
 *
 * <pre>{@code
 * ConnectionFactory f = new ConnectionFactory();
 * f.setUri(TestRabbitMq.uri());
 * }</pre>
 */
public final class TestRabbitMq {

  /** The address used when none is configured. */
  public static final String DEFAULT_URI = "amqp://guest:guest@127.0.0.1:5672";

  private static @Nullable String checked;

  private TestRabbitMq() {}

  /**
   * The broker's AMQP URI, checked to accept TCP connections (once per JVM).
   *
   * @return the URI: {@code once.test.rabbitmq.uri}, {@code ONCE_TEST_RABBITMQ_URI} or {@link
   *     #DEFAULT_URI}
   * @throws IllegalStateException if nothing listens there
   */
  public static synchronized String uri() {
    if (checked == null) {
      String configured =
          System.getProperty("once.test.rabbitmq.uri", System.getenv("ONCE_TEST_RABBITMQ_URI"));
      String uri = configured == null || configured.isBlank() ? DEFAULT_URI : configured;
      URI parsed = URI.create(uri);
      String host = parsed.getHost() == null ? "127.0.0.1" : parsed.getHost();
      int port =
          parsed.getPort() > 0
              ? parsed.getPort()
              : "amqps".equals(parsed.getScheme()) ? 5671 : 5672;
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(host, port), 2000);
      } catch (IOException e) {
        throw new IllegalStateException(
            "no RabbitMQ answers at "
                + host
                + ":"
                + port
                + " ("
                + e.getMessage()
                + "). Start one (`.ci/run` starts the local rabbitmq-server) or point ONCE_TEST_RABBITMQ_URI at one;"
                + " there is no embedded fallback for RabbitMQ.",
            e);
      }
      System.out.println(
          "[once-testkit] tests use the RabbitMQ broker at "
              + host
              + ":"
              + port
              + (configured == null || configured.isBlank()
                  ? " (default address)"
                  : " (ONCE_TEST_RABBITMQ_URI)"));
      checked = uri;
    }
    return checked;
  }
}
