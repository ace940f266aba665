package dev.once.examples.payments;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A payments service whose charges and refunds are safe to retry: every {@code POST} carries an
 * {@code Idempotency-Key}, and a retried request is answered from the stored response instead of
 * charging twice.
 *
 * <p>Runs on an H2 file database in {@code ./data} by default; {@code
 * --spring.profiles.active=postgres} uses the PostgreSQL at 127.0.0.1:5432, {@code
 * --once.store=redis} keeps the keys in Redis. See the module's README.
 */
@SpringBootApplication
public class PaymentsApplication {

  public static void main(String[] args) {
    SpringApplication.run(PaymentsApplication.class, args);
  }
}
