package dev.once.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.StoreUnavailableException;
import dev.once.redis.internal.RedisKeys;
import dev.once.testkit.IdempotencyStoreContract;
import dev.once.testkit.LostReplyContract;
import dev.once.testkit.SlowExecutionContract;
import dev.once.testkit.StoreOutageContract;
import dev.once.testkit.servers.TcpProxy;
import dev.once.testkit.servers.TestRedis;
import dev.once.testkit.servers.TestServers;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The store against the real Redis the test kit finds (the local server at 127.0.0.1:6379, or an
 * embedded one): the store contract and the outage contract (through a TCP proxy the test cuts),
 * each on its own key prefix, and what only Redis has: server-set TTLs, key names, a caller-owned
 * client. Every key written is deleted afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedisStoreIT {

  private static final Fingerprint FP = Fingerprint.of("redis request");

  private final TestRedis server = TestServers.redis();
  private final String run = UUID.randomUUID().toString().substring(0, 8);
  private final List<String> prefixes = new ArrayList<>();
  private RedisClient admin;
  private StatefulRedisConnection<byte[], byte[]> inspect;
  private RedisIdempotencyStore store;

  @BeforeAll
  void start() {
    admin = RedisClient.create(server.uri());
    inspect = admin.connect(ByteArrayCodec.INSTANCE);
    store =
        RedisIdempotencyStore.builder(RedisURI.create(server.uri()))
            .keyPrefix(prefix("store"))
            .build();
    System.out.println("[once-redis] RedisStoreIT: " + store + " on " + server);
  }

  @AfterAll
  void cleanUp() {
    try {
      store.close();
      for (String prefix : prefixes) {
        for (byte[] key : keysUnder(prefix)) {
          inspect.sync().unlink(key);
        }
      }
    } finally {
      inspect.close();
      admin.shutdown();
    }
  }

  /** A key prefix of this run, deleted after the class. Contains glob characters on purpose. */
  String prefix(String what) {
    String prefix = "once-it:" + run + ":" + what + "*?:";
    prefixes.add(prefix);
    return prefix;
  }

  List<byte[]> keysUnder(String prefix) {
    RedisCommands<byte[], byte[]> redis = inspect.sync();
    List<byte[]> keys = new ArrayList<>();
    byte[] pattern =
        (Pattern.compile("([*?\\[\\]\\\\])").matcher(prefix).replaceAll("\\\\$1") + "*")
            .getBytes(StandardCharsets.UTF_8);
    ScanCursor cursor = ScanCursor.INITIAL;
    do {
      KeyScanCursor<byte[]> page =
          redis.scan(cursor, ScanArgs.Builder.matches(pattern).limit(1000));
      keys.addAll(page.getKeys());
      cursor = page;
    } while (!cursor.isFinished());
    return keys;
  }

  private static ClaimRequest request(IdempotencyKey key, Duration lease, Duration retention) {
    return new ClaimRequest(key, FP, lease, retention);
  }

  private static long acquired(ClaimResult result) {
    assertThat(result).as("claim answer").isInstanceOf(ClaimResult.Acquired.class);
    return ((ClaimResult.Acquired) result).token();
  }

  @Test
  void rawKeysAndTenantsNeverReachRedis() {
    String prefix = prefix("raw");
    String tenant = "tenant-{*}:" + UUID.randomUUID();
    String secret = "secret-{key}*:" + UUID.randomUUID();
    IdempotencyKey key = IdempotencyKey.of(Scope.of(tenant, "POST /payments:{*}"), secret);
    try (RedisIdempotencyStore s =
        RedisIdempotencyStore.builder(RedisURI.create(server.uri())).keyPrefix(prefix).build()) {
      long token = acquired(s.claim(request(key, Duration.ofSeconds(30), Duration.ofMinutes(5))));
      s.complete(
          key,
          token,
          Outcome.of("text/plain", "ok".getBytes(StandardCharsets.UTF_8)),
          Duration.ofMinutes(5));
    }

    List<byte[]> keys = keysUnder(prefix);
    assertThat(keys).hasSize(1);
    String redisKey = new String(keys.get(0), StandardCharsets.UTF_8);
    assertThat(redisKey)
        .isEqualTo(prefix + "{" + key.digestHex() + "}")
        .matches(Pattern.quote(prefix) + "\\{[0-9a-f]{64}}");
    Map<byte[], byte[]> hash = inspect.sync().hgetall(keys.get(0));
    StringBuilder dump = new StringBuilder(redisKey);
    List<String> fields = new ArrayList<>();
    hash.forEach(
        (field, value) -> {
          fields.add(new String(field, StandardCharsets.UTF_8));
          dump.append('|')
              .append(new String(field, StandardCharsets.ISO_8859_1))
              .append('=')
              .append(new String(value, StandardCharsets.ISO_8859_1));
        });
    assertThat(fields)
        .containsExactlyInAnyOrder(
            "status", "fingerprint", "token", "lease_until", "expires_at", "outcome");
    assertThat(dump.toString())
        .doesNotContain(secret)
        .doesNotContain(tenant)
        .doesNotContain("POST /payments");
  }

  @Test
  void redisSetsEachRecordsTimeToLive() {
    Scope scope = Scope.of("t-" + UUID.randomUUID(), "ttl");
    RedisKeys keys = new RedisKeys(store.keyPrefix());

    IdempotencyKey claimed = IdempotencyKey.of(scope, "claimed");
    long token =
        acquired(store.claim(request(claimed, Duration.ofSeconds(10), Duration.ofHours(1))));
    assertThat(inspect.sync().pttl(keys.recordKey(claimed)))
        .as("TTL of a claim: its retention")
        .isBetween(Duration.ofMinutes(59).toMillis(), Duration.ofHours(1).toMillis());

    IdempotencyKey longLease = IdempotencyKey.of(scope, "lease-longer-than-retention");
    acquired(store.claim(request(longLease, Duration.ofHours(2), Duration.ofHours(1))));
    assertThat(inspect.sync().pttl(keys.recordKey(longLease)))
        .as("TTL of a claim whose lease outlasts its retention")
        .isBetween(Duration.ofMinutes(119).toMillis(), Duration.ofHours(2).toMillis());

    store.complete(claimed, token, Outcome.empty(), Duration.ofMinutes(5));
    assertThat(inspect.sync().pttl(keys.recordKey(claimed)))
        .as("TTL after complete: the completion's retention")
        .isBetween(Duration.ofMinutes(4).toMillis(), Duration.ofMinutes(5).toMillis());

    IdempotencyKey brief = IdempotencyKey.of(scope, "brief");
    long briefToken =
        acquired(store.claim(request(brief, Duration.ofSeconds(10), Duration.ofSeconds(10))));
    store.renew(brief, briefToken, Duration.ofMinutes(3));
    assertThat(inspect.sync().pttl(keys.recordKey(brief)))
        .as("TTL after renew: the record outlives its new lease")
        .isBetween(Duration.ofMinutes(2).toMillis(), Duration.ofMinutes(3).toMillis());
    store.complete(brief, briefToken, Outcome.empty(), Duration.ofMillis(300));
    // Redis deletes the record by itself once the retention is over; no purge runs here.
    await("Redis expires the completed record")
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> inspect.sync().exists(keys.recordKey(brief)) == 0);
    acquired(store.claim(request(brief, Duration.ofSeconds(10), Duration.ofMinutes(1))));
  }

  @Test
  void purgeLeavesEverythingThatIsNotARecordAlone() {
    String prefix = prefix("purge-foreign");
    AtomicLong offset = new AtomicLong();
    byte[] notARecord = (prefix + "{not-a-record}").getBytes(StandardCharsets.UTF_8);
    byte[] plainKey = (prefix + "{" + "0".repeat(63) + "}").getBytes(StandardCharsets.UTF_8);
    inspect.sync().set(notARecord, "x".getBytes(StandardCharsets.UTF_8));
    inspect.sync().set(plainKey, "y".getBytes(StandardCharsets.UTF_8));
    try (RedisIdempotencyStore s =
        RedisIdempotencyStore.builder(RedisURI.create(server.uri()))
            .keyPrefix(prefix)
            .clockOffset(() -> Duration.ofMillis(offset.get()))
            .build()) {
      IdempotencyKey key = IdempotencyKey.of(Scope.of("t", "purge"), "k");
      s.complete(
          key,
          acquired(s.claim(request(key, Duration.ofSeconds(10), Duration.ofMinutes(1)))),
          Outcome.empty(),
          Duration.ofMinutes(1));
      assertThat(s.purgeExpired(Integer.MAX_VALUE)).as("nothing expired yet").isZero();

      offset.set(Duration.ofMinutes(2).toMillis());

      assertThat(s.purgeExpired(Integer.MAX_VALUE)).isEqualTo(1);
      assertThat(s.purgeExpired(100)).isZero();
      assertThatThrownBy(() -> s.purgeExpired(0)).isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(inspect.sync().exists(notARecord, plainKey)).isEqualTo(2);
  }

  @Test
  void aStoreOnTheCallersClientLeavesTheClientOpen() {
    RedisClient client = RedisClient.create(server.uri());
    try {
      client.setOptions(RedisIdempotencyStore.clientOptions(Duration.ofSeconds(2)));
      IdempotencyKey key = IdempotencyKey.of(Scope.of("t-" + UUID.randomUUID(), "own-client"), "k");
      try (RedisIdempotencyStore s =
          RedisIdempotencyStore.builder(client)
              .keyPrefix(prefix("own-client"))
              .name("redis-shared")
              .build()) {
        assertThat(s.name()).isEqualTo("redis-shared");
        long token = acquired(s.claim(request(key, Duration.ofSeconds(10), Duration.ofMinutes(1))));
        s.complete(key, token, Outcome.empty(), Duration.ofMinutes(1));
        assertThat(s.claim(request(key, Duration.ofSeconds(10), Duration.ofMinutes(1))))
            .isEqualTo(new ClaimResult.Completed(Outcome.empty()));
      }
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        assertThat(c.sync().ping()).isEqualTo("PONG");
      }
    } finally {
      client.shutdown();
    }
  }

  @Test
  void aCompletionLettuceSendsAgainAfterAReconnectSucceeds() throws Exception {
    // Lettuce's default options (a caller's own client) re-send the commands in flight when the
    // connection closes,
    // so a completion that already ran, its answer lost, reaches Redis a second time.
    try (TcpProxy proxy = TcpProxy.start(server.host(), server.port())) {
      RedisClient client = RedisClient.create("redis://127.0.0.1:" + proxy.port());
      try {
        Throwable failure =
            completeWhileTheConnectionCloses(proxy, RedisIdempotencyStore.builder(client));
        assertThat(failure).as("what the re-sent completion answered").isNull();
      } finally {
        client.shutdown();
      }
    }
  }

  @Test
  void aCompletionInFlightWithTheStoresOwnOptionsFailsAndIsNotSentAgain() throws Exception {
    try (TcpProxy proxy = TcpProxy.start(server.host(), server.port())) {
      Throwable failure =
          completeWhileTheConnectionCloses(
              proxy,
              RedisIdempotencyStore.builder(RedisURI.create("redis://127.0.0.1:" + proxy.port())));
      // Sent again, it would have answered; it failed, so the caller repeats it (done in the
      // helper).
      assertThat(failure)
          .as("what the completion in flight threw")
          .isInstanceOf(StoreUnavailableException.class);
    }
  }

  /**
   * Claims a key, sends its completion with the answer lost on the way, waits until Redis shows it
   * completed, then closes the proxied connection in an orderly way. Returns what the completion
   * threw (null if it succeeded), after checking that repeating it succeeds and that the key
   * replays its outcome.
   */
  private Throwable completeWhileTheConnectionCloses(
      TcpProxy proxy, RedisIdempotencyStore.Builder builder) throws Exception {
    String prefix = prefix("closed-in-flight");
    IdempotencyKey key = IdempotencyKey.of(Scope.of("t-" + UUID.randomUUID(), "in-flight"), "k");
    Outcome outcome = Outcome.of("text/plain", "charged".getBytes(StandardCharsets.UTF_8));
    try (RedisIdempotencyStore s =
        builder.keyPrefix(prefix).commandTimeout(Duration.ofSeconds(30)).build()) {
      long token = acquired(s.claim(request(key, Duration.ofMinutes(1), Duration.ofMinutes(5))));
      proxy.loseReplies();
      CompletableFuture<Void> completion =
          CompletableFuture.runAsync(() -> s.complete(key, token, outcome, Duration.ofMinutes(5)));
      byte[] record = new RedisKeys(prefix).recordKey(key);
      await("the completion ran on Redis")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> "C".equals(hashField(record, "status")));
      proxy.restore();
      proxy.closeConnections();

      Throwable failure = null;
      try {
        completion.get(60, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        failure = e.getCause();
      }
      await("the store reconnected")
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(
              () ->
                  s.claim(request(key, Duration.ofMinutes(1), Duration.ofMinutes(5)))
                      instanceof ClaimResult.Completed);
      s.complete(key, token, outcome, Duration.ofMinutes(5));
      assertThat(s.claim(request(key, Duration.ofMinutes(1), Duration.ofMinutes(5))))
          .isEqualTo(new ClaimResult.Completed(outcome));
      return failure;
    }
  }

  private String hashField(byte[] key, String field) {
    byte[] value = inspect.sync().hget(key, field.getBytes(StandardCharsets.UTF_8));
    return value == null ? null : new String(value, StandardCharsets.UTF_8);
  }

  @Test
  void aClosedStoreRefusesCallsAsUnavailable() {
    RedisIdempotencyStore s =
        RedisIdempotencyStore.builder(RedisURI.create(server.uri()))
            .keyPrefix(prefix("closed"))
            .build();
    s.close();
    s.close(); // idempotent
    IdempotencyKey key = IdempotencyKey.of(Scope.of("t", "closed"), "k");
    assertThatThrownBy(() -> s.claim(request(key, Duration.ofSeconds(1), Duration.ofSeconds(1))))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("closed");
    assertThatThrownBy(() -> s.purgeExpired(1)).isInstanceOf(StoreUnavailableException.class);
  }

  @Test
  void buildingAgainstNothingIsUnavailable() {
    assertThatThrownBy(
            () ->
                RedisIdempotencyStore.builder(RedisURI.create("redis://127.0.0.1:1"))
                    .name("nowhere")
                    .commandTimeout(Duration.ofSeconds(1))
                    .build())
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("'nowhere'");
  }

  @Nested
  class Contract extends IdempotencyStoreContract {
    private final AtomicLong offsetMs = new AtomicLong();
    private final RedisIdempotencyStore contractStore =
        RedisIdempotencyStore.builder(RedisURI.create(server.uri()))
            .keyPrefix(prefix("contract"))
            .clockOffset(() -> Duration.ofMillis(offsetMs.get()))
            .build();

    @AfterAll
    void closeStore() {
      contractStore.close();
    }

    @Override
    protected IdempotencyStore store() {
      return contractStore;
    }

    @Override
    protected void advanceClock(Duration amount) {
      offsetMs.addAndGet(amount.toMillis());
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class SlowExecution extends SlowExecutionContract {
    private final String slowPrefix = prefix("slow");
    private final RedisIdempotencyStore slowStore =
        RedisIdempotencyStore.builder(RedisURI.create(server.uri())).keyPrefix(slowPrefix).build();
    private final RedisIdempotencyStore anHourAhead =
        RedisIdempotencyStore.builder(RedisURI.create(server.uri()))
            .keyPrefix(slowPrefix)
            .clockOffset(() -> Duration.ofHours(1))
            .build();

    @AfterAll
    void closeStores() {
      slowStore.close();
      anHourAhead.close();
    }

    @Override
    protected IdempotencyStore store() {
      return slowStore;
    }

    @Override
    protected IdempotencyStore storeAnHourAhead() {
      return anHourAhead;
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class Outage extends StoreOutageContract {
    private TcpProxy proxy;
    private RedisIdempotencyStore proxiedStore;

    @BeforeAll
    void startProxy() {
      proxy = TcpProxy.start(server.host(), server.port());
      proxiedStore =
          RedisIdempotencyStore.builder(RedisURI.create("redis://127.0.0.1:" + proxy.port()))
              .keyPrefix(prefix("outage"))
              .name("redis-via-proxy")
              .build();
    }

    @AfterAll
    void stopProxy() {
      proxiedStore.close();
      proxy.close();
    }

    @Override
    protected IdempotencyStore store() {
      return proxiedStore;
    }

    @Override
    protected void cutConnection() {
      proxy.cut();
    }

    @Override
    protected void restoreConnection() {
      proxy.restore();
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class LostReply extends LostReplyContract {
    private TcpProxy proxy;
    private RedisIdempotencyStore proxiedStore;
    private RedisIdempotencyStore directStore;

    @BeforeAll
    void startProxy() {
      proxy = TcpProxy.start(server.host(), server.port());
      String lostReplyPrefix = prefix("lost-reply");
      proxiedStore =
          RedisIdempotencyStore.builder(RedisURI.create("redis://127.0.0.1:" + proxy.port()))
              .keyPrefix(lostReplyPrefix)
              .name("redis-via-proxy")
              .build();
      directStore =
          RedisIdempotencyStore.builder(RedisURI.create(server.uri()))
              .keyPrefix(lostReplyPrefix)
              .build();
    }

    @AfterAll
    void stopProxy() {
      proxiedStore.close();
      directStore.close();
      proxy.close();
    }

    @Override
    protected IdempotencyStore store() {
      return proxiedStore;
    }

    @Override
    protected IdempotencyStore directStore() {
      return directStore;
    }

    @Override
    protected void loseReplies() {
      proxy.loseReplies();
    }

    @Override
    protected void cutConnection() {
      proxy.cut();
    }

    @Override
    protected void restoreConnection() {
      proxy.restore();
    }
  }
}
