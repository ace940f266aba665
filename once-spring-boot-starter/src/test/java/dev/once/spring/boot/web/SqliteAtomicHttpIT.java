package dev.once.spring.boot.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.SqlDialect;
import dev.once.spring.boot.Idempotent;
import dev.once.spring.boot.TransactionalExchangeBoundary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
import org.springframework.web.bind.annotation.RestController;

/**
 * The filter in atomic mode on a SQLite file, set up as the starter's users would (WAL, synced
 * commits, a busy timeout, IMMEDIATE transactions): the record, a {@code @RequestBody} handler's
 * {@code @Transactional} writes and the response commit together, and same-key requests that arrive
 * together queue for the database's write lock and then replay.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SqliteAtomicHttpIT {

  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  private ConfigurableApplicationContext app;
  private final ExecutorService clients = Executors.newFixedThreadPool(8);

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

    @Bean
    Ledger ledger(JdbcTemplate jdbc) {
      return new Ledger(jdbc);
    }
  }

  /** A service whose {@code @Transactional} method joins the exchange's transaction. */
  static class Ledger {
    final JdbcTemplate jdbc;
    final AtomicInteger runs = new AtomicInteger();
    volatile CountDownLatch gate = new CountDownLatch(0);

    Ledger(JdbcTemplate jdbc) {
      this.jdbc = jdbc;
    }

    // Methods, not fields: the test holds Spring's transactional proxy, whose fields are empty.
    public int runs() {
      return runs.get();
    }

    public void gate(CountDownLatch latch) {
      gate = latch;
    }

    @Transactional
    public long record(Transfer transfer) throws InterruptedException {
      runs.incrementAndGet();
      // Read, then write: safe under IMMEDIATE transactions, which hold the write lock from BEGIN.
      Long before =
          jdbc.queryForObject(
              "SELECT COUNT(*) FROM ledger WHERE account = ?", Long.class, transfer.account());
      jdbc.update(
          "INSERT INTO ledger (ref, account, amount) VALUES (?, ?, ?)",
          transfer.ref(),
          transfer.account(),
          transfer.amount());
      if (!gate.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never opened the gate");
      }
      if (transfer.amount() < 0) {
        throw new IllegalArgumentException("negative amount");
      }
      return before + 1;
    }
  }

  record Transfer(String ref, String account, long amount) {}

  @RestController
  static class Transfers {
    final Ledger ledger;

    Transfers(Ledger ledger) {
      this.ledger = ledger;
    }

    @PostMapping("/transfers")
    @Idempotent
    ResponseEntity<String> transfer(@RequestBody Transfer transfer) throws InterruptedException {
      long n = ledger.record(transfer);
      return ResponseEntity.status(201).body(transfer.ref() + " #" + n + " " + UUID.randomUUID());
    }
  }

  @BeforeAll
  void start() throws IOException {
    Path dir = Files.createDirectories(Paths.get("target", "sqlite"));
    Path file = dir.resolve("starter-" + UUID.randomUUID() + ".db").toAbsolutePath();
    String url =
        "jdbc:sqlite:"
            + file
            + "?journal_mode=WAL&synchronous=FULL&busy_timeout=30000&transaction_mode=IMMEDIATE";
    app =
        new SpringApplicationBuilder(App.class, Transfers.class)
            .run(
                "--server.port=0",
                "--server.address=127.0.0.1",
                "--spring.main.banner-mode=off",
                "--logging.level.root=WARN",
                "--spring.datasource.url=" + url,
                "--once.jdbc.create-schema=always");
    app.getBean(JdbcTemplate.class)
        .execute(
            "CREATE TABLE ledger (ref TEXT NOT NULL, account TEXT NOT NULL, amount INTEGER NOT NULL)");
  }

  @AfterAll
  void stop() {
    clients.shutdownNow();
    if (app != null) {
      app.close();
    }
  }

  @Test
  void theStarterRunsTheSqliteStoreInAtomicMode() {
    assertThat(app.getBean(JdbcIdempotencyStore.class).dialect()).isEqualTo(SqlDialect.SQLITE);
    assertThat(app.getBean(TransactionalExchangeBoundary.class)).isNotNull();
  }

  @Test
  void aTransferCommitsWithItsRecordAndARetryReplaysIt() {
    String ref = "ref-" + UUID.randomUUID();
    String key = UUID.randomUUID().toString();
    Ledger ledger = app.getBean(Ledger.class);
    int before = ledger.runs();

    HttpResponse<String> created = transfer(key, ref, "acct-1", 500);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    HttpResponse<String> replay = transfer(key, ref, "acct-1", 500);

    assertThat(replay.statusCode()).isEqualTo(201);
    assertThat(replay.headers().firstValue("Idempotent-Replayed")).hasValue("true");
    assertThat(replay.body()).isEqualTo(created.body());
    assertThat(ledgerRows(ref)).isEqualTo(1);
    assertThat(ledger.runs() - before).isEqualTo(1);

    HttpResponse<String> otherBody = transfer(key, ref, "acct-1", 501);
    assertThat(otherBody.statusCode()).as("the key reused with another body").isEqualTo(422);
  }

  @Test
  void aFailingHandlerLeavesNeitherRecordNorRowsAndTheRetryRunsAfresh() {
    String ref = "ref-" + UUID.randomUUID();
    String key = UUID.randomUUID().toString();

    HttpResponse<String> failed = transfer(key, ref, "acct-2", -5);
    assertThat(failed.statusCode()).as(failed.body()).isGreaterThanOrEqualTo(500);
    assertThat(ledgerRows(ref)).as("the failed request's rows").isZero();

    // The same key with a body that works: nothing of the failed attempt is left to replay.
    HttpResponse<String> retried = transfer(key, ref, "acct-2", -5);
    assertThat(retried.statusCode()).isGreaterThanOrEqualTo(500);
    assertThat(retried.headers().firstValue("Idempotent-Replayed")).isEmpty();
    assertThat(ledgerRows(ref)).isZero();
  }

  /**
   * SQLite lets one transaction write at a time, and atomic mode's transaction is the request's:
   * same-key requests that arrive while the first is in its handler wait for its commit (IMMEDIATE:
   * at BEGIN) and then replay it. None runs the handler again and none gets a 409.
   */
  @Test
  void sameKeyRequestsArrivingTogetherQueueAndReplayTheFirst() throws Exception {
    String ref = "ref-" + UUID.randomUUID();
    String key = UUID.randomUUID().toString();
    Ledger ledger = app.getBean(Ledger.class);
    int before = ledger.runs();
    CountDownLatch gate = new CountDownLatch(1);
    ledger.gate(gate);
    try {
      List<Future<HttpResponse<String>>> answers = new ArrayList<>();
      answers.add(clients.submit(() -> transfer(key, ref, "acct-3", 700)));
      org.awaitility.Awaitility.await("the first request is in its handler")
          .atMost(Duration.ofSeconds(20))
          .until(() -> ledger.runs() - before == 1);
      for (int i = 0; i < 5; i++) {
        answers.add(clients.submit(() -> transfer(key, ref, "acct-3", 700)));
      }
      org.awaitility.Awaitility.await("the others wait while the first holds the database")
          .during(Duration.ofMillis(700))
          .atMost(Duration.ofSeconds(5))
          .until(() -> answers.stream().noneMatch(Future::isDone));
      gate.countDown();

      HttpResponse<String> first = answers.get(0).get(60, TimeUnit.SECONDS);
      assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
      for (Future<HttpResponse<String>> answer : answers.subList(1, answers.size())) {
        HttpResponse<String> r = answer.get(60, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(r.headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(r.body()).isEqualTo(first.body());
      }
    } finally {
      gate.countDown();
      ledger.gate(new CountDownLatch(0));
    }
    assertThat(ledger.runs() - before).as("handler runs").isEqualTo(1);
    assertThat(ledgerRows(ref)).isEqualTo(1);
  }

  private long ledgerRows(String ref) {
    return app.getBean(JdbcTemplate.class)
        .queryForObject("SELECT COUNT(*) FROM ledger WHERE ref = ?", Long.class, ref);
  }

  private HttpResponse<String> transfer(String key, String ref, String account, long amount) {
    int port = app.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
    String json =
        "{\"ref\":\"" + ref + "\",\"account\":\"" + account + "\",\"amount\":" + amount + "}";
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/transfers"))
            .timeout(Duration.ofSeconds(60))
            .header(
                "Authorization",
                "Basic "
                    + Base64.getEncoder()
                        .encodeToString("alice:alice".getBytes(StandardCharsets.UTF_8)))
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", key)
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build();
    try {
      return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
