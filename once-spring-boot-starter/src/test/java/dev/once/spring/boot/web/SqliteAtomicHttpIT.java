package dev.once.spring.boot.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.SqlDialect;
import dev.once.spring.boot.Idempotent;
import dev.once.spring.boot.TransactionalExchangeBoundary;
import dev.once.spring.boot.web.HttpApp.Reply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.JdbcTemplate;
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

  private HttpApp app;
  private final ExecutorService clients = Executors.newFixedThreadPool(8);

  /** {@link WebMvcHttpIT}'s application (Spring Security, HTTP Basic for alice) plus the ledger. */
  @Configuration(proxyBeanMethods = false)
  @Import({WebMvcHttpIT.App.class, Transfers.class})
  static class App {
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
        HttpApp.start(
            Map.of("spring.datasource.url", url, "once.jdbc.create-schema", "always"), App.class);
    app.context
        .getBean(JdbcTemplate.class)
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
    assertThat(app.context.getBean(JdbcIdempotencyStore.class).dialect())
        .isEqualTo(SqlDialect.SQLITE);
    assertThat(app.context.getBean(TransactionalExchangeBoundary.class)).isNotNull();
  }

  @Test
  void aTransferCommitsWithItsRecordAndARetryReplaysIt() {
    String ref = "ref-" + UUID.randomUUID();
    String key = UUID.randomUUID().toString();
    Ledger ledger = app.context.getBean(Ledger.class);
    int before = ledger.runs();

    Reply created = transfer(key, ref, "acct-1", 500);
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    Reply replay = transfer(key, ref, "acct-1", 500);

    assertThat(replay.status()).isEqualTo(201);
    assertThat(replay.replayed()).isTrue();
    assertThat(replay.body()).isEqualTo(created.body());
    assertThat(ledgerRows(ref)).isEqualTo(1);
    assertThat(ledger.runs() - before).isEqualTo(1);

    Reply otherBody = transfer(key, ref, "acct-1", 501);
    assertThat(otherBody.status()).as("the key reused with another body").isEqualTo(422);
  }

  @Test
  void aFailingHandlerLeavesNeitherRecordNorRowsAndTheRetryRunsAfresh() {
    String ref = "ref-" + UUID.randomUUID();
    String key = UUID.randomUUID().toString();

    Reply failed = transfer(key, ref, "acct-2", -5);
    assertThat(failed.status()).as(failed.body()).isGreaterThanOrEqualTo(500);
    assertThat(ledgerRows(ref)).as("the failed request's rows").isZero();

    // The same key with a body that works: nothing of the failed attempt is left to replay.
    Reply retried = transfer(key, ref, "acct-2", -5);
    assertThat(retried.status()).isGreaterThanOrEqualTo(500);
    assertThat(retried.replayed()).isFalse();
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
    Ledger ledger = app.context.getBean(Ledger.class);
    int before = ledger.runs();
    CountDownLatch gate = new CountDownLatch(1);
    ledger.gate(gate);
    try {
      List<Future<Reply>> answers = new ArrayList<>();
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

      Reply first = answers.get(0).get(60, TimeUnit.SECONDS);
      assertThat(first.status()).as(first.body()).isEqualTo(201);
      for (Future<Reply> answer : answers.subList(1, answers.size())) {
        Reply r = answer.get(60, TimeUnit.SECONDS);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.replayed()).isTrue();
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
    return app.context
        .getBean(JdbcTemplate.class)
        .queryForObject("SELECT COUNT(*) FROM ledger WHERE ref = ?", Long.class, ref);
  }

  private Reply transfer(String key, String ref, String account, long amount) {
    String json =
        "{\"ref\":\"" + ref + "\",\"account\":\"" + account + "\",\"amount\":" + amount + "}";
    return app.post("/transfers", key, json, "Authorization", HttpApp.basic("alice"));
  }
}
