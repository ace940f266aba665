package dev.once.examples.payments;

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
 * A payments service whose charges and refunds are safe to retry: every {@code POST} carries an
 * {@code Idempotency-Key}, and a retried request is answered from the stored response instead of
 * charging twice.
 *
 * <p>Runs on a SQLite database in {@code ./data} by default; {@code
 * --spring.profiles.active=postgres} uses the PostgreSQL at 127.0.0.1:5432, {@code
 * --once.store=redis} keeps the keys in Redis. See the module's README.
 */
@SpringBootApplication
public class PaymentsApplication {

  public static void main(String[] args) {
    SpringApplication.run(PaymentsApplication.class, args);
  }

  /**
   * Creates {@code payments.data-dir} before the DataSource opens its database there: SQLite
   * creates a missing database file, not a missing directory.
   */
  @Bean
  static BeanFactoryPostProcessor paymentsDataDirectory(Environment environment) {
    return beanFactory -> {
      String dir = environment.getProperty("payments.data-dir");
      if (dir != null && !dir.isBlank()) {
        try {
          Files.createDirectories(Path.of(dir));
        } catch (IOException e) {
          throw new UncheckedIOException("cannot create payments.data-dir " + dir, e);
        }
      }
    };
  }
}
