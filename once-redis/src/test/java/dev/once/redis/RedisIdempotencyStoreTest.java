package dev.once.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisURI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The builder and the client options, without a server. */
class RedisIdempotencyStoreTest {

  private final RedisIdempotencyStore.Builder builder =
      RedisIdempotencyStore.builder(RedisURI.create("redis://127.0.0.1:1"));

  @Test
  void settingsAreCheckedAtOnceWithTheValueInTheMessage() {
    assertThatThrownBy(() -> builder.commandTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("commandTimeout must be at least 1 ms, but was PT0S");
    assertThatThrownBy(() -> builder.commandTimeout(Duration.ofMillis(-5)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder.commandTimeout(Duration.ofNanos(999_999)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder.commandTimeout(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> builder.keyPrefix("once:{a}:"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'{' or '}'");
    assertThatThrownBy(() -> builder.name(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> builder.clockOffset(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> RedisIdempotencyStore.builder((RedisURI) null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> RedisIdempotencyStore.builder((io.lettuce.core.RedisClient) null))
        .isInstanceOf(NullPointerException.class);
    assertThat(builder.keyPrefix("").keyPrefix("a:b*c?").commandTimeout(Duration.ofMillis(1)))
        .isSameAs(builder);
  }

  @Test
  void clientOptionsRejectCommandsWhileDisconnectedAndBoundEveryWait() {
    ClientOptions options = RedisIdempotencyStore.clientOptions(Duration.ofMillis(1500));

    assertThat(options.isAutoReconnect()).isTrue();
    assertThat(options.getDisconnectedBehavior())
        .isEqualTo(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS);
    assertThat(options.getSocketOptions().getConnectTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(options.getTimeoutOptions().isTimeoutCommands()).isTrue();
    assertThatThrownBy(() -> RedisIdempotencyStore.clientOptions(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
