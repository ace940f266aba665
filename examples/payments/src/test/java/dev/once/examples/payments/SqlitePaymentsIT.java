package dev.once.examples.payments;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.examples.payments.PaymentsApp.Reply;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The payments API on its embedded default, a SQLite file set up as application.properties ships it
 * (WAL, synced commits, IMMEDIATE transactions), the JDBC store in atomic mode.
 */
class SqlitePaymentsIT extends JdbcPaymentsApiContract {

  @Override
  PaymentsApp start(ScriptedProcessor processor) {
    return PaymentsApp.start(processor, PaymentsApp.sqlite("payments-" + UUID.randomUUID()));
  }

  /**
   * Not a 409 here. SQLite lets one transaction write at a time, and in atomic mode the request's
   * transaction begins IMMEDIATE, holding that lock until it commits: a duplicate cannot begin its
   * transaction while the first is in flight, so it never sees the key held. It waits for the
   * commit and then replays it; the card is charged once. (The 409 answer runs on H2, PostgreSQL
   * and Redis, whose locks are per key.)
   */
  @Test
  @Override
  @DisplayName(
      "a duplicate of a request in flight waits for its commit and replays it (SQLite: one writer)")
  void aDuplicateOfARequestInFlightIs409AndThenReplays() throws Exception {
    String key = key();
    String customer = customer();
    ScriptedProcessor.Gate gate = processor.hold(customer);
    CompletableFuture<Reply> first =
        CompletableFuture.supplyAsync(
            () -> app.post(ALICE, "/payments", key, charge(customer, 1250)));
    assertThat(gate.awaitEntered()).as("the first charge reached the processor").isTrue();

    CompletableFuture<Reply> duplicate =
        CompletableFuture.supplyAsync(
            () -> app.post(ALICE, "/payments", key, charge(customer, 1250)));
    await("the duplicate waits while the first is in flight")
        .during(Duration.ofMillis(700))
        .atMost(Duration.ofSeconds(5))
        .until(() -> !duplicate.isDone());
    gate.open();
    Reply done = first.get(30, TimeUnit.SECONDS);
    Reply waited = duplicate.get(30, TimeUnit.SECONDS);

    assertThat(done.status()).isEqualTo(201);
    assertThat(waited.status()).as(waited.toString()).isEqualTo(201);
    assertThat(waited.replayed()).isTrue();
    assertThat(waited.body()).isEqualTo(done.body());
    assertThat(processor.calls(customer)).isEqualTo(1);
    assertThat(payments(ALICE, customer)).hasSize(1);
  }
}
