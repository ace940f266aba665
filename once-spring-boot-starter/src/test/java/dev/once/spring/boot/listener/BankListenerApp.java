package dev.once.spring.boot.listener;

import dev.once.spring.boot.OnceKafkaListenerContainerFactory;
import dev.once.spring.boot.OnceRabbitListenerAdvice;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.annotation.KafkaListener;

/**
 * A Spring Boot application, run in a child JVM by {@link SpringListenerChaosIT}, whose ordinary
 * {@code @KafkaListener} or {@code @RabbitListener} (on the starter's idempotent container factory)
 * applies a bank workload with {@link JdbcTemplate}: {@code deposit <account> <amount>} or {@code
 * transfer <from> <to> <amount>}, each also logged in the effect table.
 *
 * <p>Arguments: {@code kafka} or {@code rabbit}, then Spring properties as {@code key=value}.
 * Prints {@code READY} once the context runs; on the line {@code stop} on stdin it closes the
 * context (the listener finishes its batch), prints {@code CLOSED} and exits 0.
 */
public final class BankListenerApp {

  private BankListenerApp() {}

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {}

  /** The effect of one command, in the listener's transaction. */
  static final class Bank {
    private final JdbcTemplate jdbc;
    private final String effects;
    private final String accounts;

    Bank(
        JdbcTemplate jdbc,
        @Value("${test.effects}") String effects,
        @Value("${test.accounts}") String accounts) {
      this.jdbc = jdbc;
      this.effects = effects;
      this.accounts = accounts;
    }

    void apply(String id, String command) {
      jdbc.update("INSERT INTO " + effects + " (msg_id, payload) VALUES (?, ?)", id, command);
      String[] p = command.split(" ");
      switch (p[0]) {
        case "deposit" ->
            jdbc.update(
                "UPDATE " + accounts + " SET balance = balance + ? WHERE id = ?",
                Long.parseLong(p[2]),
                Integer.parseInt(p[1]));
        case "transfer" -> {
          long amount = Long.parseLong(p[3]);
          int debited =
              jdbc.update(
                  "UPDATE " + accounts + " SET balance = balance - ? WHERE id = ? AND balance >= ?",
                  amount,
                  Integer.parseInt(p[1]),
                  amount);
          if (debited == 1) {
            jdbc.update(
                "UPDATE " + accounts + " SET balance = balance + ? WHERE id = ?",
                amount,
                Integer.parseInt(p[2]));
          }
        }
        default -> throw new IllegalArgumentException("unknown command " + command);
      }
    }
  }

  static final class KafkaBank {
    private final Bank bank;

    KafkaBank(Bank bank) {
      this.bank = bank;
    }

    @KafkaListener(
        topics = "${test.topic}",
        groupId = "${test.group}",
        containerFactory = OnceKafkaListenerContainerFactory.BEAN_NAME)
    void on(ConsumerRecord<String, String> record) {
      bank.apply(
          new String(record.headers().lastHeader("message-id").value(), StandardCharsets.UTF_8),
          record.value());
    }
  }

  static final class RabbitBank {
    private final Bank bank;

    RabbitBank(Bank bank) {
      this.bank = bank;
    }

    @RabbitListener(
        queues = "${test.queue}",
        containerFactory = OnceRabbitListenerAdvice.CONTAINER_FACTORY)
    void on(Message message) {
      bank.apply(
          message.getMessageProperties().getMessageId(),
          new String(message.getBody(), StandardCharsets.UTF_8));
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, Object> properties = new HashMap<>();
    for (int i = 1; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      properties.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    Class<?> listener =
        switch (args[0]) {
          case "kafka" -> KafkaBank.class;
          case "rabbit" -> RabbitBank.class;
          default -> throw new IllegalArgumentException("kafka or rabbit, not " + args[0]);
        };
    ConfigurableApplicationContext context =
        new SpringApplicationBuilder(App.class, Bank.class, listener).properties(properties).run();
    System.out.println("READY");
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      if (line.equals("stop")) {
        break;
      }
    }
    context.close();
    System.out.println("CLOSED");
    System.exit(0);
  }
}
