package dev.once.examples.orders;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * Two services in one jar, one per profile: {@code orders} takes {@code POST /orders} and writes
 * each order and its {@code OrderPlaced} event in one transaction through the outbox, whose relay
 * publishes the event to RabbitMQ (default) or Kafka ({@code --orders.broker=kafka}); {@code
 * payments} consumes the events and charges each order once, through Once's idempotent listener.
 * Each has its own SQLite database in {@code ./data}. See the module's README.
 */
@SpringBootApplication
public class OrdersExampleApplication {

  public static void main(String[] args) {
    SpringApplication.run(OrdersExampleApplication.class, args);
  }

  /**
   * Creates {@code example.data-dir} before the DataSource opens its database there: SQLite creates
   * a missing database file, not a missing directory.
   */
  @Bean
  static BeanFactoryPostProcessor dataDirectory(Environment environment) {
    return beanFactory -> {
      String dir = environment.getProperty("example.data-dir");
      if (dir != null && !dir.isBlank()) {
        try {
          Files.createDirectories(Path.of(dir));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    };
  }
}
