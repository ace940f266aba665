package dev.once.examples.payments;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.examples.payments.PaymentsApp.Reply;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the payments API promises a client, over real HTTP against the running application. Every
 * store runs these: H2, PostgreSQL and Redis. The handler count is the card processor's call count
 * for the test's own customer, so tests never see each other's effects.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PaymentsApiContract {

  static final String ALICE = "alice";
  static final String BOB = "bob";
  static final JsonMapper JSON = JsonMapper.builder().build();

  final ScriptedProcessor processor = new ScriptedProcessor();
  PaymentsApp app;

  /** Starts the application under test with {@code processor} as its card processor. */
  abstract PaymentsApp start(ScriptedProcessor processor);

  /** How many idempotency records the store holds now. */
  abstract long storedRecords();

  @BeforeAll
  void startApplication() {
    app = start(processor);
  }

  @AfterAll
  void stopApplication() {
    if (app != null) {
      app.close();
      app = null;
    }
  }

  static String key() {
    return UUID.randomUUID().toString();
  }

  static String customer() {
    return "cust-" + UUID.randomUUID();
  }

  static String charge(String customer, long cents) {
    return "{\"customerId\":\""
        + customer
        + "\",\"amountCents\":"
        + cents
        + ",\"currency\":\"EUR\"}";
  }

  static JsonNode json(Reply reply) {
    return JSON.readTree(reply.body());
  }

  /** The user's payments for one customer, as GET /payments lists them. */
  List<JsonNode> payments(String user, String customer) {
    Reply list = app.get(user, "/payments");
    assertThat(list.status()).isEqualTo(200);
    return StreamSupport.stream(json(list).spliterator(), false)
        .filter(p -> customer.equals(p.path("customerId").asString()))
        .toList();
  }

  static void assertProblem(Reply reply, int status) {
    assertThat(reply.status()).as(reply.toString()).isEqualTo(status);
    assertThat(reply.header("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
    JsonNode problem = json(reply);
    assertThat(problem.path("status").asInt()).isEqualTo(status);
    assertThat(problem.path("type").asString()).isNotEmpty();
    assertThat(problem.path("title").asString()).isNotEmpty();
  }

  @Test
  void aChargeRunsOnceAndItsReplayIsByteIdentical() {
    String key = key();
    String customer = customer();

    Reply first = app.post(ALICE, "/payments", key, charge(customer, 1250));
    Reply retry = app.post(ALICE, "/payments", key, charge(customer, 1250));

    assertThat(first.status()).as(first.toString()).isEqualTo(201);
    assertThat(first.replayed()).isFalse();
    String id = json(first).path("id").asString();
    assertThat(id).startsWith("pay_");
    assertThat(first.header("Location")).hasValue("/payments/" + id);

    assertThat(retry.status()).isEqualTo(201);
    assertThat(retry.replayed()).isTrue();
    assertThat(retry.body()).isEqualTo(first.body());
    assertThat(retry.header("Location")).isEqualTo(first.header("Location"));
    assertThat(retry.header("Content-Type")).isEqualTo(first.header("Content-Type"));

    assertThat(processor.calls(customer)).isEqualTo(1);
    assertThat(payments(ALICE, customer)).hasSize(1);
  }

  @Test
  void theSameKeyWithAnotherBodyIs422AndTheFirstResponseStands() {
    String key = key();
    String customer = customer();
    Reply first = app.post(ALICE, "/payments", key, charge(customer, 1250));

    Reply other = app.post(ALICE, "/payments", key, charge(customer, 9999));
    Reply original = app.post(ALICE, "/payments", key, charge(customer, 1250));

    assertProblem(other, 422);
    assertThat(original.replayed()).isTrue();
    assertThat(original.body()).isEqualTo(first.body());
    assertThat(processor.calls(customer)).isEqualTo(1);
    assertThat(payments(ALICE, customer)).hasSize(1);
  }

  @Test
  void aDuplicateOfARequestInFlightIs409AndThenReplays() throws Exception {
    String key = key();
    String customer = customer();
    ScriptedProcessor.Gate gate = processor.hold(customer);
    CompletableFuture<Reply> first =
        CompletableFuture.supplyAsync(
            () -> app.post(ALICE, "/payments", key, charge(customer, 1250)));
    assertThat(gate.awaitEntered()).as("the first charge reached the processor").isTrue();

    Reply duplicate = app.post(ALICE, "/payments", key, charge(customer, 1250));
    gate.open();
    Reply done = first.get(30, TimeUnit.SECONDS);
    Reply retry = app.post(ALICE, "/payments", key, charge(customer, 1250));

    assertProblem(duplicate, 409);
    assertThat(duplicate.header("Retry-After")).isPresent();
    assertThat(done.status()).isEqualTo(201);
    assertThat(retry.replayed()).isTrue();
    assertThat(retry.body()).isEqualTo(done.body());
    assertThat(processor.calls(customer)).isEqualTo(1);
    assertThat(payments(ALICE, customer)).hasSize(1);
  }

  @Test
  void aDeclineIsAFinalAnswerThatIsStoredAndReplayed() {
    String key = key();
    String customer = customer();

    Reply declined = app.post(ALICE, "/payments", key, charge(customer, 100_001));
    Reply retry = app.post(ALICE, "/payments", key, charge(customer, 100_001));

    assertProblem(declined, 402);
    assertThat(json(declined).path("title").asString()).isEqualTo("Card declined");
    assertThat(declined.replayed()).isFalse();
    assertThat(retry.status()).isEqualTo(402);
    assertThat(retry.replayed()).isTrue();
    assertThat(retry.body()).isEqualTo(declined.body());
    assertThat(processor.calls(customer)).isEqualTo(1);
    List<JsonNode> payments = payments(ALICE, customer);
    assertThat(payments).hasSize(1);
    assertThat(payments.get(0).path("status").asString()).isEqualTo("declined");
    assertThat(payments.get(0).path("id").asString())
        .isEqualTo(json(declined).path("paymentId").asString());
  }

  @Test
  void withoutCredentialsTheAnswerIs401AndNothingIsStored() {
    String key = key();
    String customer = customer();
    long before = storedRecords();

    Reply anonymous = app.post(null, "/payments", key, charge(customer, 1250));

    assertThat(anonymous.status()).isEqualTo(401);
    assertThat(storedRecords()).isEqualTo(before);
    assertThat(processor.calls(customer)).isZero();

    Reply authenticated = app.post(ALICE, "/payments", key, charge(customer, 1250));
    assertThat(authenticated.status()).isEqualTo(201);
    assertThat(authenticated.replayed()).isFalse();
    assertThat(processor.calls(customer)).isEqualTo(1);
  }

  @Test
  void keysAreScopedPerUser() {
    String key = key();
    String customer = customer();

    Reply alice = app.post(ALICE, "/payments", key, charge(customer, 1250));
    Reply bob = app.post(BOB, "/payments", key, charge(customer, 1250));
    Reply aliceAgain = app.post(ALICE, "/payments", key, charge(customer, 1250));
    Reply bobAgain = app.post(BOB, "/payments", key, charge(customer, 1250));

    assertThat(alice.status()).isEqualTo(201);
    assertThat(bob.status()).isEqualTo(201);
    assertThat(bob.replayed()).as("bob never gets alice's response").isFalse();
    assertThat(json(bob).path("id").asString()).isNotEqualTo(json(alice).path("id").asString());
    assertThat(aliceAgain.replayed()).isTrue();
    assertThat(aliceAgain.body()).isEqualTo(alice.body());
    assertThat(bobAgain.replayed()).isTrue();
    assertThat(bobAgain.body()).isEqualTo(bob.body());
    assertThat(processor.calls(customer)).isEqualTo(2);
    assertThat(payments(ALICE, customer)).hasSize(1);
    assertThat(payments(BOB, customer)).hasSize(1);
  }

  @Test
  void theJsonBodyIsBoundBehindTheFilterAndFingerprintedCanonically() {
    String key = key();
    String customer = customer();

    Reply created =
        app.post(
            ALICE,
            "/payments",
            key,
            "{\"customerId\":\"" + customer + "\",\"amountCents\":4321,\"currency\":\"SEK\"}");
    Reply reordered =
        app.post(
            ALICE,
            "/payments",
            key,
            "{ \"currency\" : \"SEK\",\n  \"amountCents\" : 4321, \"customerId\" : \""
                + customer
                + "\" }");

    assertThat(created.status()).isEqualTo(201);
    Reply stored = app.get(ALICE, created.header("Location").orElseThrow());
    assertThat(stored.status()).isEqualTo(200);
    JsonNode payment = json(stored);
    assertThat(payment.path("customerId").asString()).isEqualTo(customer);
    assertThat(payment.path("amountCents").asLong()).isEqualTo(4321);
    assertThat(payment.path("currency").asString()).isEqualTo("SEK");
    assertThat(payment.path("status").asString()).isEqualTo("captured");
    assertThat(reordered.replayed())
        .as("the same JSON, reordered and re-spaced, is the same request")
        .isTrue();
    assertThat(reordered.body()).isEqualTo(created.body());
    assertThat(processor.calls(customer)).isEqualTo(1);
  }

  @Test
  void aServerErrorReleasesTheKeySoTheRetryRunsAgain() {
    String key = key();
    String customer = customer();
    processor.failNext(customer, 1);

    Reply failed = app.post(ALICE, "/payments", key, charge(customer, 1250));
    Reply retry = app.post(ALICE, "/payments", key, charge(customer, 1250));

    assertThat(failed.status()).isEqualTo(500);
    assertThat(retry.status()).isEqualTo(201);
    assertThat(retry.replayed()).isFalse();
    assertThat(processor.calls(customer)).isEqualTo(2);
    List<JsonNode> payments = payments(ALICE, customer);
    assertThat(payments).hasSize(1);
    assertThat(payments.get(0).path("status").asString()).isEqualTo("captured");
  }

  @Test
  void refundsAreIdempotentAndAnExcessiveRefundIsAStoredBusinessProblem() {
    String customer = customer();
    String paymentId =
        json(app.post(ALICE, "/payments", key(), charge(customer, 1250))).path("id").asString();
    String refunds = "/payments/" + paymentId + "/refunds";
    String partial = key();
    String excessive = key();

    Reply refunded = app.post(ALICE, refunds, partial, "{\"amountCents\":500}");
    Reply refundedAgain = app.post(ALICE, refunds, partial, "{\"amountCents\":500}");
    Reply tooMuch = app.post(ALICE, refunds, excessive, "{\"amountCents\":800}");
    Reply tooMuchAgain = app.post(ALICE, refunds, excessive, "{\"amountCents\":800}");

    assertThat(refunded.status()).as(refunded.toString()).isEqualTo(201);
    assertThat(json(refunded).path("paymentId").asString()).isEqualTo(paymentId);
    assertThat(refundedAgain.replayed()).isTrue();
    assertThat(refundedAgain.body()).isEqualTo(refunded.body());
    assertProblem(tooMuch, 422);
    assertThat(json(tooMuch).path("remainingCents").asLong()).isEqualTo(750);
    assertThat(tooMuchAgain.replayed()).isTrue();
    assertThat(tooMuchAgain.body()).isEqualTo(tooMuch.body());
    assertThat(payments(ALICE, customer).get(0).path("refundedCents").asLong()).isEqualTo(500);
  }

  @Test
  void aChargeWithoutAKeyIs400AndNothingRuns() {
    String customer = customer();

    Reply missing = app.post(ALICE, "/payments", null, charge(customer, 1250));

    assertProblem(missing, 400);
    assertThat(processor.calls(customer)).isZero();
    assertThat(payments(ALICE, customer)).isEmpty();
  }
}
