package dev.once.redis.internal;

import dev.once.Scope;
import dev.once.StoreException;
import dev.once.StoreUnavailableException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.NestedMultiOutput;
import io.lettuce.core.protocol.AsyncCommand;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.protocol.RedisCommand;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Runs the store's scripts by SHA (EVALSHA) on one shared, thread-safe connection. A list of calls
 * goes out as one pipeline: written and flushed together, answered in order, without touching the
 * connection's auto-flush (other threads share it). Scripts are loaded with SCRIPT LOAD when the
 * store starts and again whenever Redis answers NOSCRIPT (it restarted, failed over or had its
 * script cache flushed).
 */
public final class ScriptRunner {

  /**
   * One script call on one record. Arguments are sent as they are: numbers as decimal text, bytes
   * as bytes.
   */
  public record Call(Script script, byte[] key, List<Object> args) {}

  private final StatefulRedisConnection<byte[], byte[]> connection;
  private final Duration timeout;
  private final String storeName;

  public ScriptRunner(
      StatefulRedisConnection<byte[], byte[]> connection, Duration timeout, String storeName) {
    this.connection = connection;
    this.timeout = timeout;
    this.storeName = storeName;
  }

  /** SCRIPT LOAD for every script; checks that Redis names each by the SHA-1 computed here. */
  public void loadScripts(@Nullable Scope scope, String action) {
    List<RedisFuture<String>> loads = new ArrayList<>();
    try {
      for (Script script : Script.ALL) {
        loads.add(connection.async().scriptLoad(script.text()));
      }
    } catch (RuntimeException e) {
      throw RedisErrors.translate(e, storeName, scope, action + " (SCRIPT LOAD)");
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    for (int i = 0; i < loads.size(); i++) {
      String sha = await(loads.get(i), deadline, loads, scope, action + " (SCRIPT LOAD)");
      if (!Script.ALL.get(i).sha().equalsIgnoreCase(sha)) {
        throw new StoreException(
            "SCRIPT LOAD of " + Script.ALL.get(i) + " answered SHA " + sha, storeName, scope, null);
      }
    }
  }

  /**
   * Runs the calls as one pipeline and returns each reply (a list of integers and byte arrays) in
   * call order. Calls that met NOSCRIPT are sent again once after the scripts were reloaded, so the
   * calls must not depend on each other's order (callers send at most one call per record in a
   * pipeline).
   *
   * @throws StoreUnavailableException if Redis cannot be reached or does not answer within the
   *     command timeout
   * @throws StoreException for any other failure
   */
  public List<List<Object>> run(List<Call> calls, @Nullable Scope scope, String action) {
    List<List<Object>> replies = new ArrayList<>(calls.size());
    for (int i = 0; i < calls.size(); i++) {
      replies.add(null);
    }
    List<Integer> pending = new ArrayList<>(calls.size());
    for (int i = 0; i < calls.size(); i++) {
      pending.add(i);
    }
    for (int attempt = 1; !pending.isEmpty(); attempt++) {
      List<AsyncCommand<byte[], byte[], List<Object>>> commands = new ArrayList<>(pending.size());
      for (int i : pending) {
        commands.add(evalsha(calls.get(i)));
      }
      try {
        connection.dispatch(commands);
      } catch (RuntimeException e) {
        throw RedisErrors.translate(e, storeName, scope, action);
      }
      long deadline = System.nanoTime() + timeout.toNanos();
      List<Integer> noScript = new ArrayList<>();
      for (int j = 0; j < commands.size(); j++) {
        try {
          replies.set(pending.get(j), await(commands.get(j), deadline, commands, scope, action));
        } catch (StoreException e) {
          if (attempt == 1 && e.getCause() instanceof RedisNoScriptException) {
            noScript.add(pending.get(j));
          } else {
            cancel(commands);
            throw e;
          }
        }
      }
      if (!noScript.isEmpty()) {
        loadScripts(scope, action);
      }
      pending = noScript;
    }
    return replies;
  }

  /** Waits for a plain command (SCAN) as for a script call. */
  public <T> T await(RedisFuture<T> future, @Nullable Scope scope, String action) {
    return await(future, System.nanoTime() + timeout.toNanos(), List.of(future), scope, action);
  }

  private <T> T await(
      Future<T> future,
      long deadline,
      List<? extends Future<?>> batch,
      @Nullable Scope scope,
      String action) {
    try {
      return future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof RedisNoScriptException) {
        throw new StoreException(
            action + " failed: " + cause.getMessage(), storeName, scope, cause);
      }
      throw RedisErrors.translate(cause, storeName, scope, action);
    } catch (TimeoutException e) {
      cancel(batch);
      throw new StoreUnavailableException(
          action + " got no answer within " + timeout, storeName, scope, e);
    } catch (InterruptedException e) {
      cancel(batch);
      Thread.currentThread().interrupt();
      throw new StoreException(
          action + " was interrupted while waiting for Redis", storeName, scope, e);
    } catch (CancellationException e) {
      throw RedisErrors.translate(e, storeName, scope, action);
    }
  }

  private static void cancel(List<? extends Future<?>> futures) {
    for (Future<?> f : futures) {
      f.cancel(false);
    }
  }

  private static AsyncCommand<byte[], byte[], List<Object>> evalsha(Call call) {
    CommandArgs<byte[], byte[]> args =
        new CommandArgs<>(ByteArrayCodec.INSTANCE)
            .add(call.script().sha())
            .add(1)
            .addKey(call.key());
    for (Object arg : call.args()) {
      if (arg instanceof byte[] bytes) {
        args.add(bytes);
      } else if (arg instanceof Long || arg instanceof Integer) {
        args.add(((Number) arg).longValue());
      } else {
        throw new IllegalArgumentException("script argument of type " + arg.getClass().getName());
      }
    }
    RedisCommand<byte[], byte[], List<Object>> command =
        new Command<>(CommandType.EVALSHA, new NestedMultiOutput<>(ByteArrayCodec.INSTANCE), args);
    return new AsyncCommand<>(command);
  }
}
