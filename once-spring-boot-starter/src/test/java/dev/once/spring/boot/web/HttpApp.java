package dev.once.spring.boot.web;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A Spring Boot application of the test started for real (Tomcat on a free port), and a plain
 * {@link HttpClient} that talks to it the way a client does.
 */
final class HttpApp implements AutoCloseable {

  /** A response as the client received it. */
  record Reply(int status, HttpHeaders headers, String body) {
    Optional<String> header(String name) {
      return headers.firstValue(name);
    }

    boolean replayed() {
      return header("Idempotent-Replayed").map("true"::equals).orElse(false);
    }

    @Override
    public String toString() {
      return status + " " + headers.map() + " " + body;
    }
  }

  /**
   * Spring Boot's Spring Security auto-configurations: exclude them for an application without
   * authentication.
   */
  static final String SECURITY_AUTO_CONFIGURATIONS =
      String.join(
          ",",
          "org.springframework.boot.security.autoconfigure.SecurityAutoConfiguration",
          "org.springframework.boot.security.autoconfigure.UserDetailsServiceAutoConfiguration",
          "org.springframework.boot.security.autoconfigure.web.servlet.SecurityFilterAutoConfiguration",
          "org.springframework.boot.security.autoconfigure.web.servlet.ServletWebSecurityAutoConfiguration",
          // Actuator is on the tests' class path (OnceActuatorIT): its security would come back.
          "org.springframework.boot.security.autoconfigure.actuate.web.servlet.ManagementWebSecurityAutoConfiguration");

  /**
   * Auto-configurations of the starter's optional listener support, which these applications do not
   * use.
   */
  static final String UNUSED_AUTO_CONFIGURATIONS =
      String.join(
          ",",
          "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration",
          "org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration",
          "dev.once.spring.boot.OnceKafkaAutoConfiguration",
          "dev.once.spring.boot.OnceRabbitAutoConfiguration");

  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  final ConfigurableApplicationContext context;
  private final URI base;

  private HttpApp(ConfigurableApplicationContext context) {
    this.context = context;
    this.base =
        URI.create("http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port"));
  }

  /**
   * Starts {@code sources} as a servlet web application on a free port, with {@code properties}.
   */
  static HttpApp start(Map<String, Object> properties, Class<?>... sources) {
    Map<String, Object> all = new LinkedHashMap<>();
    all.put("server.port", "0");
    all.put("spring.main.banner-mode", "off");
    all.put("spring.main.web-application-type", "servlet");
    all.put("spring.autoconfigure.exclude", UNUSED_AUTO_CONFIGURATIONS);
    all.put("logging.level.root", "WARN");
    all.put("logging.level.dev.once", "INFO");
    all.putAll(properties);
    return new HttpApp(new SpringApplicationBuilder(sources).properties(all).run());
  }

  /** {@code Authorization} for HTTP Basic with the password equal to the user name. */
  static String basic(String user) {
    return "Basic "
        + Base64.getEncoder().encodeToString((user + ":" + user).getBytes(StandardCharsets.UTF_8));
  }

  /** POSTs JSON with {@code key} (none when {@code null}) and further header name/value pairs. */
  Reply post(String path, String key, String json, String... headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .header("Content-Type", "application/json");
    if (key != null) {
      b.header("Idempotency-Key", key);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    try {
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.headers(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Sends a request with no body and further header name/value pairs. */
  Reply send(String method, String path, String... headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(Duration.ofSeconds(30))
            .method(method, HttpRequest.BodyPublishers.noBody());
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    try {
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.headers(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    context.close();
  }
}
