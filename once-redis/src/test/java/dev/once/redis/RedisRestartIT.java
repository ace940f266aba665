package dev.once.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.LeaseLostException;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.StoreException;
import dev.once.StoreUnavailableException;
import dev.once.redis.internal.Script;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stops a real redis-server (a child process this test starts) with SIGKILL and starts it again:
 * while it is down every call is {@link StoreUnavailableException}; after it returns the same store
 * instance answers truthfully, reloading its scripts when the restarted server has forgotten them.
 */
@Timeout(120)
class RedisRestartIT {

  private static final Fingerprint FP = Fingerprint.of("restart request");
  private static final Duration LEASE = Duration.ofMinutes(10);
  private static final Duration RETENTION = Duration.ofHours(1);

  @TempDir Path dir;

  private final Scope scope = Scope.of("t-" + UUID.randomUUID(), "restart");
  private final AtomicInteger probes = new AtomicInteger();

  @Test
  @DisplayName(
      "AOF with appendfsync always: records survive kill -9; unavailable while down; scripts reloaded after")
  void persistentRedisKeepsItsRecordsAcrossACrash() {
    try (RedisProcess redis = RedisProcess.start(dir, true);
        RedisIdempotencyStore store = storeOn(redis)) {
      System.out.println("[once-redis] RedisRestartIT: " + redis);
      IdempotencyKey held = key("held");
      IdempotencyKey done = key("done");
      long heldToken = acquired(store.claim(request(held)));
      Outcome doneOutcome = Outcome.of("text/plain", "completed before the crash".getBytes());
      store.complete(done, acquired(store.claim(request(done))), doneOutcome, RETENTION);

      redis.kill();
      assertUnavailableWhileDown(store, held, heldToken);

      redis.restart();
      // Redis 7 forgets its scripts on restart (Redis 6 replays SCRIPT LOAD from the AOF): either
      // way works.
      awaitRecovery(store);

      assertThat(store.claim(request(done))).isEqualTo(new ClaimResult.Completed(doneOutcome));
      assertThat(store.claim(request(held)))
          .isInstanceOfSatisfying(
              ClaimResult.InProgress.class,
              p -> assertThat(p.retryAfter()).isPositive().isLessThanOrEqualTo(LEASE));
      // The owner whose complete failed while Redis was down still owns the key and can finish.
      Outcome heldOutcome = Outcome.of("text/plain", "completed after the restart".getBytes());
      store.complete(held, heldToken, heldOutcome, RETENTION);
      assertThat(store.claim(request(held))).isEqualTo(new ClaimResult.Completed(heldOutcome));
    }
  }

  @Test
  @DisplayName("memory only: after kill -9 the records are gone, and the store says so truthfully")
  void redisWithoutPersistenceForgetsItsRecordsAndSaysSo() {
    try (RedisProcess redis = RedisProcess.start(dir, false);
        RedisIdempotencyStore store = storeOn(redis)) {
      System.out.println("[once-redis] RedisRestartIT: " + redis);
      IdempotencyKey held = key("held");
      IdempotencyKey done = key("done");
      long heldToken = acquired(store.claim(request(held)));
      store.complete(done, acquired(store.claim(request(done))), Outcome.empty(), RETENTION);

      redis.kill();
      assertUnavailableWhileDown(store, held, heldToken);

      redis.restart();
      assertThat(scriptsLoaded(redis)).as("scripts cached by the restarted server").isFalse();
      awaitRecovery(store);
      assertThat(scriptsLoaded(redis)).as("scripts reloaded after NOSCRIPT").isTrue();

      // The server lost its memory: both keys are absent now, and a retry of either runs again.
      // That is the
      // documented limit of Redis without persistence, not a store error.
      long again = acquired(store.claim(request(held)));
      acquired(store.claim(request(done)));
      // Fencing survives the loss: the new token is larger (Redis's clock did not go back), and the
      // owner from
      // before the crash cannot complete over the new one.
      assertThat(again).as("token after the restart").isGreaterThan(heldToken);
      assertThatThrownBy(() -> store.complete(held, heldToken, Outcome.empty(), RETENTION))
          .isInstanceOf(LeaseLostException.class);
      store.complete(held, again, Outcome.empty(), RETENTION);
    }
  }

