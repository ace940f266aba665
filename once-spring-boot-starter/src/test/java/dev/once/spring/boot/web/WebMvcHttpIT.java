package dev.once.spring.boot.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.spring.boot.Idempotent;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestPart;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;

/**
 * The starter in a real Spring Boot application: embedded Tomcat on a free port, Spring Security
 * (HTTP Basic) in front, the JDBC store on PostgreSQL, handlers written the way applications write
 * them, and a plain HTTP client. The atomic application runs a ledger and a receipt upload; the
 * lease-mode one streams an export.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebMvcHttpIT {

  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();
  private static final int EXPORT_LINES = 20_000;

  private final TestDatabase db = TestServers.postgres();
  private final String schema =
      "once_web_it_"
          + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);
  private ConfigurableApplicationContext atomic;
  private ConfigurableApplicationContext lease;

  /**
   * The application around the handlers: Spring Boot's auto-configuration, the starter's included.
   */
  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean
    SecurityFilterChain api(HttpSecurity http) throws Exception {
      return http.authorizeHttpRequests(
              requests ->
                  requests.requestMatchers("/error").permitAll().anyRequest().authenticated())
          .httpBasic(Customizer.withDefaults())
          .csrf(csrf -> csrf.disable())
          .build();
    }

    @Bean
    UserDetailsService users() {
      InMemoryUserDetailsManager users =
          new InMemoryUserDetailsManager(
              User.withUsername("alice").password("{noop}alice").roles("USER").build());
      return users::loadUserByUsername;
    }
  }

  /** A service whose {@code @Transactional} method joins the exchange's transaction. */
  static class Ledger {
    final JdbcTemplate jdbc;
    final AtomicInteger runs = new AtomicInteger();

    Ledger(JdbcTemplate jdbc) {
      this.jdbc = jdbc;
    }

    @Transactional
    public void record(String ref, boolean decline) {
      runs.incrementAndGet();
      jdbc.update("INSERT INTO ledger (ref) VALUES (?)", ref);
      if (decline) {
        throw new IllegalStateException("declined");
      }
    }
  }

  record Entry(String ref, boolean decline, int receiptBytes) {}

  @RestController
  static class Entries {
    final Ledger ledger;

    Entries(Ledger ledger) {
      this.ledger = ledger;
    }

    /**
     * Swallows the service's failure and answers 201, a common bug: the joined transaction is
     * rollback-only, so its commit fails after the handler has returned its response.
     */
    @PostMapping("/entries")
    @Idempotent
    ResponseEntity<byte[]> add(@RequestBody Entry entry) {
      try {
        ledger.record(entry.ref(), entry.decline());
      } catch (IllegalStateException declined) {
        // answered below as if it had worked
      }
      return ResponseEntity.status(201)
          .contentType(MediaType.APPLICATION_OCTET_STREAM)
          .body(new byte[entry.receiptBytes()]);
    }
  }

  @RestController
  static class Receipts {
    final AtomicInteger runs = new AtomicInteger();

    @PostMapping(path = "/receipts", consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    @Idempotent
    String upload(@RequestPart("receipt") MultipartFile receipt) {
      runs.incrementAndGet();
      return receipt.getOriginalFilename();
    }
  }

  @RestController
  static class Exports {
    /**
     * Written by Spring MVC's task executor after the handler has returned, while the filter
     * switches over.
     */
    @PostMapping("/exports")
    @Idempotent
    StreamingResponseBody export() {
      return out -> {
        for (int i = 0; i < EXPORT_LINES; i++) {
          out.write(("line " + i + "\n").getBytes(StandardCharsets.US_ASCII));
        }
      };
    }
  }

  @BeforeAll
  void start() throws SQLException {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
      s.execute("CREATE TABLE " + schema + ".ledger (ref TEXT NOT NULL)");
    }
    atomic =
        start(
            Map.of("once.http.max-response-size", "64KB"),
            Entries.class,
            Ledger.class,
            Receipts.class);
    lease =
        start(
            Map.of("once.http.atomic", "false", "once.http.max-response-size", "64KB"),
            Exports.class);
  }

  @AfterAll
  void stop() throws SQLException {
    if (atomic != null) {
      atomic.close();
    }
    if (lease != null) {
      lease.close();
    }
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  private ConfigurableApplicationContext start(
      Map<String, String> properties, Class<?>... handlers) {
    String url =
        db.jdbcUrl() + (db.jdbcUrl().contains("?") ? "&" : "?") + "currentSchema=" + schema;
    Map<String, String> all = new LinkedHashMap<>();
    all.put("server.port", "0");
    all.put("server.address", "127.0.0.1");
    all.put("spring.main.banner-mode", "off");
    all.put("logging.level.root", "WARN");
    all.put("spring.datasource.url", url);
    all.put("spring.datasource.username", db.user());
    all.put("spring.datasource.password", db.password());
    all.put("once.jdbc.create-schema", "always");
    all.putAll(properties);
    List<String> args = new ArrayList<>();
    all.forEach((k, v) -> args.add("--" + k + "=" + v));
    List<Class<?>> sources = new ArrayList<>(List.of(App.class));
    sources.addAll(List.of(handlers));
    return new SpringApplicationBuilder(sources.toArray(Class<?>[]::new))
        .run(args.toArray(String[]::new));
  }

  private static HttpResponse<byte[]> post(
      ConfigurableApplicationContext app,
      String path,
      String key,
      String contentType,
      byte[] body) {
    int port = app.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(60))
            .header(
                "Authorization",
                "Basic "
                    + Base64.getEncoder()
                        .encodeToString("alice:alice".getBytes(StandardCharsets.UTF_8)))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (key != null) {
      b.header("Idempotency-Key", key);
    }
    try {
      return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static HttpResponse<byte[]> entry(
      ConfigurableApplicationContext app,
      String key,
      String ref,
      boolean decline,
      int receiptBytes) {
    String json =
        "{\"ref\":\""
            + ref
            + "\",\"decline\":"
            + decline
            + ",\"receiptBytes\":"
            + receiptBytes
            + "}";
    return post(app, "/entries", key, "application/json", json.getBytes(StandardCharsets.UTF_8));
  }

  private long ledgerRows(String ref) {
    return new JdbcTemplate(atomic.getBean(javax.sql.DataSource.class))
        .queryForObject("SELECT COUNT(*) FROM ledger WHERE ref = ?", Long.class, ref);
  }

  private static String text(HttpResponse<byte[]> r) {
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  @Test
  void aCommitThatFailsAfterTheHandlerNeverAnswers2xxInAtomicMode() {
    // The handler answers 201 with a small receipt, but the joined transaction is rollback-only.
    String small = "small-" + UUID.randomUUID();
    HttpResponse<byte[]> held = entry(atomic, UUID.randomUUID().toString(), small, true, 16);
    assertThat(held.statusCode())
        .as("a small response: %s", text(held))
        .isGreaterThanOrEqualTo(500);
    assertThat(ledgerRows(small)).isZero();

    // The same with a receipt larger than the capture limit: it must not be sent before the commit
    // either.
    String large = "large-" + UUID.randomUUID();
    HttpResponse<byte[]> tooLarge =
        entry(atomic, UUID.randomUUID().toString(), large, true, 200_000);
    assertThat(tooLarge.statusCode()).isEqualTo(500);
    assertThat(tooLarge.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(text(tooLarge)).contains("response-not-holdable");
    assertThat(ledgerRows(large)).isZero();

    // A handler that works commits, answers and replays.
    String fine = "fine-" + UUID.randomUUID();
    String key = UUID.randomUUID().toString();
    HttpResponse<byte[]> created = entry(atomic, key, fine, false, 16);
    assertThat(created.statusCode()).isEqualTo(201);
    HttpResponse<byte[]> replay = entry(atomic, key, fine, false, 16);
    assertThat(replay.statusCode()).isEqualTo(201);
    assertThat(replay.headers().firstValue("Idempotent-Replayed")).hasValue("true");
    assertThat(ledgerRows(fine)).isEqualTo(1);
  }

  @Test
  void aMultipartUploadWithAKeyIsRefusedWith415BeforeAnyClaim() {
    Receipts receipts = atomic.getBean(Receipts.class);
    int before = receipts.runs.get();
    String boundary = "----once" + UUID.randomUUID();
    byte[] upload =
        ("--"
                + boundary
                + "\r\n"
                + "Content-Disposition: form-data; name=\"receipt\"; filename=\"receipt.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\n"
                + "paid in full\r\n"
                + "--"
                + boundary
                + "--\r\n")
            .getBytes(StandardCharsets.UTF_8);
    String type = "multipart/form-data; boundary=" + boundary;
    String key = UUID.randomUUID().toString();

    HttpResponse<byte[]> refused = post(atomic, "/receipts", key, type, upload);
    assertThat(refused.statusCode()).isEqualTo(415);
    assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(text(refused)).contains("media-type-not-supported").contains("multipart");
    assertThat(receipts.runs.get()).isEqualTo(before);
    // Nothing was claimed or stored: the same key is refused the same way, not replayed or reported
    // in flight.
    assertThat(post(atomic, "/receipts", key, type, upload).statusCode()).isEqualTo(415);
    assertThat(receipts.runs.get()).isEqualTo(before);
  }

  @Test
  void aStreamingResponseBodyReachesTheClientWholeInLeaseMode() {
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < EXPORT_LINES; i++) {
      expected.append("line ").append(i).append('\n');
    }
    // Each export races the executor's writes against the filter switching the response to the
    // client.
    for (int round = 0; round < 5; round++) {
      String key = UUID.randomUUID().toString();
      HttpResponse<byte[]> export =
          post(lease, "/exports", key, "application/json", "{}".getBytes(StandardCharsets.UTF_8));
      assertThat(export.statusCode()).isEqualTo(200);
      assertThat(text(export)).as("round %d", round).isEqualTo(expected.toString());
      HttpResponse<byte[]> retry =
          post(lease, "/exports", key, "application/json", "{}".getBytes(StandardCharsets.UTF_8));
      assertThat(retry.statusCode()).isEqualTo(409);
      assertThat(text(retry)).contains("response-not-replayable");
    }
  }

  @Test
  void aStreamingHandlerOnAnAtomicRouteFailsTheStartNamingIt() {
    assertThatThrownBy(() -> start(Map.of(), Exports.class).close())
        .hasStackTraceContaining("Exports#export")
        .hasStackTraceContaining("returns StreamingResponseBody")
        .hasStackTraceContaining("once.http.atomic=false");
  }
}
