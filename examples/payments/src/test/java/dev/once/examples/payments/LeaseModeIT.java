package dev.once.examples.payments;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.examples.payments.PaymentsApp.Reply;
import dev.once.spring.boot.TransactionalExchangeBoundary;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code once.http.atomic=false} on the JDBC store: lease mode. Retries and concurrent duplicates
 * are still answered from the store, but the record commits on its own connection, apart from the
 * handler's transaction. This test shows the gap atomic mode closes: a failure after the handler's
 * transaction committed releases the key while the payment stays, so the retry charges again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LeaseModeIT {

  private final ScriptedProcessor processor = new ScriptedProcessor();
  private PaymentsApp app;

  @BeforeAll
  void start() {
    Map<String, String> properties =
        new LinkedHashMap<>(PaymentsApp.h2("lease-" + UUID.randomUUID()));
    properties.put("once.http.atomic", "false");
    app = PaymentsApp.start(processor, properties);
  }

  @AfterAll
  void stop() {
    app.close();
  }

  private long paymentRows(String customer) {
    return app.jdbc()
        .queryForObject(
            "SELECT COUNT(*) FROM payments WHERE customer_id = ?", Long.class, customer);
  }

  @Test
  void atomicModeIsOff() {
    assertThat(app.context.getBeansOfType(TransactionalExchangeBoundary.class)).isEmpty();
  }

  @Test
  void retriesAndDuplicatesInFlightAreStillAnsweredFromTheStore() throws Exception {
    String key = UUID.randomUUID().toString();
    String customer = "cust-" + UUID.randomUUID();
    String body = PaymentsApiContract.charge(customer, 1250);
    ScriptedProcessor.Gate gate = processor.hold(customer);
    CompletableFuture<Reply> first =
        CompletableFuture.supplyAsync(() -> app.post("alice", "/payments", key, body));
    assertThat(gate.awaitEntered()).isTrue();

    Reply duplicate = app.post("alice", "/payments", key, body);
    gate.open();
    Reply done = first.get(30, TimeUnit.SECONDS);
    Reply retry = app.post("alice", "/payments", key, body);

    assertThat(duplicate.status()).isEqualTo(409);
    assertThat(done.status()).isEqualTo(201);
    assertThat(retry.replayed()).isTrue();
    assertThat(retry.body()).isEqualTo(done.body());
    assertThat(paymentRows(customer)).isEqualTo(1);
  }

  @Test
  void aFailureAfterTheHandlerCommittedLeavesThePaymentAndTheRetryChargesAgain() {
    String key = UUID.randomUUID().toString();
    String customer = "cust-" + UUID.randomUUID();
    String body = PaymentsApiContract.charge(customer, 1250);

    Reply failed = app.post("alice", "/payments", key, body, FailAfterHandlerFilter.HEADER, "1");
    assertThat(failed.status()).isEqualTo(500);
    assertThat(paymentRows(customer)).as("the service's own transaction committed").isEqualTo(1);

    Reply retry = app.post("alice", "/payments", key, body);
    assertThat(retry.status()).isEqualTo(201);
    assertThat(retry.replayed()).as("the failure released the key").isFalse();
    assertThat(paymentRows(customer))
        .as("charged twice: why money paths use atomic mode")
        .isEqualTo(2);
    assertThat(processor.calls(customer)).isEqualTo(2);
  }
}
