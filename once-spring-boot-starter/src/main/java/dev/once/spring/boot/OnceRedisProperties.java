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

  /**
   * {@return the {@code once.redis.url} property} Redis to connect to, as a Redis URI
   * (redis://[password@]host:port/db, rediss:// for TLS). Default {@code redis://127.0.0.1:6379}.
   */
  public String getUrl() {
    return url;
  }

  /**
   * Sets the {@code once.redis.url} property; see {@link #getUrl()}.
   *
   * @param url the new value
   */
  public void setUrl(String url) {
    this.url = url;
  }

  /**
   * {@return the {@code once.redis.key-prefix} property} Prefix of every key the store writes; give
   * each application sharing a Redis its own. Default {@code once:}.
   */
  public String getKeyPrefix() {
    return keyPrefix;
  }

  /**
   * Sets the {@code once.redis.key-prefix} property; see {@link #getKeyPrefix()}.
   *
   * @param keyPrefix the new value
   */
  public void setKeyPrefix(String keyPrefix) {
    this.keyPrefix = keyPrefix;
  }

  /**
   * {@return the {@code once.redis.command-timeout} property} How long a call waits for Redis
   * before it fails (the request then gets 503). Default {@code 2s}.
   */
  public Duration getCommandTimeout() {
    return commandTimeout;
  }

  /**
   * Sets the {@code once.redis.command-timeout} property; see {@link #getCommandTimeout()}.
   *
   * @param commandTimeout the new value
   */
  public void setCommandTimeout(Duration commandTimeout) {
    this.commandTimeout = commandTimeout;
  }
}
