package dev.once.examples.payments;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.examples.payments.PaymentsApp.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two instances of the service on different ports, sharing one PostgreSQL database and so one store
 * (atomic mode): a key is one record whichever instance a request reaches.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TwoInstancesPostgresIT {

  private static final int REQUESTS_PER_KEY = 40;
  private static final int KEYS = 3;

  private final ScriptedProcessor processor =
      new ScriptedProcessor(); // one card network for both instances
  private PostgresSchema schema;
  private PaymentsApp a;
  private PaymentsApp b;

  @BeforeAll
  void start() {
    schema = new PostgresSchema();
    a = PaymentsApp.start(processor, schema.properties());
    b = PaymentsApp.start(processor, schema.properties());
  }

  @AfterAll
  void stop() {
    if (a != null) {
      a.close();
    }
    if (b != null) {
      b.close();
    }
    if (schema != null) {
      schema.close();
    }
  }

  private long paymentRows(String customer) {
    return a.jdbc()
        .queryForObject(
            "SELECT COUNT(*) FROM payments WHERE customer_id = ?", Long.class, customer);
  }

  @Test
  void theInstancesListenOnDifferentPorts() {
    assertThat(a.base).isNotEqualTo(b.base);
  }

  @Test
  void aResponseCompletedOnOneInstanceIsReplayedByTheOther() {
    String key = UUID.randomUUID().toString();
    String customer = "cust-" + UUID.randomUUID();
    String body = PaymentsApiContract.charge(customer, 1250);

    Reply first = a.post("alice", "/payments", key, body);
    Reply other = b.post("alice", "/payments", key, body);

    assertThat(first.status()).isEqualTo(201);
    assertThat(other.replayed()).isTrue();
    assertThat(other.body()).isEqualTo(first.body());
    assertThat(processor.calls(customer)).isEqualTo(1);
  }

  @Test
  void aChargeInFlightOnOneInstanceIs409OnTheOther() throws Exception {
    String key = UUID.randomUUID().toString();
    String customer = "cust-" + UUID.randomUUID();
    String body = PaymentsApiContract.charge(customer, 1250);
    ScriptedProcessor.Gate gate = processor.hold(customer);
    CompletableFuture<Reply> first =
        CompletableFuture.supplyAsync(() -> a.post("alice", "/payments", key, body));
    assertThat(gate.awaitEntered()).isTrue();

    Reply duplicate = b.post("alice", "/payments", key, body);
    Reply mismatch = b.post("alice", "/payments", key, PaymentsApiContract.charge(customer, 777));
    gate.open();
    Reply done = first.get(30, TimeUnit.SECONDS);
    Reply retry = b.post("alice", "/payments", key, body);

    assertThat(duplicate.status()).isEqualTo(409);
    assertThat(mismatch.status()).as("another body under a key in flight").isIn(409, 422);
    assertThat(done.status()).isEqualTo(201);
    assertThat(retry.replayed()).isTrue();
    assertThat(retry.body()).isEqualTo(done.body());
    assertThat(processor.calls(customer)).isEqualTo(1);
    assertThat(paymentRows(customer)).isEqualTo(1);
  }

  @Test
  void aStormOfOneKeyAcrossBothInstancesChargesOnce() throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(REQUESTS_PER_KEY);
    try {
      for (int k = 0; k < KEYS; k++) {
        String key = UUID.randomUUID().toString();
        String customer = "cust-" + UUID.randomUUID();
        String body = PaymentsApiContract.charge(customer, 1250);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Reply>> sent = new ArrayList<>();
        for (int i = 0; i < REQUESTS_PER_KEY; i++) {
          PaymentsApp target = i % 2 == 0 ? a : b;
          sent.add(
              clients.submit(
                  () -> {
                    go.await();
                    return target.post("alice", "/payments", key, body);
                  }));
        }
        go.countDown();
        List<Reply> replies = new ArrayList<>();
        for (Future<Reply> f : sent) {
          replies.add(f.get(60, TimeUnit.SECONDS));
        }

        assertThat(replies).noneMatch(r -> r.status() >= 500);
        List<Reply> fresh =
            replies.stream().filter(r -> r.status() == 201 && !r.replayed()).toList();
        assertThat(fresh).as("exactly one request charged").hasSize(1);
        assertThat(replies)
            .allSatisfy(
                r -> {
                  if (r.status() == 201) {
                    assertThat(r.body()).isEqualTo(fresh.get(0).body());
                  } else {
                    assertThat(r.status()).as(r.toString()).isEqualTo(409);
                  }
                });
        assertThat(processor.calls(customer)).isEqualTo(1);
        assertThat(paymentRows(customer)).isEqualTo(1);
      }
    } finally {
      clients.shutdownNow();
    }
  }
}
