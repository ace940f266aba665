package dev.once.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.ClaimResult;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.KeyPolicy;
import dev.once.OnceListener;
import dev.once.Purger;
import dev.once.Scope;
import dev.once.StoreException;
import dev.once.servlet.testapp.Client;
import dev.once.servlet.testapp.Client.Reply;
import dev.once.servlet.testapp.Node;
import dev.once.servlet.testapp.Stores;
import dev.once.servlet.testapp.TestApp;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * The HTTP Idempotency-Key conformance checklist ({@code docs/http-conformance.md}), one test per
 * item, over real HTTP against embedded Tomcat 11 nodes. Each subclass supplies the store: the
 * in-memory store and PostgreSQL run the same tests.
 *
 * <p>Nodes: {@code main} (default settings, every route), {@code second} (another filter and Tomcat
 * over the same records, for cross-node items) and {@code custom} (strict key syntax, a key policy,
 * Stripe's 400 for a mismatch, a 64 KiB response capture limit, its own replay header and problem
 * type base).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AbstractIdempotencyFilterIT {

  static final String BASE = IdempotencyFilter.DEFAULT_PROBLEM_TYPE_BASE;
  static final String CUSTOM_BASE = "urn:example:problem:";

  /**
   * The lease of the {@code /slow} route: short, so a handler can outlast it three times within
   * seconds.
   */
  static final Duration SLOW_LEASE = Duration.ofSeconds(1);

  static final String JSON_X = "{\"item\":\"book\",\"qty\":2}";
  static final String JSON_Y = "{\"item\":\"book\",\"qty\":3}";

  /** Prepares the store (and whatever it needs) before any node starts. */
  protected abstract void startBackend() throws Exception;

  protected abstract void stopBackend() throws Exception;

  /** The main node's default store. */
  protected abstract IdempotencyStore store();

  /** Another store instance over the same records, as a second JVM would have. */
  protected abstract IdempotencyStore secondNodeStore();

  /** Moves the stores' clock forward. */
  protected abstract void advanceClock(Duration amount);

  /** A store over the same records that {@link #cutStore()} makes unreachable. */
  protected abstract IdempotencyStore outageStore();

  protected abstract void cutStore();

  protected abstract void restoreStore();

  /** Every byte the store holds at rest, when it has a place to look. */
  protected abstract Optional<String> storeDump() throws Exception;

  protected Node main;
  protected Node second;
  protected Node custom;
  protected Stores.Counting counted;
  protected Stores.Counting waitCounted;
  protected Stores.Barrier barrier;

  /** What the main node's listener heard, as "tenant operation event". */
  protected final List<String> heard = new CopyOnWriteArrayList<>();

  private final OnceListener events =
      new OnceListener() {
        @Override
        public void claimed(
            Scope scope, String store, ClaimResult.Status status, Duration latency) {
          heard.add(scope.tenant() + " " + scope.operation() + " claimed " + status);
        }

        @Override
        public void completed(Scope scope, String store, Duration latency) {
          heard.add(scope.tenant() + " " + scope.operation() + " completed");
        }

        @Override
        public void failed(Scope scope, String store, Throwable failure, boolean stored) {
          heard.add(
              scope.tenant()
                  + " "
                  + scope.operation()
                  + " failed "
                  + (stored ? "stored" : "released"));
        }

        @Override
        public void leaseLost(Scope scope, String store) {
          heard.add(scope.tenant() + " " + scope.operation() + " leaseLost");
        }

        @Override
        public void storeFailed(Scope scope, String store, StoreException failure) {
          heard.add(scope.tenant() + " " + scope.operation() + " storeFailed");
        }
      };

  @BeforeAll
  void startNodes() throws Exception {
    startBackend();
    counted = new Stores.Counting(store());
    waitCounted = new Stores.Counting(store());
    barrier = new Stores.Barrier(store());
    main =
        Node.start(
            IdempotencyFilter.builder(store())
                .listener(events)
                .routes(
                    RouteResolver.of(
                        IdempotentRoute.builder("POST", "/orders").build(),
                        IdempotentRoute.builder("POST", "/orders/{id}/refunds").build(),
                        IdempotentRoute.builder("POST", "/slow").lease(SLOW_LEASE).build(),
                        IdempotentRoute.builder("POST", "/secure/orders").build(),
                        IdempotentRoute.builder("POST", "/optional")
                            .keyRequired(false)
                            .store(counted)
                            .build(),
                        IdempotentRoute.builder("POST", "/raw")
                            .fingerprint(FingerprintMode.RAW_BYTES)
                            .build(),
                        IdempotentRoute.builder("POST", "/pdf").build(),
                        IdempotentRoute.builder("POST", "/empty").build(),
                        IdempotentRoute.builder("POST", "/form").build(),
                        IdempotentRoute.builder("POST", "/stripe").storeServerErrors(true).build(),
                        IdempotentRoute.builder("POST", "/wait")
                            .waitForInFlight(Duration.ofSeconds(2))
                            .store(waitCounted)
                            .build(),
                        IdempotentRoute.builder("POST", "/counted").store(counted).build(),
                        IdempotentRoute.builder("POST", "/barrier").store(barrier).build(),
                        IdempotentRoute.builder("POST", "/outage").store(outageStore()).build(),
                        IdempotentRoute.builder("POST", "/sse").build(),
                        IdempotentRoute.builder("POST", "/async").build(),
                        IdempotentRoute.builder("POST", "/events").streaming(true).build()))
                .build());
    second =
        Node.start(
            IdempotencyFilter.builder(secondNodeStore())
                .routes(RouteResolver.of(IdempotentRoute.builder("POST", "/orders").build()))
                .build());
    custom =
        Node.start(
            IdempotencyFilter.builder(store())
                .routes(
                    RouteResolver.of(
                        IdempotentRoute.builder("POST", "/orders").build(),
                        IdempotentRoute.builder("POST", "/big").build()))
                .strictKeySyntax(true)
                .keyPolicy(KeyPolicy.builder().minLength(20).pattern("[0-9a-f-]+").build())
                .mismatchStatus(400)
                .maxResponseBytes(64 * 1024)
                .replayedHeaderName("X-Replayed")
                .problemTypeBase(CUSTOM_BASE)
                .build());
  }

  @AfterAll
  void stopNodes() throws Exception {
    TestApp.openAllGates();
    for (Node n : new Node[] {main, second, custom}) {
      if (n != null) {
        n.close();
      }
    }
    stopBackend();
  }

  @AfterEach
  void cleanUp() {
    TestApp.openAllGates();
    TestApp.REVOKED.clear();
    barrier.disarm();
    restoreStore();
  }

  // ------------------------------------------------------------------------------------------------ helpers

  static String newTest() {
    return "t-" + UUID.randomUUID();
  }

  static String newKey() {
    return UUID.randomUUID().toString();
  }

  Client.Request post(String path, String test, String key) {
    Client.Request r = Client.post(main.url(path)).test(test);
    return key == null ? r : r.key(key);
  }

  static JsonNode assertProblem(Reply r, int status, String base, String slug) {
    assertThat(r.status()).as("status of %s", r).isEqualTo(status);
    assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
    JsonNode j = r.json(); // fails unless the body is valid JSON
    assertThat(j.get("type").asString()).isEqualTo(base + slug);
    assertThat(j.get("title").asString()).isNotBlank();
    assertThat(j.get("status").asInt()).isEqualTo(status);
    assertThat(j.get("detail").asString()).isNotBlank();
    assertThat(r.replayed()).isFalse();
    return j;
  }

  static void assertFresh(Reply r, int status) {
    assertThat(r.status()).as("status of %s", r).isEqualTo(status);
    assertThat(r.header("Idempotent-Replayed")).isNull();
  }

  static void assertReplayOf(Reply replay, Reply original) {
    assertThat(replay.status()).as("status of %s", replay).isEqualTo(original.status());
    assertThat(replay.replayed()).as("replayed: %s", replay).isTrue();
    assertThat(replay.body()).isEqualTo(original.body());
    assertThat(replay.header("Content-Type")).isEqualTo(original.header("Content-Type"));
  }

  // ------------------------------------------------------------------------------------------------ A. key syntax

  @Test
  void a1_validSfStringIsAcceptedAndStoredUnquoted() {
    String t = newTest();
    String key = newKey();
    Reply first = post("/orders", t, "\"" + key + "\"").json(JSON_X).send();
    assertFresh(first, 201);
    assertThat(TestApp.count(t)).isEqualTo(1);

    assertReplayOf(post("/orders", t, "\"" + key + "\"").json(JSON_X).send(), first);
    assertReplayOf(
        post("/orders", t, key).json(JSON_X).send(), first); // the stored key is the unquoted value
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void a2_sfEscapesAndOuterWhitespaceNameTheSameKey() {
    String t = newTest();
    String escaped = "\"a\\\"b\\\\c-" + newKey() + "\""; // the key a"b\c-<uuid>
    Reply first = post("/orders", t, escaped).json(JSON_X).send();
    assertFresh(first, 201);

    Reply padded = post("/orders", t, "  " + escaped + "  ").json(JSON_X).sendRaw();
    assertReplayOf(padded, first);
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void a3_malformedKeyIsRejectedBeforeTheHandler() {
    String t = newTest();
    int before = counted.total();
    List<String> malformed =
        List.of(
            "\"abc", // unbalanced
            "\"f\u00fc\u00fc\"", // non-ASCII inside a string
            "f\u00fc\u00fc", // non-ASCII bare
            "\"ab\tc\"", // TAB inside a string
            "ab\tc", // TAB inside a bare key
            "\"a\\x\"", // an escape RFC 9651 does not define
            "\"abc\" trailing", // garbage after the string
            "ab cd"); // a space in a bare key
    for (String value : malformed) {
      Reply r = post("/counted", t, value).json(JSON_X).sendRaw();
      assertProblem(r, 400, BASE, "key-invalid");
    }
    assertThat(TestApp.count(t)).isZero();
    assertThat(counted.total()).as("store calls").isEqualTo(before);

    // Strict mode accepts only the sf-string.
    String uuid = newKey();
    assertProblem(
        Client.post(custom.url("/orders")).test(t).key(uuid).json(JSON_X).send(),
        400,
        CUSTOM_BASE,
        "key-invalid");
    assertThat(TestApp.count(t)).isZero();
    assertFresh(
        Client.post(custom.url("/orders")).test(t).key("\"" + uuid + "\"").json(JSON_X).send(),
        201);
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void a4_emptyKeyIsRejectedNotTreatedAsAbsent() {
    String t = newTest();
    int before = counted.total();
    assertProblem(post("/optional", t, "\"\"").json(JSON_X).send(), 400, BASE, "key-invalid");
    assertProblem(post("/orders", t, "\"\"").json(JSON_X).send(), 400, BASE, "key-invalid");
    assertProblem(post("/optional", t, "").json(JSON_X).sendRaw(), 400, BASE, "key-invalid");
    assertThat(TestApp.count(t)).isZero();
    assertThat(counted.total()).isEqualTo(before);
  }

  @Test
  void a5_lengthAndFormatLimitsAreCheckedBeforeAnyStoreAccess() {
    String t = newTest();
    String k255 = (newKey() + "x".repeat(255)).substring(0, 255);
    assertFresh(post("/counted", t, k255).json(JSON_X).send(), 201);

    int before = counted.total();
    String k256 = (newKey() + "x".repeat(256)).substring(0, 256);
    assertProblem(post("/counted", t, k256).json(JSON_X).send(), 400, BASE, "key-invalid");
    assertThat(counted.total()).as("store calls for the 256-character key").isEqualTo(before);

    // minLength 20 and the pattern [0-9a-f-]+ on the custom node
    assertProblem(
        Client.post(custom.url("/orders"))
            .test(t)
            .key("\"0123456789abcdef012\"")
            .json(JSON_X)
            .send(),
        400,
        CUSTOM_BASE,
        "key-invalid");
    assertProblem(
        Client.post(custom.url("/orders"))
            .test(t)
            .key("\"ZZZZZZZZZZZZZZZZZZZZZZZZ\"")
            .json(JSON_X)
            .send(),
        400,
        CUSTOM_BASE,
        "key-invalid");
    assertThat(TestApp.count(t)).isEqualTo(1);
    assertFresh(
        Client.post(custom.url("/orders")).test(t).key("\"" + newKey() + "\"").json(JSON_X).send(),
        201);
    assertThat(TestApp.count(t)).isEqualTo(2);
  }

  @Test
  void a6_duplicateKeyFieldsAreRejected() {
    String t = newTest();
    int before = counted.total();
    assertProblem(
        post("/counted", t, newKey()).key(newKey()).json(JSON_X).sendRaw(),
        400,
        BASE,
        "key-invalid");
    String same = newKey();
    assertProblem(
        post("/counted", t, same).key(same).json(JSON_X).sendRaw(), 400, BASE, "key-invalid");
    assertProblem(
        post("/counted", t, "\"a\", \"b\"").json(JSON_X).send(), 400, BASE, "key-invalid");
    assertProblem(post("/counted", t, "a, b").json(JSON_X).send(), 400, BASE, "key-invalid");
    assertProblem(post("/counted", t, "a,b").json(JSON_X).send(), 400, BASE, "key-invalid");
    assertThat(TestApp.count(t)).isZero();
    assertThat(counted.total()).isEqualTo(before);
  }

  @Test
  void a7_missingKeyOnARequiredEndpointIsAProblem() {
    String t = newTest();
    Reply r = post("/orders", t, null).json(JSON_X).send();
    JsonNode problem = assertProblem(r, 400, BASE, "key-missing");
    assertThat(problem.get("title").asString()).isEqualTo("Idempotency-Key is missing");
    assertThat(problem.get("instance").asString()).isEqualTo("/orders");
    assertThat(TestApp.count(t)).isZero();
  }

  @Test
  void a8_missingKeyOnAnOptionalEndpointIsProcessedEveryTime() {
    String t = newTest();
    int before = counted.total();
    Reply one = post("/optional", t, null).json(JSON_X).send();
    Reply two = post("/optional", t, null).json(JSON_X).send();
    assertFresh(one, 201);
    assertFresh(two, 201);
    assertThat(TestApp.count(t)).isEqualTo(2);
    assertThat(counted.total()).as("no record").isEqualTo(before);
  }

  // ------------------------------------------------------------------------------------------------ B. methods

  @Test
  void b9_keyIsIgnoredOnIdempotentMethods() {
    String key = newKey();
    for (String method : List.of("GET", "HEAD", "OPTIONS", "PUT", "DELETE")) {
      String t = newTest();
      for (int i = 0; i < 2; i++) {
        Reply r = Client.request(method, main.url("/orders")).test(t).key(key).send();
        assertFresh(r, 200);
      }
      assertThat(TestApp.count(t)).as(method).isEqualTo(2);
    }
    // and no record was made: a POST with the key runs
    String t = newTest();
    assertFresh(post("/orders", t, key).json(JSON_X).send(), 201);
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void b10_keyOnANonOptedInPostIsHarmless() {
    String t = newTest();
    String key = newKey();
    assertFresh(post("/plain", t, key).json(JSON_X).send(), 201);
    assertFresh(post("/plain", t, key).json(JSON_Y).send(), 201);
    assertThat(TestApp.count(t)).isEqualTo(2);
  }

  // ------------------------------------------------------------------------------------------------ C. replay

  @Test
  void c11_firstRequestExecutesOnceAndIsStoredCompleted() {
    String t = newTest();
    int claims = counted.calls("claim");
    int completes = counted.calls("complete");
    Reply r = post("/counted", t, newKey()).json(JSON_X).send();
    assertFresh(r, 201);
    assertThat(r.header("Set-Cookie"))
        .startsWith("session=s"); // the client's own response is untouched
    assertThat(r.json().get("echo").get("qty").asInt()).isEqualTo(2); // the handler bound the body
    assertThat(TestApp.count(t)).isEqualTo(1);
    assertThat(counted.calls("claim")).isEqualTo(claims + 1);
    assertThat(counted.calls("complete")).isEqualTo(completes + 1);
  }

  @Test
  void c12_sequentialRetryReplaysFaithfully() {
    String t = newTest();
    String key = newKey();
    Reply first = post("/orders", t, key).json(JSON_X).send();
    Reply replay = post("/orders", t, key).json(JSON_X).send();
    assertReplayOf(replay, first);
    assertThat(replay.header("Location"))
        .isEqualTo(first.header("Location"))
        .isEqualTo("/orders/1");
    assertThat(replay.header("ETag")).isEqualTo(first.header("ETag")).isEqualTo("\"v1\"");
    assertThat(replay.header("Content-Length")).isEqualTo(Integer.toString(first.body().length));

    String notAcceptable = newKey();
    Reply first406 =
        post("/orders", t, notAcceptable).header("X-Status", "406").json(JSON_X).send();
    assertThat(first406.status()).isEqualTo(406);
    assertReplayOf(post("/orders", t, notAcceptable).json(JSON_X).send(), first406);

    String written = newKey(); // through getWriter(), with a charset
    Reply viaWriter = post("/orders", t, written).header("X-Use-Writer", "1").json(JSON_X).send();
    assertThat(viaWriter.header("Content-Type"))
        .isEqualToIgnoringCase("application/json;charset=UTF-8");
    assertReplayOf(post("/orders", t, written).json(JSON_X).send(), viaWriter);
    assertThat(TestApp.count(t)).isEqualTo(3);
  }

  @Test
  void c13_replaysCarryTheReplayMarker() {
    String t = newTest();
    String key = newKey();
    assertThat(post("/orders", t, key).json(JSON_X).send().header("Idempotent-Replayed")).isNull();
    assertThat(post("/orders", t, key).json(JSON_X).send().header("Idempotent-Replayed"))
        .isEqualTo("true");

    String customKey = "\"" + newKey() + "\"";
    Reply fresh = Client.post(custom.url("/orders")).test(t).key(customKey).json(JSON_X).send();
    Reply replay = Client.post(custom.url("/orders")).test(t).key(customKey).json(JSON_X).send();
    assertThat(fresh.header("X-Replayed")).isNull();
    assertThat(replay.header("X-Replayed")).isEqualTo("true");
    assertThat(replay.header("Idempotent-Replayed")).isNull();
  }

  @Test
  void c14_handlerProduced4xxIsFinalAndReplayed() {
    String t = newTest();
    String declined = newKey();
    Reply first = post("/orders", t, declined).header("X-Status", "402").json(JSON_X).send();
    assertFresh(first, 402);
    assertReplayOf(post("/orders", t, declined).json(JSON_X).send(), first);

    String invalid = newKey();
    Reply unprocessable = post("/orders", t, invalid).header("X-Status", "422").json(JSON_X).send();
    assertReplayOf(post("/orders", t, invalid).json(JSON_X).send(), unprocessable);

    String viaSendError =
        newKey(); // HttpServletResponse.sendError, rendered by the container each time
    Reply error =
        post("/orders", t, viaSendError).header("X-Send-Error", "402").json(JSON_X).send();
    assertFresh(error, 402);
    Reply errorReplay = post("/orders", t, viaSendError).json(JSON_X).send();
    assertThat(errorReplay.status()).isEqualTo(402);
    assertThat(errorReplay.replayed()).isTrue();
    assertThat(errorReplay.text()).contains("card declined");
    assertThat(TestApp.count(t)).isEqualTo(3);
  }

  @Test
  void c15_rejectionsBeforeTheLayerAreNotStored() {
    String t = newTest();
    String key = newKey();
    String secure = "/secure/orders";
    assertThat(post(secure, t, key).json(JSON_X).send().status()).isEqualTo(401);
    assertThat(
            post(secure, t, key)
                .header("X-User", "alice")
                .header("X-Rate-Limit", "exceeded")
                .json(JSON_X)
                .send()
                .status())
        .isEqualTo(429);
    TestApp.REVOKED.add("mallory");
    assertThat(post(secure, t, key).header("X-User", "mallory").json(JSON_X).send().status())
        .isEqualTo(403);
    assertThat(
            post(secure, t, key)
                .header("X-User", "alice")
                .body(
                    "application/json",
                    ("{\"pad\":\"" + "x".repeat(70_000) + "\"}").getBytes(StandardCharsets.UTF_8))
                .send()
                .status())
        .isEqualTo(413);
    assertThat(TestApp.count(t)).isZero();

    Reply valid = post(secure, t, key).header("X-User", "alice").json(JSON_X).send();
    assertFresh(valid, 201);
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void c16_replayWorksAcrossNodes() {
    String t = newTest();
    String key = newKey();
    Reply onA = post("/orders", t, key).json(JSON_X).send();
    assertFresh(onA, 201);
    Reply onB = Client.post(second.url("/orders")).test(t).key(key).json(JSON_X).send();
    assertReplayOf(onB, onA);
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void c17_nonJsonAndEmptyBodiesReplayExactly() {
    String t = newTest();
    String empty = newKey();
    Reply noContent = post("/empty", t, empty).send();
    assertFresh(noContent, 204);
    assertThat(noContent.body()).isEmpty();
    Reply noContentAgain = post("/empty", t, empty).send();
    assertThat(noContentAgain.status()).isEqualTo(204);
    assertThat(noContentAgain.replayed()).isTrue();
    assertThat(noContentAgain.body()).isEmpty();

    String pdf = newKey();
    Reply document = post("/pdf", t, pdf).send();
    assertFresh(document, 200);
    assertThat(document.body()).isEqualTo(TestApp.Handler.pdfBytes());
    Reply again = post("/pdf", t, pdf).send();
    assertReplayOf(again, document);
    assertThat(again.header("Content-Type")).isEqualTo("application/pdf");
    assertThat(again.header("Content-Length"))
        .isEqualTo(Integer.toString(TestApp.Handler.pdfBytes().length));
    assertThat(again.header("Content-Disposition"))
        .isEqualTo("attachment; filename=\"invoice.pdf\"");
    assertThat(TestApp.count(t)).isEqualTo(2);
  }

  // ------------------------------------------------------------------------------------------------ D. fingerprint

  @Test
  void d18_sameKeyDifferentBodyIsRefusedAndTheRecordIsKept() {
    String t = newTest();
    String key = newKey();
    Reply first = post("/orders", t, key).json(JSON_X).send();
    JsonNode problem =
        assertProblem(post("/orders", t, key).json(JSON_Y).send(), 422, BASE, "key-reused");
    assertThat(problem.get("title").asString()).isEqualTo("Idempotency-Key is already used");
    assertThat(TestApp.count(t)).isEqualTo(1);
    assertReplayOf(post("/orders", t, key).json(JSON_X).send(), first);

    // Stripe's status, configured
    String stripeKey = "\"" + newKey() + "\"";
    Client.post(custom.url("/orders")).test(t).key(stripeKey).json(JSON_X).send();
    assertProblem(
        Client.post(custom.url("/orders")).test(t).key(stripeKey).json(JSON_Y).send(),
        400,
        CUSTOM_BASE,
        "key-reused");
    assertThat(TestApp.count(t)).isEqualTo(2);
  }

  @Test
  void d20_sameKeyDifferentQueryIsAMismatch() {
    String t = newTest();
    String key = newKey();
    Reply first = post("/orders?currency=EUR&express=1", t, key).json(JSON_X).send();
    assertFresh(first, 201);
    assertProblem(
        post("/orders?currency=USD&express=1", t, key).json(JSON_X).send(),
        422,
        BASE,
        "key-reused");
    assertReplayOf(
        post("/orders?express=1&currency=EUR", t, key).json(JSON_X).send(),
        first); // order of params
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void d21_canonicalisationPolicyIsHonoured() {
    String t = newTest();
    String canonical = newKey();
    Reply first = post("/orders", t, canonical).json("{\"a\":1,\"b\":2}").send();
    assertReplayOf(post("/orders", t, canonical).json("{ \"b\":2,\n  \"a\":1.0 }").send(), first);

    String raw = newKey();
    assertFresh(post("/raw", t, raw).json("{\"a\":1,\"b\":2}").send(), 201);
    assertProblem(
        post("/raw", t, raw).json("{ \"b\":2, \"a\":1 }").send(), 422, BASE, "key-reused");
    assertThat(TestApp.count(t)).isEqualTo(2);
  }

  @Test
  void theFingerprintReadsTheBodyInItsDeclaredCharset() {
    String t = newTest();
    String key = newKey();
    String latin1 = "application/json; charset=ISO-8859-1";
    Reply first =
        post("/orders", t, key)
            .header("X-Use-Reader", "1")
            .body(
                latin1, "{\"item\":\"caf\u00e9\",\"qty\":2}".getBytes(StandardCharsets.ISO_8859_1))
            .send();
    assertFresh(first, 201);
    assertThat(first.json().get("echo").get("item").asString()).isEqualTo("caf\u00e9");
    // The same JSON, laid out differently: canonicalised as ISO-8859-1 text, not rejected as
    // malformed UTF-8.
    assertReplayOf(
        post("/orders", t, key)
            .body(
                latin1,
                "{ \"qty\": 2, \"item\": \"caf\u00e9\" }".getBytes(StandardCharsets.ISO_8859_1))
            .send(),
        first);
    // The same text in UTF-8 is the same request; other text is not.
    assertReplayOf(
        post("/orders", t, key)
            .body(
                "application/json; charset=UTF-8",
                "{\"item\":\"caf\u00e9\",\"qty\":2}".getBytes(StandardCharsets.UTF_8))
            .send(),
        first);
    assertProblem(
        post("/orders", t, key)
            .body(latin1, "{\"item\":\"cafe\",\"qty\":2}".getBytes(StandardCharsets.ISO_8859_1))
            .send(),
        422,
        BASE,
        "key-reused");
    // The same bytes declared in two charsets are two texts.
    String text = newKey();
    byte[] bytes = "caf\u00e9".getBytes(StandardCharsets.UTF_8);
    assertFresh(post("/orders", t, text).body("text/plain; charset=UTF-8", bytes).send(), 201);
    assertProblem(
        post("/orders", t, text).body("text/plain; charset=ISO-8859-1", bytes).send(),
        422,
        BASE,
        "key-reused");
    assertThat(TestApp.count(t)).isEqualTo(2);
  }

  @Test
  void d22_theMismatchCheckSurvivesTheRacePath() {
    String t = newTest();
    String key = newKey();
    barrier.arm(2); // both claims are inside the store at once; one loses the atomic claim
    CompletableFuture<Reply> x = post("/barrier", t, key).json(JSON_X).sendAsync();
    CompletableFuture<Reply> y = post("/barrier", t, key).json(JSON_Y).sendAsync();
    List<Reply> replies = List.of(x.join(), y.join());
    assertThat(replies).extracting(Reply::status).containsExactlyInAnyOrder(201, 422);
    Reply loser = replies.stream().filter(r -> r.status() == 422).findFirst().orElseThrow();
    assertProblem(loser, 422, BASE, "key-reused");
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void d23_theFingerprintIsNotPartOfTheLookupKey() {
    String t = newTest();
    String key = newKey();
    assertFresh(post("/orders", t, key).json(JSON_X).send(), 201);
    assertThat(post("/orders", t, key).json(JSON_Y).send().status()).isEqualTo(422);
    assertThat(post("/orders", t, key).json("{\"something\":\"else\"}").send().status())
        .isEqualTo(422);
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void d24_mismatchTakesPrecedenceOverInProgress() {
    String t = newTest();
    String key = newKey();
    TestApp.Gate gate = TestApp.gate();
    CompletableFuture<Reply> a =
        post("/orders", t, key).header("X-Gate", gate.id()).json(JSON_X).sendAsync();
    await().atMost(Duration.ofSeconds(30)).until(() -> gate.arrived() == 1);

    assertProblem(post("/orders", t, key).json(JSON_Y).send(), 422, BASE, "key-reused");
    gate.open();
    assertFresh(a.join(), 201);
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void patternRoutesFingerprintTheConcretePath() {
    String t = newTest();
    String key = newKey();
    Reply refund = post("/orders/1/refunds", t, key).json(JSON_X).send();
    assertFresh(refund, 201);
    assertProblem(post("/orders/2/refunds", t, key).json(JSON_X).send(), 422, BASE, "key-reused");
    assertReplayOf(post("/orders/1/refunds", t, key).json(JSON_X).send(), refund);
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void bodyBindingDownstreamStillWorks() {
    String t = newTest();
    Reply viaReader =
        post("/orders", t, newKey())
            .header("X-Use-Reader", "1")
            .body(
                "application/json;charset=UTF-8",
                "{\"item\":\"caf\u00e9\",\"qty\":7}".getBytes(StandardCharsets.UTF_8))
            .send();
    assertThat(viaReader.json().get("echo").get("item").asString()).isEqualTo("caf\u00e9");

    String formKey = newKey();
    byte[] form = "item=pen+set&qty=1&qty=2".getBytes(StandardCharsets.US_ASCII);
    Reply posted =
        post("/form?q=search", t, formKey).body("application/x-www-form-urlencoded", form).send();
    assertFresh(posted, 201);
    assertThat(posted.json().get("item").asString()).isEqualTo("pen set");
    assertThat(posted.json().get("qty").get(1).asString()).isEqualTo("2");
    assertThat(posted.json().get("q").asString()).isEqualTo("search");
    assertReplayOf(
        post("/form?q=search", t, formKey).body("application/x-www-form-urlencoded", form).send(),
        posted);
    assertThat(
            post("/form?q=search", t, formKey)
                .body(
                    "application/x-www-form-urlencoded",
                    "item=pen+set&qty=1&qty=3".getBytes(StandardCharsets.US_ASCII))
                .send()
                .status())
        .isEqualTo(422);
    assertThat(TestApp.count(t)).isEqualTo(2);
  }

  // ------------------------------------------------------------------------------------------------ E. concurrency

  @Test
  void e25_inFlightDuplicateGets409WithRetryAfter() {
    String t = newTest();
    String key = newKey();
    TestApp.Gate gate = TestApp.gate();
    CompletableFuture<Reply> a =
        post("/orders", t, key).header("X-Gate", gate.id()).json(JSON_X).sendAsync();
    await().atMost(Duration.ofSeconds(30)).until(() -> gate.arrived() == 1);

    Reply b = post("/orders", t, key).json(JSON_X).send();
    JsonNode problem = assertProblem(b, 409, BASE, "request-in-progress");
    assertThat(problem.get("title").asString())
        .isEqualTo("A request is outstanding for this Idempotency-Key");
    assertThat(Long.parseLong(b.header("Retry-After"))).isBetween(1L, 90L);

    gate.open();
    Reply first = a.join();
    assertFresh(first, 201);
    assertReplayOf(post("/orders", t, key).json(JSON_X).send(), first); // the 409 was not stored
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void e26_thunderingHerdOverTwoNodesRunsTheHandlerOnce() {
    String t = newTest();
    String key = newKey();
    TestApp.Gate gate = TestApp.gate();
    List<CompletableFuture<Reply>> replies = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      Node node = i % 2 == 0 ? main : second;
      replies.add(
          Client.post(node.url("/orders"))
              .test(t)
              .key(key)
              .header("X-Gate", gate.id())
              .json(JSON_X)
              .sendAsync());
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                gate.arrived() == 1
                    && replies.stream().filter(CompletableFuture::isDone).count() == 49);
    gate.open();
    List<Reply> all = replies.stream().map(CompletableFuture::join).toList();
    assertThat(all).filteredOn(r -> r.status() == 201).hasSize(1);
    assertThat(all)
        .filteredOn(r -> r.status() == 409)
        .hasSize(49)
        .allSatisfy(r -> assertProblem(r, 409, BASE, "request-in-progress"));
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void e27_theClaimIsAtomicEvenWhenBothRequestsAreInsideTheStoreTogether() {
    String t = newTest();
    String key = newKey();
    barrier.arm(2);
    CompletableFuture<Reply> one = post("/barrier", t, key).json(JSON_X).sendAsync();
    CompletableFuture<Reply> two = post("/barrier", t, key).json(JSON_X).sendAsync();
    List<Reply> replies = List.of(one.join(), two.join());
    assertThat(TestApp.count(t)).isEqualTo(1);
    assertThat(replies).filteredOn(r -> r.status() == 201 && !r.replayed()).hasSize(1);
    assertThat(replies).allSatisfy(r -> assertThat(r.status()).isIn(201, 409));
  }

  @Test
  void e28_aLostRaceIsA409AndTheClaimIsNotRetried() {
    String t = newTest();
    String key = newKey();
    TestApp.Gate gate = TestApp.gate();
    CompletableFuture<Reply> a =
        post("/counted", t, key).header("X-Gate", gate.id()).json(JSON_X).sendAsync();
    await().atMost(Duration.ofSeconds(30)).until(() -> gate.arrived() == 1);
    int claims = counted.calls("claim");

    assertProblem(post("/counted", t, key).json(JSON_X).send(), 409, BASE, "request-in-progress");
    assertThat(counted.calls("claim")).as("claims by the loser").isEqualTo(claims + 1);

    gate.open();
    Reply first = a.join();
    assertReplayOf(post("/counted", t, key).json(JSON_X).send(), first);
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void e30_blockingModeWaitsForTheFirstRequest() {
    String t = newTest();
    String key = newKey();
    TestApp.Gate gate = TestApp.gate();
    CompletableFuture<Reply> a =
        post("/wait", t, key).header("X-Gate", gate.id()).json(JSON_X).sendAsync();
    await().atMost(Duration.ofSeconds(30)).until(() -> gate.arrived() == 1);
    int claims = waitCounted.calls("claim");
    CompletableFuture<Reply> b = post("/wait", t, key).json(JSON_X).sendAsync();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> waitCounted.calls("claim") >= claims + 2); // b is polling
    assertThat(b).isNotDone();
    gate.open();
    Reply first = a.join();
    assertFresh(first, 201);
    assertReplayOf(b.join(), first);
    assertThat(TestApp.count(t)).isEqualTo(1);

    // A first request that outlasts the wait: 409 after about 2 s.
    String slowKey = newKey();
    TestApp.Gate slow = TestApp.gate();
    CompletableFuture<Reply> c =
        post("/wait", t, slowKey).header("X-Gate", slow.id()).json(JSON_X).sendAsync();
    await().atMost(Duration.ofSeconds(30)).until(() -> slow.arrived() == 1);
    long start = System.nanoTime();
    Reply late = post("/wait", t, slowKey).json(JSON_X).send();
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(1900));
    assertProblem(late, 409, BASE, "request-in-progress");
    assertThat(late.header("Retry-After")).isNotNull();
    slow.open();
    assertFresh(c.join(), 201);
    assertThat(TestApp.count(t)).isEqualTo(2);
  }

  // ------------------------------------------------------------------------------------------------ F. failures

  @Test
  void f31_failureReleasesTheKey() {
    String t = newTest();
    String thrown = newKey();
    assertThat(post("/orders", t, thrown).header("X-Fail", "1").json(JSON_X).send().status())
        .isEqualTo(500);
    assertFresh(post("/orders", t, thrown).json(JSON_X).send(), 201);
    assertThat(TestApp.count(t)).isEqualTo(2);

    for (String status : List.of("500", "503")) {
      String key = newKey();
      Reply error = post("/orders", t, key).header("X-Status", status).json(JSON_X).send();
      assertFresh(error, Integer.parseInt(status)); // the handler's own 5xx reaches the client
      assertThat(error.json().get("order").asInt()).isPositive();
      Reply retry = post("/orders", t, key).json(JSON_X).send();
      assertFresh(retry, 201);
    }
    assertThat(TestApp.count(t)).isEqualTo(6);
  }

  @Test
  void f32_stripeModeStoresServerErrors() {
    String t = newTest();
    String key = newKey();
    Reply error = post("/stripe", t, key).header("X-Status", "500").json(JSON_X).send();
    assertFresh(error, 500);
    assertReplayOf(post("/stripe", t, key).json(JSON_X).send(), error);
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void transientClientErrorsAreNotStoredAndTheRetryRuns() {
    String t = newTest();
    for (String status : List.of("408", "409", "425", "429")) {
      String key = newKey();
      Reply notNow = post("/orders", t, key).header("X-Status", status).json(JSON_X).send();
      assertFresh(notNow, Integer.parseInt(status));
      Reply retry = post("/orders", t, key).json(JSON_X).send();
      assertFresh(retry, 201);
      assertReplayOf(post("/orders", t, key).json(JSON_X).send(), retry);
    }
    // Even where server errors are stored (Stripe mode), "not now" is not the key's answer.
    String stripe = newKey();
    assertFresh(post("/stripe", t, stripe).header("X-Status", "429").json(JSON_X).send(), 429);
    assertFresh(post("/stripe", t, stripe).json(JSON_X).send(), 201);
    assertThat(TestApp.count(t)).isEqualTo(10);
  }

  @Test
  void f33_aCrashLeavesALeaseNotALockForever() {
    String t = newTest();
    String key = newKey();
    TestApp.Gate crashed = TestApp.gate(); // a handler that never finishes while this test runs
    post("/orders", t, key).header("X-Gate", crashed.id()).json(JSON_X).sendAsync();
    await().atMost(Duration.ofSeconds(30)).until(() -> crashed.arrived() == 1);

    assertProblem(post("/orders", t, key).json(JSON_X).send(), 409, BASE, "request-in-progress");
    advanceClock(Duration.ofSeconds(89));
    assertProblem(post("/orders", t, key).json(JSON_X).send(), 409, BASE, "request-in-progress");
    advanceClock(Duration.ofSeconds(2)); // past the 90 s lease
    Reply takeover = post("/orders", t, key).json(JSON_X).send();
    assertFresh(takeover, 201);
    assertThat(TestApp.count(t)).isEqualTo(2);
    assertReplayOf(post("/orders", t, key).json(JSON_X).send(), takeover); // completed
  }

  @Test
  void f33b_aStoredResponseIsKeptADayByDefaultThenThePurgerDeletesIt() throws InterruptedException {
    String t = newTest();
    String key = newKey();
    Reply first = post("/orders", t, key).json(JSON_X).send();
    assertFresh(first, 201);
    Purger purger = Purger.builder(store()).pause(Duration.ZERO).build();

    advanceClock(Duration.ofHours(24).minusMinutes(1));
    purger.purgeOnce();
    assertReplayOf(post("/orders", t, key).json(JSON_X).send(), first);

    advanceClock(Duration.ofMinutes(2)); // past the route's default retention of 24 h
    assertThat(purger.purgeOnce()).as("records purged past 24 h").isPositive();
    // The key is free again: another body is a new request, not a mismatch.
    assertFresh(post("/orders", t, key).json(JSON_Y).send(), 201);
    assertThat(TestApp.count(t)).isEqualTo(2);
  }

  @Test
  void f34_aZombieIsFencedAndItsClientGetsTheNewerResponse() {
    String t = newTest();
    String key = newKey();
    TestApp.Gate zombieGate = TestApp.gate();
    CompletableFuture<Reply> zombie =
        post("/orders", t, key).header("X-Gate", zombieGate.id()).json(JSON_X).sendAsync();
    await().atMost(Duration.ofSeconds(30)).until(() -> zombieGate.arrived() == 1);
    advanceClock(Duration.ofSeconds(91));

    Reply newer = post("/orders", t, key).json(JSON_X).send();
    assertFresh(newer, 201);
    assertThat(newer.json().get("order").asInt()).isEqualTo(2);

    zombieGate.open(); // the zombie finishes; its completion is refused by the fencing token
    Reply zombieReply = zombie.join();
    assertReplayOf(zombieReply, newer);
    assertThat(zombieReply.json().get("order").asInt()).isEqualTo(2);
    assertReplayOf(
        post("/orders", t, key).json(JSON_X).send(),
        newer); // the stored response stays the newer one
    assertThat(TestApp.count(t)).isEqualTo(2);
  }

  @Test
  void f36_storeOutageFailsClosed() {
    String t = newTest();
    String key = newKey();
    cutStore();
    Reply down = post("/outage", t, key).json(JSON_X).send();
    assertProblem(down, 503, BASE, "store-unavailable");
    assertThat(TestApp.count(t)).isZero();

    restoreStore();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> post("/outage", t, key).json(JSON_X).send().status() == 201);
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void f37_uncapturableResponsesAreNeverReplayedEmpty() {
    String t = newTest();
    // Declared streaming: a key is refused up front, no key streams.
    assertProblem(post("/events", t, newKey()).send(), 400, BASE, "key-not-supported");
    assertThat(TestApp.count(t)).isZero();
    Reply stream = post("/events", t, null).send();
    assertThat(stream.status()).isEqualTo(200);
    assertThat(stream.text()).contains("data: first 1", "data: second 1");

    // Not declared, detected: the stream reaches the client, a tombstone is stored, the retry does
    // not run.
    String sseKey = newKey();
    Reply sse = post("/sse", t, sseKey).send();
    assertThat(sse.status()).isEqualTo(200);
    assertThat(sse.header("Content-Type")).startsWith("text/event-stream");
    assertThat(sse.text()).contains("data: first 2", "data: second 2");
    assertProblem(post("/sse", t, sseKey).send(), 409, BASE, "response-not-replayable");
    assertThat(TestApp.count(t)).isEqualTo(2);

    // Answered asynchronously: the same.
    String asyncKey = newKey();
    Reply async = post("/async", t, asyncKey).send();
    assertThat(async.status()).isEqualTo(200);
    assertThat(async.text()).isEqualTo("async 3");
    assertProblem(post("/async", t, asyncKey).send(), 409, BASE, "response-not-replayable");
    assertThat(TestApp.count(t)).isEqualTo(3);

    // Larger than the capture limit: sent whole, not replayable.
    String bigKey = "\"" + newKey() + "\"";
    Reply big = Client.post(custom.url("/big")).test(t).key(bigKey).send();
    assertThat(big.status()).isEqualTo(200);
    assertThat(big.body()).hasSize(256 * 1024);
    assertProblem(
        Client.post(custom.url("/big")).test(t).key(bigKey).send(),
        409,
        CUSTOM_BASE,
        "response-not-replayable");
    assertThat(TestApp.count(t)).isEqualTo(4);
  }

  // ------------------------------------------------------------------------------------------------ G. expiry

  @Test
  void g38_retentionBoundary() {
    String t = newTest();
    String key = newKey();
    Reply first = post("/orders", t, key).json(JSON_X).send();
    advanceClock(Duration.ofHours(24).minusSeconds(1));
    assertReplayOf(post("/orders", t, key).json(JSON_X).send(), first);
    advanceClock(Duration.ofSeconds(2));
    Reply renewed =
        post("/orders", t, key).json(JSON_Y).send(); // another body, but the key has expired
    assertFresh(renewed, 201);
    assertThat(TestApp.count(t)).isEqualTo(2);
  }

  @Test
  void g39_clientSuppliedTimeHasNoEffect() {
    String t = newTest();
    String key = newKey();
    String farFuture =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusYears(2));
    TestApp.Gate gate = TestApp.gate();
    CompletableFuture<Reply> a =
        post("/orders", t, key).header("X-Gate", gate.id()).json(JSON_X).sendAsync();
    await().atMost(Duration.ofSeconds(30)).until(() -> gate.arrived() == 1);
    assertProblem(
        post("/orders", t, key)
            .header("Date", farFuture)
            .header("If-Unmodified-Since", farFuture)
            .json(JSON_X)
            .sendRaw(),
        409,
        BASE,
        "request-in-progress");
    gate.open();
    Reply first = a.join();
    Reply replay =
        post("/orders", t, key)
            .header("Date", farFuture)
            .header("X-Request-Time", "2099-01-01T00:00:00Z")
            .json(JSON_X)
            .sendRaw();
    assertReplayOf(replay, first);
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void g40_purgingNeverRemovesALiveLeaseOrALiveResult() {
    String t = newTest();
    String key = newKey();
    TestApp.Gate gate = TestApp.gate();
    CompletableFuture<Reply> a =
        post("/orders", t, key).header("X-Gate", gate.id()).json(JSON_X).sendAsync();
    await().atMost(Duration.ofSeconds(30)).until(() -> gate.arrived() == 1);
    store().purgeExpired(10_000);
    assertProblem(post("/orders", t, key).json(JSON_X).send(), 409, BASE, "request-in-progress");
    gate.open();
    Reply first = a.join();

    for (int i = 0; i < 10; i++) { // retries racing the reaper
      CompletableFuture<Integer> purge =
          CompletableFuture.supplyAsync(() -> store().purgeExpired(10_000));
      assertReplayOf(post("/orders", t, key).json(JSON_X).send(), first);
      purge.join();
    }
    advanceClock(Duration.ofHours(24).plusSeconds(1));
    assertThat(store().purgeExpired(10_000)).isPositive();
    assertFresh(post("/orders", t, key).json(JSON_Y).send(), 201);
    assertThat(TestApp.count(t)).isEqualTo(2);
  }

  // ------------------------------------------------------------------------------------------------ H. security

  @Test
  void h41_keysAreIsolatedPerPrincipal() {
    String t = newTest();
    String key = newKey();
    Reply alice = post("/orders", t, key).header("X-User", "alice").json(JSON_X).send();
    assertThat(alice.json().get("user").asString()).isEqualTo("alice");
    Reply bob = post("/orders", t, key).header("X-User", "bob").json(JSON_X).send();
    assertFresh(bob, 201);
    assertThat(bob.json().get("user").asString()).isEqualTo("bob");
    assertThat(TestApp.count(t)).isEqualTo(2);
    assertReplayOf(post("/orders", t, key).header("X-User", "alice").json(JSON_X).send(), alice);

    // Bob cannot cause a 409 or a 422 for Alice's request in flight.
    String inFlight = newKey();
    TestApp.Gate gate = TestApp.gate();
    CompletableFuture<Reply> aliceAgain =
        post("/orders", t, inFlight)
            .header("X-User", "alice")
            .header("X-Gate", gate.id())
            .json(JSON_X)
            .sendAsync();
    await().atMost(Duration.ofSeconds(30)).until(() -> gate.arrived() == 1);
    assertFresh(post("/orders", t, inFlight).header("X-User", "bob").json(JSON_Y).send(), 201);
    gate.open();
    assertFresh(aliceAgain.join(), 201);
  }

  @Test
  void h43_authorizationIsCheckedAgainBeforeAReplay() {
    String t = newTest();
    String key = newKey();
    Reply first = post("/secure/orders", t, key).header("X-User", "alice").json(JSON_X).send();
    assertFresh(first, 201);
    TestApp.REVOKED.add("alice");
    Reply refused = post("/secure/orders", t, key).header("X-User", "alice").json(JSON_X).send();
    assertThat(refused.status()).isEqualTo(403);
    assertThat(refused.replayed()).isFalse();
    TestApp.REVOKED.remove("alice");
    assertReplayOf(
        post("/secure/orders", t, key).header("X-User", "alice").json(JSON_X).send(), first);
  }

  @Test
  void h44_sensitiveAndPerRequestHeadersAreNotReplayed() {
    String t = newTest();
    String key = newKey();
    Reply first = post("/orders", t, key).json(JSON_X).sendRaw();
    assertThat(first.header("Set-Cookie")).isNotNull();
    assertThat(first.header("WWW-Authenticate")).isNotNull();
    assertThat(first.header("X-Request-Id")).startsWith("handler-");

    Reply replay = post("/orders", t, key).json(JSON_X).sendRaw();
    assertThat(replay.replayed()).isTrue();
    for (String name :
        List.of(
            "Set-Cookie",
            "WWW-Authenticate",
            "Proxy-Authenticate",
            "Keep-Alive",
            "Transfer-Encoding")) {
      assertThat(replay.headers(name)).as(name).isEmpty();
    }
    assertThat(replay.header("X-Request-Id")).startsWith("edge-"); // this exchange's own id
    assertThat(replay.header("Date")).isNotNull();
    assertThat(replay.header("Content-Length")).isEqualTo(Integer.toString(first.body().length));
    assertThat(replay.headers("Vary")).isEqualTo(first.headers("Vary"));
    assertThat(replay.header("X-Order")).isEqualTo(first.header("X-Order"));
    assertThat(replay.headers("Idempotency-Key")).isEmpty();
  }

  @Test
  void h46_rawKeysNeverReachLogsProblemBodiesOrTheStore() throws Exception {
    String t = newTest();
    String secret = "secret-" + UUID.randomUUID();
    List<String> logs = new CopyOnWriteArrayList<>();
    SimpleFormatter formatter = new SimpleFormatter();
    Handler capture =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            logs.add(record.getLoggerName() + " " + formatter.format(record));
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    capture.setLevel(Level.ALL);
    Logger root = Logger.getLogger("");
    Logger ours = Logger.getLogger("dev.once.servlet.IdempotencyFilter");
    Level oldLevel = ours.getLevel();
    ours.setLevel(Level.ALL);
    root.addHandler(capture);
    List<Reply> replies = new ArrayList<>();
    try {
      replies.add(post("/orders", t, secret).json(JSON_X).send());
      replies.add(post("/orders", t, secret).json(JSON_X).send());
      replies.add(post("/orders", t, secret).json(JSON_Y).send());
      replies.add(post("/orders", t, "\"" + secret + "\u00fc\"").json(JSON_X).sendRaw());
      cutStore();
      replies.add(post("/outage", t, secret).json(JSON_X).send());
      restoreStore();
    } finally {
      root.removeHandler(capture);
      ours.setLevel(oldLevel);
    }
    assertThat(replies).extracting(Reply::status).containsExactly(201, 201, 422, 400, 503);
    for (Reply r : replies.subList(2, replies.size())) {
      assertThat(r.text()).doesNotContain(secret);
    }
    String outageDigest = IdempotencyKey.of(Scope.global("POST /outage"), secret).toString();
    assertThat(String.join("\n", logs))
        .as("the outage was logged by its digest")
        .contains(outageDigest)
        .doesNotContain(secret);
    Optional<String> dump = storeDump();
    dump.ifPresent(d -> assertThat(d).isNotEmpty().doesNotContain(secret));
  }

  // ------------------------------------------------------------------------------------------------ I. limits

  @Test
  void i47_largeBodiesAreRefusedBeforeTheClaim() throws Exception {
    String t = newTest();
    String key = newKey();
    int claims = counted.calls("claim");
    byte[] fifty = new byte[50 * 1024 * 1024];
    Arrays.fill(fifty, (byte) ' ');
    Reply declared = post("/counted", t, key).body("application/json", fifty).send();
    assertProblem(declared, 413, BASE, "request-too-large");

    // No Content-Length (chunked): refused once the limit is passed.
    HttpResponse<byte[]> chunked =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(main.url("/counted")))
                    .header("Idempotency-Key", key)
                    .header("X-Test", t)
                    .header("Content-Type", "application/json")
                    .POST(
                        HttpRequest.BodyPublishers.ofInputStream(
                            () -> new ByteArrayInputStream(new byte[3 * 1024 * 1024])))
                    .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    assertThat(chunked.statusCode()).isEqualTo(413);
    assertThat(TestApp.count(t)).isZero();
    assertThat(counted.calls("claim")).isEqualTo(claims);

    assertFresh(post("/counted", t, key).json(JSON_X).send(), 201); // no record was left
    assertThat(TestApp.count(t)).isEqualTo(1);
  }

  @Test
  void multipartBodiesAreRefusedWith415BeforeTheClaim() {
    String t = newTest();
    String key = newKey();
    int claims = counted.calls("claim");
    String boundary = "once-boundary";
    byte[] upload =
        ("--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"receipt\"; filename=\"r.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\npaid\r\n--"
                + boundary
                + "--\r\n")
            .getBytes(StandardCharsets.UTF_8);
    Reply refused =
        post("/counted", t, key).body("multipart/form-data; boundary=" + boundary, upload).send();
    assertProblem(refused, 415, BASE, "media-type-not-supported");
    assertThat(refused.text()).contains("multipart");
    assertThat(TestApp.count(t)).isZero();
    assertThat(counted.calls("claim")).isEqualTo(claims);
    assertFresh(post("/counted", t, key).json(JSON_X).send(), 201); // the key was never claimed
  }

  @Test
  void aRouteResolverThatFailsAnswers500AndRunsNothing() {
    String t = newTest();
    try (Node failing =
        Node.start(
            IdempotencyFilter.builder(store())
                .routes(
                    request -> {
                      throw new IllegalStateException("the routing table is not loaded");
                    })
                .build())) {
      Reply reply = Client.post(failing.url("/orders")).test(t).key(newKey()).json(JSON_X).send();
      assertProblem(reply, 500, BASE, "route-unresolved");
      assertThat(reply.text()).doesNotContain("routing table");
      assertThat(Client.post(failing.url("/orders")).test(t).json(JSON_X).send().status())
          .isEqualTo(500);
    }
    assertThat(TestApp.count(t)).isZero();
  }

  @Test
  void i49_keyFloodingIsBoundedPerTenantAndCreatesNoRecord() throws Exception {
    String t = newTest();
    IdempotencyFilter limited =
        IdempotencyFilter.builder(store())
            .routes(RouteResolver.of(IdempotentRoute.builder("POST", "/orders").build()))
            .keyRateLimit(3, Duration.ofHours(1))
            .build();
    IdempotencyFilter shortWindow =
        IdempotencyFilter.builder(store())
            .routes(RouteResolver.of(IdempotentRoute.builder("POST", "/orders").build()))
            .keyRateLimit(1, Duration.ofMillis(300))
            .build();
    try (Node node = Node.start(limited);
        Node quick = Node.start(shortWindow)) {
      String alice = "alice-" + t;
      List<String> keys = List.of(newKey(), newKey(), newKey(), newKey());
      for (String key : keys.subList(0, 3)) {
        assertFresh(
            Client.post(node.url("/orders"))
                .test(t)
                .key(key)
                .header("X-User", alice)
                .json(JSON_X)
                .send(),
            201);
      }
      Reply flooded =
          Client.post(node.url("/orders"))
              .test(t)
              .key(keys.get(3))
              .header("X-User", alice)
              .json(JSON_X)
              .send();
      assertProblem(flooded, 429, BASE, "too-many-keys");
      assertThat(Long.parseLong(flooded.header("Retry-After"))).isBetween(1L, 3600L);
      assertThat(TestApp.count(t)).as("handler runs").isEqualTo(3);

      // Another tenant has its own budget.
      assertFresh(
          Client.post(node.url("/orders"))
              .test(t)
              .key(keys.get(3))
              .header("X-User", "bob-" + t)
              .json(JSON_X)
              .send(),
          201);
      // The refused key left no record: on a node without the limit it executes as new, not as a
      // replay or a 409.
      assertFresh(
          Client.post(main.url("/orders"))
              .test(t)
              .key(keys.get(3))
              .header("X-User", alice)
              .json(JSON_X)
              .send(),
          201);
      assertThat(TestApp.count(t)).as("handler runs").isEqualTo(5);

      // A window ends: the budget comes back.
      String carol = "carol-" + t;
      assertFresh(
          Client.post(quick.url("/orders"))
              .test(t)
              .key(newKey())
              .header("X-User", carol)
              .json(JSON_X)
              .send(),
          201);
      assertProblem(
          Client.post(quick.url("/orders"))
              .test(t)
              .key(newKey())
              .header("X-User", carol)
              .json(JSON_X)
              .send(),
          429,
          BASE,
          "too-many-keys");
      await("carol's window ends")
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  Client.post(quick.url("/orders"))
                          .test(t)
                          .key(newKey())
                          .header("X-User", carol)
                          .json(JSON_X)
                          .send()
                          .status()
                      == 201);
    }
  }

  // ------------------------------------------------------------------------------------------------ J. errors

  @Test
  void j50_everyLayerErrorIsValidProblemJsonAndNeverStored() {
    String t = newTest();
    String key = newKey();
    Set<String> types = new HashSet<>();
    types.add(
        assertProblem(post("/orders", t, null).json(JSON_X).send(), 400, BASE, "key-missing")
            .get("type")
            .asString());
    types.add(
        assertProblem(
                post("/orders", t, "\"unterminated").json(JSON_X).send(), 400, BASE, "key-invalid")
            .get("type")
            .asString());
    types.add(
        assertProblem(
                post("/counted", t, key).body("application/json", new byte[2 * 1024 * 1024]).send(),
                413,
                BASE,
                "request-too-large")
            .get("type")
            .asString());
    cutStore();
    types.add(
        assertProblem(post("/outage", t, key).json(JSON_X).send(), 503, BASE, "store-unavailable")
            .get("type")
            .asString());
    restoreStore();

    TestApp.Gate gate = TestApp.gate();
    CompletableFuture<Reply> a =
        post("/orders", t, key).header("X-Gate", gate.id()).json(JSON_X).sendAsync();
    await().atMost(Duration.ofSeconds(30)).until(() -> gate.arrived() == 1);
    types.add(
        assertProblem(post("/orders", t, key).json(JSON_X).send(), 409, BASE, "request-in-progress")
            .get("type")
            .asString());
    types.add(
        assertProblem(post("/orders", t, key).json(JSON_Y).send(), 422, BASE, "key-reused")
            .get("type")
            .asString());
    gate.open();
    Reply first = a.join();
    assertThat(types).hasSize(6);

    // None of them was stored as the key's result.
    assertReplayOf(post("/orders", t, key).json(JSON_X).send(), first);
    assertThat(first.status()).isEqualTo(201);
    assertThat(TestApp.count(t)).isEqualTo(1);
    assertThat(types).allSatisfy(type -> assertThat(URI.create(type).isAbsolute()).isTrue());
  }

  // ------------------------------------------------------------------------------------------------ listener

  @Test
  void theListenerHearsEveryStepByScopeNeverByKey() {
    String t = newTest();
    String user =
        "user-" + UUID.randomUUID(); // a tenant of its own, so only this test's events match
    String key = newKey();
    post("/orders", t, key).header("X-User", user).json(JSON_X).send();
    post("/orders", t, key).header("X-User", user).json(JSON_X).send();
    post("/orders", t, key).header("X-User", user).json(JSON_Y).send();
    post("/orders", t, newKey())
        .header("X-User", user)
        .header("X-Status", "503")
        .json(JSON_X)
        .send();
    cutStore();
    post("/outage", t, newKey()).header("X-User", user).json(JSON_X).send();
    restoreStore();

    String o = user + " POST /orders ";
    assertThat(heard.stream().filter(e -> e.startsWith(user + " ")).toList())
        .containsExactly(
            o + "claimed ACQUIRED",
            o + "completed",
            o + "claimed COMPLETED",
            o + "claimed MISMATCH",
            o + "claimed ACQUIRED",
            o + "failed released",
            user + " POST /outage storeFailed");
    assertThat(heard).noneMatch(e -> e.contains(key));
  }
}
