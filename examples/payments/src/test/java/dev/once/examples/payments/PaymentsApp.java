package dev.once.examples.payments;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.Ordered;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The payments application started for real on a free port, and a plain {@link HttpClient} to talk
 * to it the way a client does. {@link ScriptedProcessor} replaces the card processor; {@link
 * FailAfterHandlerFilter} sits just inside the Idempotency-Key filter.
 */
final class PaymentsApp implements AutoCloseable {

  /** A response as the client received it. */
  record Reply(int status, HttpHeaders headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    Optional<String> header(String name) {
      return headers.firstValue(name);
    }

    boolean replayed() {
      return header("Idempotent-Replayed").map("true"::equals).orElse(false);
    }

    @Override
    public String toString() {
      return status + " " + headers.map() + " " + text();
    }
  }

  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  final ConfigurableApplicationContext context;
  final URI base;
  final ScriptedProcessor processor;

  private PaymentsApp(ConfigurableApplicationContext context, ScriptedProcessor processor) {
    this.context = context;
    this.processor = processor;
    Integer port = context.getEnvironment().getProperty("local.server.port", Integer.class);
    this.base = URI.create("http://127.0.0.1:" + port);
  }

  /**
   * Starts the application on a free port with {@code properties} as command-line arguments, so
   * that they win over application.properties.
   */
  static PaymentsApp start(ScriptedProcessor processor, Map<String, String> properties) {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("server.port", "0");
    all.put("spring.main.banner-mode", "off");
    all.put("logging.level.root", "WARN");
    all.put("logging.level.dev.once", "INFO");
    all.putAll(properties);
    List<String> args = new ArrayList<>();
    all.forEach((k, v) -> args.add("--" + k + "=" + v));
    ConfigurableApplicationContext context =
        new SpringApplicationBuilder(PaymentsApplication.class)
            .initializers(
                ctx -> {
                  ctx.getBeanFactory().registerSingleton("cardProcessor", processor);
                  FilterRegistrationBean<FailAfterHandlerFilter> failing =
                      new FilterRegistrationBean<>(new FailAfterHandlerFilter());
                  failing.setOrder(
                      Ordered.LOWEST_PRECEDENCE - 99); // just after the Idempotency-Key filter
                  ctx.getBeanFactory().registerSingleton("failAfterHandlerFilter", failing);
                })
            .run(args.toArray(String[]::new));
    return new PaymentsApp(context, processor);
  }

  /**
   * The embedded default as it ships (application.properties: a SQLite file in {@code
   * payments.data-dir}), in a fresh directory under target/.
   */
  static Map<String, String> sqlite(String name) {
    return Map.of(
        "payments.data-dir",
        java.nio.file.Path.of("target", "sqlite", name).toAbsolutePath().toString());
  }

  /** H2 in memory, private to this application context. */
  static Map<String, String> h2(String name) {
    return Map.of("spring.datasource.url", "jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1");
  }

  JdbcTemplate jdbc() {
    return new JdbcTemplate(context.getBean(DataSource.class));
  }

  Reply post(String user, String path, String key, String json, String... headers) {
    HttpRequest.Builder b =
        request(user, path)
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .header("Content-Type", "application/json");
    if (key != null) {
      b.header("Idempotency-Key", key);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return send(b.build());
  }

  Reply get(String user, String path) {
    return send(request(user, path).GET().build());
  }

  private HttpRequest.Builder request(String user, String path) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60));
    if (user != null) {
      b.header(
          "Authorization",
          "Basic "
              + Base64.getEncoder()
                  .encodeToString((user + ":" + user).getBytes(StandardCharsets.UTF_8)));
    }
    return b;
  }

  private static Reply send(HttpRequest request) {
    try {
      HttpResponse<byte[]> r = HTTP.send(request, HttpResponse.BodyHandlers.ofByteArray());
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
