package dev.once.redis.internal;

import dev.once.Scope;
import dev.once.StoreException;
import dev.once.StoreUnavailableException;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisException;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.jspecify.annotations.Nullable;

/** Sorts Redis failures into "cannot reach the store" and "the store failed". */
public final class RedisErrors {

  /**
   * Error replies that mean "not now" rather than "never": loading its data after a restart, busy
   * running a script, a replica that cannot write or lost its primary, a cluster that is
   * re-sharding or down, out of memory.
   */
  private static final List<String> UNAVAILABLE_REPLIES =
      List.of("LOADING", "BUSY", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "OOM");

  private RedisErrors() {}

  public static StoreException translate(
      Throwable e, String store, @Nullable Scope scope, String action) {
    if (e instanceof StoreException s) {
      return s;
    }
    String message = action + " failed: " + e;
    return isUnavailable(e)
        ? new StoreUnavailableException(message, store, scope, e)
        : new StoreException(message, store, scope, e);
  }

  /**
   * An error reply from Redis is unavailable only for the transient kinds above; anything Lettuce
   * raises on the client side (not connected and rejecting commands, connection lost or refused,
   * command timed out, queue full, cancelled on disconnect) means the server could not be reached.
   */
  public static boolean isUnavailable(Throwable e) {
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof RedisCommandExecutionException) {
        String reply = t.getMessage() == null ? "" : t.getMessage();
        return UNAVAILABLE_REPLIES.stream().anyMatch(reply::startsWith);
      }
    }
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof RedisException
          || t instanceof IOException
          || t instanceof CancellationException) {
        return true;
      }
    }
    return false;
  }
}
