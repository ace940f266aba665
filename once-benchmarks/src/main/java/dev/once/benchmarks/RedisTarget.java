package dev.once.benchmarks;

import dev.once.IdempotencyKey;
import dev.once.redis.RedisIdempotencyStore;
import dev.once.testkit.servers.TestRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.AsyncCommand;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Redis, found or started by the test kit, in database {@value #DATABASE} (emptied with FLUSHDB
 * before every repetition and at the end). One Lettuce client serves the ceiling and Once's store;
 * each has one shared, multiplexed connection, as the store is meant to be used. The ceiling is
 * {@code SET key 1 NX PX ttl}: one synchronous call per key, or a batch written as one pipeline
 * (one flush) and awaited, as the store sends {@code claimAll}.
 */
final class RedisTarget extends Target {

  static final int DATABASE = 9;
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final byte[] ONE = "1".getBytes(StandardCharsets.US_ASCII);

  private final TestRedis server;
  private final RedisClient client;
  private final StatefulRedisConnection<byte[], byte[]> raw;

  RedisTarget(TestRedis server) {
    this.server = server;
    this.client =
        RedisClient.create(
            RedisURI.builder()
                .withHost(server.host())
                .withPort(server.port())
                .withDatabase(DATABASE)
                .withTimeout(TIMEOUT)
                .build());
    client.setOptions(RedisIdempotencyStore.clientOptions(TIMEOUT));
    this.raw = client.connect(ByteArrayCodec.INSTANCE);
    flush();
  }

  private void flush() {
    raw.sync().flushdb();
  }

  private RedisIdempotencyStore store() {
    return RedisIdempotencyStore.builder(client)
        .keyPrefix("once-bench:")
        .commandTimeout(TIMEOUT)
        .build();
  }

  @Override
  String name() {
    return "Redis";
  }

  @Override
  String where() {
    return server.description() + ", database " + DATABASE;
  }

  @Override
  String version() {
    return "Redis " + info("redis_version");
  }

  @Override
  List<String> settings() {
    List<String> out = new ArrayList<>();
    for (String name : new String[] {"appendonly", "appendfsync", "save"}) {
      try {
        List<String> kv = new ArrayList<>();
        raw.sync()
            .configGet(name)
            .forEach((k, v) -> kv.add(k + " = " + (v.isEmpty() ? "\"\"" : v)));
        out.addAll(kv);
      } catch (RuntimeException e) {
        out.add(name + ": not readable (" + e.getMessage() + ")");
      }
    }
    return out;
  }

  private String info(String field) {
    for (String line : raw.sync().info("server").split("\r?\n")) {
      if (line.startsWith(field + ":")) {
        return line.substring(field.length() + 1).strip();
      }
    }
    return "unknown";
  }

  @Override
  ProcCpu.Source serverCpu() {
    if (!Benchmarks.isLoopback(server.host())) {
      return ProcCpu.none(
          "not counted: the server runs at " + server.host() + ", not on this machine");
    }
    OptionalLong pid;
    try {
      pid = OptionalLong.of(Long.parseLong(info("process_id")));
    } catch (RuntimeException e) {
      pid = OptionalLong.empty();
    }
    return ProcCpu.process(
        pid, "redis-server", "not counted: INFO server named no readable process_id");
  }

  @Override
  String ceilingLabel(int batch) {
    return batch == 1 ? "SET NX PX, sync" : "SET NX PX, pipelined";
  }

  @Override
  Scenario.Factory ceiling(int batch) {
    long ttl = OnceVariants.RETENTION.toMillis();
    return ds ->
        new Variant() {
          @Override
          public void reset() {
            flush();
          }

          @Override
          public void process(List<IdempotencyKey> keys, Answers answers)
              throws InterruptedException, ExecutionException, TimeoutException {
            if (keys.size() == 1) {
              count(raw.sync().set(key(keys.get(0)), ONE, SetArgs.Builder.nx().px(ttl)), answers);
              return;
            }
            List<AsyncCommand<byte[], byte[], String>> commands = new ArrayList<>(keys.size());
            for (IdempotencyKey k : keys) {
              CommandArgs<byte[], byte[]> args =
                  new CommandArgs<>(ByteArrayCodec.INSTANCE)
                      .addKey(key(k))
                      .addValue(ONE)
                      .add("NX")
                      .add("PX")
                      .add(ttl);
              commands.add(
                  new AsyncCommand<>(
                      new Command<>(
                          CommandType.SET, new StatusOutput<>(ByteArrayCodec.INSTANCE), args)));
            }
            raw.dispatch(commands);
            for (AsyncCommand<byte[], byte[], String> c : commands) {
              count(c.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS), answers);
            }
          }
        };
  }

  /** The same key layout as the store: a prefix and the digest's hex. */
  private static byte[] key(IdempotencyKey k) {
    return ("bench-raw:{" + k.digestHex() + "}").getBytes(StandardCharsets.US_ASCII);
  }

  private static void count(String reply, Answers answers) {
    if ("OK".equals(reply)) {
      answers.fresh++;
    } else if (reply == null) {
      answers.duplicate++;
    } else {
      answers.other(reply);
    }
  }

  @Override
  Scenario.Factory onceClaim(int batch) {
    return ds -> closing(store(), s -> OnceVariants.claim(() -> s, this::flush));
  }

  @Override
  Scenario.Factory onceCycle(int batch) {
    return ds -> closing(store(), s -> OnceVariants.cycle(() -> s, this::flush));
  }

  /** A variant that closes its store's connection when it is closed. */
  private static Variant closing(
      RedisIdempotencyStore store,
      java.util.function.Function<RedisIdempotencyStore, Variant> variant) {
    Variant v = variant.apply(store);
    return new Variant() {
      @Override
      public void reset() throws Exception {
        v.reset();
      }

      @Override
      public void process(List<IdempotencyKey> keys, Answers answers) throws Exception {
        v.process(keys, answers);
      }

      @Override
      public void close() {
        store.close();
      }
    };
  }

  @Override
  public void close() {
    try {
      flush();
    } finally {
      raw.close();
      client.shutdown();
    }
  }
}
