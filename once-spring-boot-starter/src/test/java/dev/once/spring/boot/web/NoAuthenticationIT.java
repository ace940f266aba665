package dev.once.spring.boot.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.spring.boot.Idempotent;
import dev.once.spring.boot.web.HttpApp.Reply;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * Item 5 of issue 9: an application that authenticates nobody (no Spring Security filter chain; its
 * classes are on the class path, its auto-configuration is off) keeps working as before, every
 * caller in one key space per route, and says so at start-up with a warning naming the routes. The
 * store is the default one, JDBC on the embedded database Spring Boot starts when no URL is set.
 * The log is read from the console, where Spring Boot's logging writes it.
 */
class NoAuthenticationIT {

  static final AtomicInteger RUNS = new AtomicInteger();

  record Vote(String poll, String choice) {}

  @RestController
  static class Votes {
    @PostMapping("/votes")
    @Idempotent
    ResponseEntity<Map<String, Object>> vote(@RequestBody Vote vote) {
      return ResponseEntity.status(201)
          .body(Map.of("poll", vote.poll(), "run", RUNS.incrementAndGet()));
    }
  }

  @Configuration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  @Import(Votes.class)
  static class App {}

  @Test
  void anApplicationWithoutAuthenticationServesEveryCallerInOneKeySpaceAndWarnsAtStartUp() {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    PrintStream out = System.out;
    HttpApp started;
    System.setOut(new PrintStream(new Tee(out, console), true, StandardCharsets.UTF_8));
    try {
      started =
          HttpApp.start(
              Map.of(
                  "spring.autoconfigure.exclude",
                  HttpApp.UNUSED_AUTO_CONFIGURATIONS + "," + HttpApp.SECURITY_AUTO_CONFIGURATIONS),
              App.class);
    } finally {
      System.setOut(out);
    }
    try (HttpApp app = started) {
      String warning =
          console
              .toString(StandardCharsets.UTF_8)
              .lines()
              .filter(line -> line.contains("does not authenticate its callers"))
              .findFirst()
              .orElse("no such line");
      assertThat(warning)
          .contains("WARN")
          .contains("POST /votes")
          .contains("once.http.allow-anonymous");

      String key = UUID.randomUUID().toString();
      String body = "{\"poll\":\"p-" + key + "\",\"choice\":\"yes\"}";
      Reply first = app.post("/votes", key, body);
      Reply retry = app.post("/votes", key, body);

      assertThat(first.status()).as(first.toString()).isEqualTo(201);
      assertThat(retry.replayed()).as(retry.toString()).isTrue();
      assertThat(retry.body()).isEqualTo(first.body());
    }
  }

  /** Writes to both streams. */
  private static final class Tee extends OutputStream {
    private final OutputStream first;
    private final OutputStream second;

    Tee(OutputStream first, OutputStream second) {
      this.first = first;
      this.second = second;
    }

    @Override
    public void write(int b) throws IOException {
      first.write(b);
      second.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      first.write(b, off, len);
      second.write(b, off, len);
    }

    @Override
    public void flush() throws IOException {
      first.flush();
      second.flush();
    }
  }
}
