package dev.once.spring.boot;

import java.time.Duration;

/**
 * {@code once.redis.*}: the Redis store ({@code dev.once.redis.RedisIdempotencyStore}). Part of
 * {@link OnceProperties}.
 */
public class OnceRedisProperties {
  /** Redis to connect to, as a Redis URI (redis://[password@]host:port/db, rediss:// for TLS). */
  private String url = "redis://127.0.0.1:6379";

  /** Prefix of every key the store writes; give each application sharing a Redis its own. */
  private String keyPrefix = "once:";

  /** How long a call waits for Redis before it fails (the request then gets 503). */
  private Duration commandTimeout = Duration.ofSeconds(2);

  public String getUrl() {
    return url;
  }

  public void setUrl(String url) {
    this.url = url;
  }

  public String getKeyPrefix() {
    return keyPrefix;
  }

  public void setKeyPrefix(String keyPrefix) {
    this.keyPrefix = keyPrefix;
  }

  public Duration getCommandTimeout() {
    return commandTimeout;
  }

  public void setCommandTimeout(Duration commandTimeout) {
    this.commandTimeout = commandTimeout;
  }
}
