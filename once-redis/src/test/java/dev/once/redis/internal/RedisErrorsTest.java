package dev.once.redis.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.Scope;
import dev.once.StoreException;
import dev.once.StoreUnavailableException;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisLoadingException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisReadOnlyException;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;

class RedisErrorsTest {

  private static final Scope SCOPE = Scope.of("t", "op");

  @Test
  void unreachableServersAreUnavailable() {
    assertUnavailable(
        new RedisConnectionException(
            "Unable to connect to 127.0.0.1:1", new ConnectException("refused")));
    assertUnavailable(new RedisException("Currently not connected. Commands are rejected."));
    assertUnavailable(new RedisException("Connection disconnected"));
    assertUnavailable(new RedisCommandTimeoutException("Command timed out after 2 second(s)"));
    assertUnavailable(new RedisException(new IOException("Connection reset by peer")));
    assertUnavailable(new ClosedChannelException());
    assertUnavailable(new CancellationException());
  }

  @Test
  void transientErrorRepliesAreUnavailable() {
    assertUnavailable(new RedisLoadingException("LOADING Redis is loading the dataset in memory"));
    assertUnavailable(new RedisBusyException("BUSY Redis is busy running a script."));
    assertUnavailable(
        new RedisReadOnlyException("READONLY You can't write against a read only replica."));
    assertUnavailable(new RedisCommandExecutionException("MASTERDOWN Link with MASTER is down"));
    assertUnavailable(new RedisCommandExecutionException("CLUSTERDOWN The cluster is down"));
    assertUnavailable(
        new RedisCommandExecutionException("TRYAGAIN Multiple keys request during rehashing"));
    assertUnavailable(
        new RedisCommandExecutionException(
            "OOM command not allowed when used memory > 'maxmemory'."));
  }

  @Test
  void otherErrorRepliesAreStoreFailures() {
    assertFailure(
        new RedisCommandExecutionException(
            "ERR Error running script: attempt to compare nil with number"));
    assertFailure(
        new RedisCommandExecutionException(
            "WRONGTYPE Operation against a key holding the wrong kind of value"));
    assertFailure(new RedisNoScriptException("NOSCRIPT No matching script. Please use EVAL."));
    assertFailure(new IllegalStateException("unexpected reply"));
    // An error reply wrapped in a client exception is still judged by the reply.
    assertFailure(
        new RedisException("wrapped", new RedisCommandExecutionException("ERR unknown command")));
  }

  @Test
  void theTranslationNamesTheStoreTheScopeAndTheAction() {
    StoreException e =
        RedisErrors.translate(
            new RedisException("Connection disconnected"), "redis-main", SCOPE, "claim");

    assertThat(e)
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("'redis-main'")
        .hasMessageContaining("claim failed")
        .hasMessageContaining("Connection disconnected");
    assertThat(e.storeName()).isEqualTo("redis-main");
    assertThat(e.scope()).isEqualTo(SCOPE);
    StoreException already = new StoreException("x", "redis-main", SCOPE, null);
    assertThat(RedisErrors.translate(already, "redis-main", SCOPE, "claim")).isSameAs(already);
  }

  private static void assertUnavailable(Throwable t) {
    assertThat(RedisErrors.isUnavailable(t)).as("%s is unavailable", t).isTrue();
    assertThat(RedisErrors.translate(t, "redis", SCOPE, "claim"))
        .isInstanceOf(StoreUnavailableException.class);
  }

  private static void assertFailure(Throwable t) {
    assertThat(RedisErrors.isUnavailable(t)).as("%s is a failure", t).isFalse();
    assertThat(RedisErrors.translate(t, "redis", SCOPE, "claim"))
        .isExactlyInstanceOf(StoreException.class);
  }
}