  @Test
  @DisplayName(
      "SCRIPT FLUSH: every step reloads its script on NOSCRIPT, a batch with a repeated key included")
  void scriptsAreReloadedWhenTheScriptCacheIsFlushed() {
    try (RedisProcess redis = RedisProcess.start(dir, false);
        RedisIdempotencyStore store = storeOn(redis)) {
      IdempotencyKey k1 = key("k1");
      IdempotencyKey k2 = key("k2");

      flushScripts(redis);
      List<ClaimResult> batch = store.claimAll(List.of(request(k1), request(k2), request(k1)));
      assertThat(batch.get(0)).isInstanceOf(ClaimResult.Acquired.class);
      assertThat(batch.get(1)).isInstanceOf(ClaimResult.Acquired.class);
      assertThat(batch.get(2)).isInstanceOf(ClaimResult.InProgress.class);
      long t1 = ((ClaimResult.Acquired) batch.get(0)).token();
      long t2 = ((ClaimResult.Acquired) batch.get(1)).token();

      flushScripts(redis);
      store.renew(k1, t1, LEASE);
      flushScripts(redis);
      store.release(k2, t2);
      flushScripts(redis);
      store.complete(k1, t1, Outcome.empty(), RETENTION);
      flushScripts(redis);
      assertThat(store.purgeExpired(10)).isZero();
      flushScripts(redis);
      assertThat(store.claim(request(k1))).isEqualTo(new ClaimResult.Completed(Outcome.empty()));
      assertThat(store.claim(request(k2))).isInstanceOf(ClaimResult.Acquired.class);
      assertThat(scriptsLoaded(redis)).isTrue();
    }
  }

  private static RedisIdempotencyStore storeOn(RedisProcess redis) {
    return RedisIdempotencyStore.builder(RedisURI.create(redis.uri()))
        .name("redis-restart")
        .build();
  }

  private void assertUnavailableWhileDown(
      RedisIdempotencyStore store, IdempotencyKey held, long heldToken) {
    assertUnavailable(store, () -> store.claim(request(key("claimed-while-down"))));
    assertUnavailable(store, () -> store.complete(held, heldToken, Outcome.empty(), RETENTION));
    assertUnavailable(store, () -> store.claimAll(List.of(request(key("a")), request(held))));
    assertUnavailable(store, () -> store.renew(held, heldToken, LEASE));
    assertUnavailable(store, () -> store.release(held, heldToken));
    assertUnavailable(store, () -> store.purgeExpired(10));
  }

  private static void assertUnavailable(RedisIdempotencyStore store, Runnable call) {
    Throwable thrown = catchThrowable(call::run);
    assertThat(thrown)
        .as("what a call threw while Redis was down")
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("'" + store.name() + "'");
  }

  private void awaitRecovery(RedisIdempotencyStore store) {
    await("the store serves claims again after Redis restarted")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptionsInstanceOf(StoreException.class)
        .until(
            () ->
                store.claim(request(key("probe-" + probes.incrementAndGet())))
                    instanceof ClaimResult.Acquired);
  }

  /** Whether the server has every script of the store in its script cache. */
  private static boolean scriptsLoaded(RedisProcess redis) {
    String[] shas = Script.ALL.stream().map(Script::sha).toArray(String[]::new);
    boolean[] all = {true};
    onServer(redis, c -> c.sync().scriptExists(shas).forEach(exists -> all[0] &= exists));
    return all[0];
  }

  private static void flushScripts(RedisProcess redis) {
    onServer(redis, c -> assertThat(c.sync().scriptFlush()).isEqualTo("OK"));
    assertThat(scriptsLoaded(redis)).isFalse();
  }

  private static void onServer(
      RedisProcess redis, Consumer<StatefulRedisConnection<String, String>> work) {
    RedisClient client = RedisClient.create(redis.uri());
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      work.accept(c);
    } finally {
      client.shutdown();
    }
  }

  private IdempotencyKey key(String value) {
    return IdempotencyKey.of(scope, value);
  }

  private static ClaimRequest request(IdempotencyKey key) {
    return new ClaimRequest(key, FP, LEASE, RETENTION);
  }

  private static long acquired(ClaimResult result) {
    assertThat(result).as("claim answer").isInstanceOf(ClaimResult.Acquired.class);
    return ((ClaimResult.Acquired) result).token();
  }
}
