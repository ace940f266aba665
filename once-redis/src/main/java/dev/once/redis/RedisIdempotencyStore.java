package dev.once.redis;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Completion;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.LeaseLostException;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.StoreAdmin;
import dev.once.StoreException;
import dev.once.StoreUnavailableException;
import dev.once.redis.internal.RedisErrors;
import dev.once.redis.internal.RedisKeys;
import dev.once.redis.internal.Replies;
import dev.once.redis.internal.Script;
import dev.once.redis.internal.ScriptRunner;
import dev.once.redis.internal.ScriptRunner.Call;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * An {@link IdempotencyStore} in Redis, on Lettuce: one hash per record, and each step (claim,
 * complete, release, renew) one Lua script that Redis runs atomically.
 *
 * <pre>{@code
 * RedisIdempotencyStore store = RedisIdempotencyStore.builder(RedisURI.create("redis://localhost:6379"))
 *     .keyPrefix("payments:once:")          // optional, default "once:"
 *     .commandTimeout(Duration.ofSeconds(2))  // optional, default 2 s
 *     .build();                               // connects and loads the scripts
 *
 * Once once = Once.builder(store).lease(Duration.ofSeconds(30)).build();
 * Execution<String> e = once.execute(key, Fingerprint.of(body), ResultCodec.utf8(), () -> mailer.send(body));
 * ...
 * store.close();                              // at shutdown
 * }</pre>
 *
 * <p><b>Lease mode only.</b> A claim in Redis cannot commit with a database transaction, and what
 * survives a Redis crash or failover depends on its persistence and replication settings: see
 * {@code docs/guarantees.md}.
 *
 * <p><b>Atomic steps, Redis's clock.</b> The scripts are loaded once (SCRIPT LOAD) and called by
 * SHA (EVALSHA); after a Redis restart or failover they are reloaded on the first NOSCRIPT. Each
 * script checks the fingerprint or the fencing token, decides with Redis's own clock ({@code
 * TIME}), and sets the record's time to live itself ({@code PEXPIRE}), so clock skew between
 * application nodes never matters. Fencing tokens are Redis's time in microseconds, or the record's
 * previous token + 1 if that is larger: they grow across a release or purge as long as Redis's
 * clock does not go back.
 *
 * <p><b>Keys.</b> Record {@code k} lives at {@code keyPrefix + "{" + k.digestHex() + "}"}: the raw
 * key and the tenant never reach Redis, and the braces are a Redis Cluster hash tag that keeps a
 * record in one slot. {@link #claimAll} sends the claims of distinct keys as one pipeline; a key
 * repeated in the batch is claimed in a following pipeline, after the earlier occurrence.
 *
 * <p><b>Expiry.</b> Redis deletes each record by its TTL, so {@link #purgeExpired} is rarely
 * needed: it is a bounded sweep (SCAN over the prefix, a check-and-delete script per key) for
 * records that are logically expired but not yet deleted, which happens only when the store's clock
 * is shifted ({@link Builder#clockOffset}).
 *
 * <p><b>Failures.</b> While Redis cannot be reached, every call fails at once with {@link
 * StoreUnavailableException} (with {@link #clientOptions(Duration)}, commands are rejected while
 * disconnected, not queued), or after the command timeout if Redis stops answering. Lettuce
 * reconnects by itself; nothing needs to be rebuilt. Thread-safe; all threads share one multiplexed
 * connection.
 *
 * <p><b>A failed call may have run.</b> When the connection drops, a script already sent may have
 * run on Redis with only its answer lost: the call fails with {@link StoreUnavailableException},
 * and the caller cannot tell. With {@link #clientOptions(Duration)} Lettuce fails such commands and
 * does not send them again; with Lettuce's default options (a client of your own), it re-sends the
 * commands in flight and those queued while disconnected once it has reconnected (at-least-once),
 * so a script can run twice. Both are safe: a {@link #complete} repeated with the same token and
 * outcome succeeds, a renewal repeated extends the same lease, and a claim that ran twice answers
 * {@link ClaimResult.InProgress} to its own caller, whose key then waits for its lease to end. Only
 * a repeated {@link #release} reports {@link LeaseLostException}, as the record it deleted is gone.
 */
public final class RedisIdempotencyStore implements IdempotencyStore, AutoCloseable {

  /** Keys scanned per SCAN round trip in {@link #purgeExpired}. */
  private static final int SCAN_COUNT = 1000;

  private final String name;
  private final RedisKeys keys;
  private final Supplier<Duration> clockOffset;
  private final Duration commandTimeout;
  private final @Nullable RedisClient ownedClient;
  private final @Nullable ClientResources ownedResources;
  private final StatefulRedisConnection<byte[], byte[]> connection;
  private final ScriptRunner scripts;
  private volatile boolean closed;

  private RedisIdempotencyStore(
      Builder b,
      @Nullable RedisClient client,
      @Nullable ClientResources resources,
      StatefulRedisConnection<byte[], byte[]> connection) {
    this.name = b.name;
    this.keys = new RedisKeys(b.keyPrefix);
    this.clockOffset = b.clockOffset;
    this.commandTimeout = b.commandTimeout;
    this.ownedClient = client;
    this.ownedResources = resources;
    this.connection = connection;
    this.scripts = new ScriptRunner(connection, b.commandTimeout, b.name);
  }

  /**
   * A store that creates and owns its own {@link RedisClient} for {@code uri}, with {@link
   * #clientOptions(Duration)} and reconnect attempts backing off to at most one second apart;
   * {@link #close()} shuts it down.
   *
   * @param uri the Redis server; not {@code null}
   * @return a new builder
   */
  public static Builder builder(RedisURI uri) {
    return new Builder(Objects.requireNonNull(uri, "uri"), null);
  }

  /**
   * A store that opens its own connection on your client (which must have been created with a
   * {@link RedisURI}). {@link #close()} closes that connection and leaves the client to you. The
   * client's options apply: give it {@link #clientOptions(Duration)} so that calls fail at once
   * while Redis is unreachable instead of waiting in a queue for the command timeout.
   *
   * @param client your client; not {@code null}
   * @return a new builder
   */
  public static Builder builder(RedisClient client) {
    return new Builder(null, Objects.requireNonNull(client, "client"));
  }

  /**
   * The Lettuce options this store is built for: reconnect automatically, reject commands while
   * disconnected (so a call during an outage fails at once with {@link StoreUnavailableException}
   * instead of waiting in a queue to be sent after the reconnect; a command in flight when the
   * connection drops fails too, though it may have run), and time out connects and commands after
   * {@code commandTimeout}.
   *
   * @param commandTimeout the connect and command timeout; at least 1 ms
   * @return the options
   * @throws IllegalArgumentException if {@code commandTimeout} is shorter than 1 ms
   */
  public static ClientOptions clientOptions(Duration commandTimeout) {
    requirePositive("commandTimeout", commandTimeout);
    return ClientOptions.builder()
        .autoReconnect(true)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .socketOptions(
            SocketOptions.builder().connectTimeout(commandTimeout).keepAlive(true).build())
        .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
        .build();
  }

  @Override
  public String name() {
    return name;
  }

  /** {@return the prefix of every key this store writes} */
  public String keyPrefix() {
    return keys.prefix();
  }

  private long offsetMs() {
    return clockOffset.get().toMillis();
  }

  @Override
  public ClaimResult claim(ClaimRequest request) {
    return claimAll(List.of(request)).get(0);
  }

  @Override
  public List<ClaimResult> claimAll(List<ClaimRequest> requests) {
    if (requests.isEmpty()) {
      return List.of();
    }
    Scope scope = requests.get(0).key().scope();
    checkOpen(scope);
    long offset = offsetMs();
    ClaimResult[] results = new ClaimResult[requests.size()];
    for (List<Integer> round : rounds(requests.stream().map(ClaimRequest::key).toList())) {
      List<Call> calls = new ArrayList<>(round.size());
      for (int i : round) {
        ClaimRequest r = requests.get(i);
        calls.add(
            new Call(
                Script.CLAIM,
                keys.recordKey(r.key()),
                List.of(
                    r.fingerprint().digest(),
                    r.lease().toMillis(),
                    r.retention().toMillis(),
                    offset)));
      }
      List<List<Object>> replies = scripts.run(calls, scope, "claim");
      for (int j = 0; j < round.size(); j++) {
        results[round.get(j)] = claimResult(replies.get(j), scope);
      }
    }
    return Arrays.asList(results);
  }

  /**
   * Splits a batch into pipelines of distinct keys: the first occurrence of every key, then the
   * second, and so on. Each pipeline runs after the previous one answered, so a repeated key sees
   * the earlier claim; within one pipeline the order does not matter, so calls that met NOSCRIPT
   * can safely be sent again.
   */
  private static List<List<Integer>> rounds(List<IdempotencyKey> keys) {
    if (keys.size() == 1) {
      return List.of(List.of(0));
    }
    List<List<Integer>> rounds = new ArrayList<>();
    Map<String, Integer> occurrences = new HashMap<>();
    for (int i = 0; i < keys.size(); i++) {
      int n = occurrences.merge(keys.get(i).digestHex(), 1, Integer::sum);
      if (rounds.size() < n) {
        rounds.add(new ArrayList<>());
      }
      rounds.get(n - 1).add(i);
    }
    return rounds;
  }

  @Override
  public void complete(IdempotencyKey key, long token, Outcome outcome, Duration retention) {
    Objects.requireNonNull(outcome, "outcome");
    requirePositive("retention", retention);
    runOnRecord(
        key,
        token,
        "complete",
        Script.COMPLETE,
        List.of(token, outcome.toBytes(), retention.toMillis(), offsetMs()));
  }

  /**
   * One pipeline of complete scripts (a key repeated in the list goes in a later pipeline, in list
   * order).
   */
  @Override
  public void completeAll(List<Completion> completions) {
    if (completions.isEmpty()) {
      return;
    }
    Scope scope = completions.get(0).key().scope();
    checkOpen(scope);
    long offset = offsetMs();
    LeaseLostException first = null;
    int firstIndex = Integer.MAX_VALUE;
    for (List<Integer> round : rounds(completions.stream().map(Completion::key).toList())) {
      List<Call> calls = new ArrayList<>(round.size());
      for (int i : round) {
        Completion c = completions.get(i);
        calls.add(
            new Call(
                Script.COMPLETE,
                keys.recordKey(c.key()),
                List.of(c.token(), c.outcome().toBytes(), c.retention().toMillis(), offset)));
      }
      List<List<Object>> replies = scripts.run(calls, scope, "complete");
      for (int j = 0; j < round.size(); j++) {
        Completion c = completions.get(round.get(j));
        if (!done(replies.get(j), c.key().scope(), "complete") && round.get(j) < firstIndex) {
          firstIndex = round.get(j);
          first = new LeaseLostException(c.key().scope(), name, c.token(), "complete");
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  @Override
  public void release(IdempotencyKey key, long token) {
    runOnRecord(key, token, "release", Script.RELEASE, List.of(token, offsetMs()));
  }

  @Override
  public void renew(IdempotencyKey key, long token, Duration lease) {
    requirePositive("lease", lease);
    runOnRecord(key, token, "renew", Script.RENEW, List.of(token, lease.toMillis(), offsetMs()));
  }

  private void runOnRecord(
      IdempotencyKey key, long token, String action, Script script, List<Object> args) {
    checkOpen(key.scope());
    List<Object> reply =
        scripts
            .run(List.of(new Call(script, keys.recordKey(key), args)), key.scope(), action)
            .get(0);
    if (!done(reply, key.scope(), action)) {
      throw new LeaseLostException(key.scope(), name, token, action);
    }
  }

  /**
   * Deletes at most {@code limit} records under this store's prefix whose retention is over and
   * that hold no live lease. Redis's own TTL deletes records on time, so in production this finds
   * little; it walks the whole prefix with SCAN ({@value #SCAN_COUNT} keys per step) and checks and
   * deletes each candidate with one script, so a call costs one pass over the prefix's keys.
   */
  @Override
  public int purgeExpired(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be positive, but was " + limit);
    }
    checkOpen(null);
    long offset = offsetMs();
    ScanArgs match = ScanArgs.Builder.matches(keys.scanPattern()).limit(SCAN_COUNT);
    int deleted = 0;
    ScanCursor cursor = ScanCursor.INITIAL;
    do {
      KeyScanCursor<byte[]> page;
      try {
        page = scripts.await(connection.async().scan(cursor, match), null, "purge (SCAN)");
      } catch (RuntimeException e) {
        throw RedisErrors.translate(e, name, null, "purge (SCAN)");
      }
      List<byte[]> candidates = new ArrayList<>();
      for (byte[] key : page.getKeys()) {
        if (keys.isRecordKey(key)) {
          candidates.add(key);
        }
      }
      int next = 0;
      while (next < candidates.size() && deleted < limit) {
        // Never more checks in flight than deletions still allowed, so at most `limit` are deleted.
        int end = next + Math.min(candidates.size() - next, limit - deleted);
        List<Call> calls = new ArrayList<>(end - next);
        for (byte[] key : candidates.subList(next, end)) {
          calls.add(new Call(Script.PURGE, key, List.of(offset)));
        }
        for (List<Object> reply : scripts.run(calls, null, "purge")) {
          if (done(reply, null, "purge")) {
            deleted++;
          }
        }
        next = end;
      }
      cursor = page;
    } while (deleted < limit && !cursor.isFinished());
    return deleted;
  }

  /**
   * {@inheritDoc} The check is a {@code PING}; counting walks the whole prefix with SCAN and reads
   * each record with one script, like {@link #purgeExpired}.
   */
  @Override
  public StoreAdmin admin() {
    return new StoreAdmin() {
      @Override
      public void check() {
        checkOpen(null);
        try {
          scripts.await(connection.async().ping(), null, "check (PING)");
        } catch (RuntimeException e) {
          throw RedisErrors.translate(e, name, null, "check (PING)");
        }
      }

      @Override
      public Optional<RecordInfo> inspect(IdempotencyKey key) {
        checkOpen(key.scope());
        List<Object> reply =
            scripts
                .run(
                    List.of(new Call(Script.INSPECT, keys.recordKey(key), List.of(offsetMs(), 1))),
                    key.scope(),
                    "inspect")
                .get(0);
        return recordInfo(reply, key.scope());
      }

      @Override
      public boolean forceRelease(IdempotencyKey key) {
        checkOpen(key.scope());
        List<Object> reply =
            scripts
                .run(
                    List.of(new Call(Script.FORCE_RELEASE, keys.recordKey(key), List.of())),
                    key.scope(),
                    "force release")
                .get(0);
        return done(reply, key.scope(), "force release");
      }

      @Override
      public RecordCounts count() {
        checkOpen(null);
        long offset = offsetMs();
        ScanArgs match = ScanArgs.Builder.matches(keys.scanPattern()).limit(SCAN_COUNT);
        long inProgress = 0;
        long completed = 0;
        long expired = 0;
        ScanCursor cursor = ScanCursor.INITIAL;
        do {
          KeyScanCursor<byte[]> page;
          try {
            page = scripts.await(connection.async().scan(cursor, match), null, "count (SCAN)");
          } catch (RuntimeException e) {
            throw RedisErrors.translate(e, name, null, "count (SCAN)");
          }
          List<Call> calls = new ArrayList<>();
          for (byte[] key : page.getKeys()) {
            if (keys.isRecordKey(key)) {
              calls.add(new Call(Script.INSPECT, key, List.of(offset, 0)));
            }
          }
          for (List<Object> reply : scripts.run(calls, null, "count")) {
            if (reply.isEmpty()) {
              continue; // deleted between the SCAN and the read
            }
            Optional<RecordInfo> info = recordInfo(reply, null);
            if (info.isEmpty()) {
              expired++;
            } else if (info.get().state() == StoreAdmin.State.COMPLETED) {
              completed++;
            } else {
              inProgress++;
            }
          }
          cursor = page;
        } while (!cursor.isFinished());
        return new RecordCounts(inProgress, completed, expired);
      }
    };
  }

  /** An inspect reply as the operator's view: empty if absent or dead (what a claim ignores). */
  private Optional<StoreAdmin.RecordInfo> recordInfo(List<Object> reply, @Nullable Scope scope) {
    if (reply.isEmpty()) {
      return Optional.empty();
    }
    try {
      String status = text(reply.get(0));
      long token = Long.parseLong(text(reply.get(1)));
      long leaseUntil = Long.parseLong(text(reply.get(2)));
      long expiresAt = Long.parseLong(text(reply.get(3)));
      long now = (Long) reply.get(4);
      boolean completed = status.equals("C");
      if (expiresAt <= now && (completed || leaseUntil <= now)) {
        return Optional.empty();
      }
      return Optional.of(
          new StoreAdmin.RecordInfo(
              completed ? StoreAdmin.State.COMPLETED : StoreAdmin.State.IN_PROGRESS,
              token,
              completed ? null : Instant.ofEpochMilli(leaseUntil),
              Instant.ofEpochMilli(expiresAt),
              completed && reply.size() > 5 ? Outcome.fromBytes((byte[]) reply.get(5)) : null));
    } catch (RuntimeException e) {
      throw new StoreException("inspect: unexpected reply: " + e, name, scope, e);
    }
  }

  private static String text(Object bulk) {
    return new String((byte[]) bulk, StandardCharsets.UTF_8);
  }

  private ClaimResult claimResult(List<Object> reply, Scope scope) {
    try {
      return Replies.claim(reply);
    } catch (IllegalStateException e) {
      throw new StoreException("claim: " + e.getMessage(), name, scope, e);
    }
  }

  private boolean done(List<Object> reply, @Nullable Scope scope, String action) {
    try {
      return Replies.done(reply);
    } catch (IllegalStateException e) {
      throw new StoreException(action + ": " + e.getMessage(), name, scope, e);
    }
  }

  private void checkOpen(@Nullable Scope scope) {
    if (closed) {
      throw new StoreUnavailableException("the store was closed", name, scope, null);
    }
  }

  /**
   * Closes the store's connection, and the client and its resources if the store created them.
   * Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      connection.close();
    } finally {
      RedisClient client = ownedClient;
      ClientResources resources = ownedResources;
      if (client != null && resources != null) {
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        shutDown(resources, name);
      }
    }
  }

  /**
   * Shuts down client resources the store created and waits until their threads have stopped (at
   * most about 2 s): shutdown itself only starts it, and a store that returned from {@link
   * #close()} with Netty's threads still running would keep a stopping application alive and leak
   * them in tests that open and close many stores.
   */
  private static void shutDown(ClientResources resources, String storeName) {
    try {
      // Read as the JDK's Future: the store depends on Lettuce, not on the Netty beneath it.
      Future<Boolean> shutdown = resources.shutdown(0, 2, TimeUnit.SECONDS);
      shutdown.get();
    } catch (InterruptedException e) {
      // Closing stops waiting but keeps the interrupt for the caller to act on.
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      throw new StoreException(
          "could not shut down the Redis client's resources", storeName, null, e.getCause());
    }
  }

  @Override
  public String toString() {
    return "RedisIdempotencyStore["
        + name
        + ", prefix '"
        + keys.prefix()
        + "', timeout "
        + commandTimeout
        + "]";
  }

  private static void requirePositive(String name, Duration value) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.toMillis() < 1) {
      throw new IllegalArgumentException(name + " must be at least 1 ms, but was " + value);
    }
  }

  /** Builds a {@link RedisIdempotencyStore}; every setter rejects a bad value at once. */
  public static final class Builder {
    private final @Nullable RedisURI uri;
    private final @Nullable RedisClient client;
    private String keyPrefix = "once:";
    private String name = "redis";
    private Duration commandTimeout = Duration.ofSeconds(2);
    private Supplier<Duration> clockOffset = () -> Duration.ZERO;

    private Builder(@Nullable RedisURI uri, @Nullable RedisClient client) {
      this.uri = uri;
      this.client = client;
    }

    /**
     * Prepended to every key the store writes; records are {@code keyPrefix + "{" + digest + "}"}.
     * Must not hold {@code '{'} or {@code '}'} (they would change the Redis Cluster slot) or
     * control characters; at most 256 characters. Give each application or environment sharing a
     * Redis its own. Default {@code "once:"}.
     *
     * @param keyPrefix the prefix
     * @return this builder
     * @throws IllegalArgumentException if the prefix breaks one of these rules
     */
    public Builder keyPrefix(String keyPrefix) {
      RedisKeys.checkPrefix(keyPrefix);
      this.keyPrefix = keyPrefix;
      return this;
    }

    /**
     * The name in messages and metrics. Default {@code "redis"}.
     *
     * @param name not {@code null}
     * @return this builder
     */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /**
     * How long a call waits for Redis before it fails with {@link StoreUnavailableException}; also
     * the connect timeout of a client the store creates. Default 2 s.
     *
     * @param commandTimeout at least 1 ms
     * @return this builder
     * @throws IllegalArgumentException if {@code commandTimeout} is shorter than 1 ms
     */
    public Builder commandTimeout(Duration commandTimeout) {
      requirePositive("commandTimeout", commandTimeout);
      this.commandTimeout = commandTimeout;
      return this;
    }

    /**
     * Shifts Redis's clock as this store's scripts see it, for tests that move time (leases,
     * retention). The supplier is read on every call. TTLs stay relative, so a shifted record still
     * expires in Redis no later than it would unshifted. Default: no shift.
     *
     * @param offset added to Redis's clock; not {@code null}
     * @return this builder
     */
    public Builder clockOffset(Supplier<Duration> offset) {
      this.clockOffset = Objects.requireNonNull(offset, "clockOffset");
      return this;
    }

    /**
     * Connects and loads the scripts.
     *
     * @return the store; thread-safe. Close it when done.
     * @throws StoreUnavailableException if Redis cannot be reached
     * @throws StoreException if it answers the script loads wrongly
     */
    public RedisIdempotencyStore build() {
      ClientResources resources = null;
      RedisClient c = client;
      if (c == null) {
        resources =
            DefaultClientResources.builder()
                .reconnectDelay(
                    Delay.exponential(
                        Duration.ZERO, Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                .build();
        c = RedisClient.create(resources, uri);
        c.setOptions(clientOptions(commandTimeout));
      }
      StatefulRedisConnection<byte[], byte[]> connection = null;
      try {
        connection = c.connect(ByteArrayCodec.INSTANCE);
        connection.setTimeout(commandTimeout);
        RedisIdempotencyStore store =
            new RedisIdempotencyStore(this, client == null ? c : null, resources, connection);
        store.scripts.loadScripts(null, "start");
        return store;
      } catch (RuntimeException e) {
        if (connection != null) {
          connection.close();
        }
        if (resources != null) {
          c.shutdown();
          try {
            shutDown(resources, name);
          } catch (RuntimeException shutdownFailure) {
            e.addSuppressed(shutdownFailure);
          }
        }
        if (e instanceof IllegalStateException || e instanceof IllegalArgumentException) {
          throw e; // a misconfigured client (e.g. created without a RedisURI), not an unreachable
          // server
        }
        throw RedisErrors.translate(e, name, null, "connect");
      }
    }
  }
}
