package dev.once.spring.boot;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.NestedConfigurationProperty;

/**
 * Settings under {@code once.*}, mapped onto the Once builders. Every default is the one documented
 * in {@code docs/configuration.md}; a bad value fails the start-up with the value in the message.
 * Each group has its own class: {@code once.jdbc.*} {@link OnceJdbcProperties}, {@code
 * once.redis.*} {@link OnceRedisProperties}, {@code once.memory.*} {@link OnceMemoryProperties},
 * {@code once.http.*} {@link OnceHttpProperties}, {@code once.kafka.*} {@link OnceKafkaProperties}
 * and {@code once.rabbit.*} {@link OnceRabbitProperties}.
 */
@ConfigurationProperties("once")
public class OnceProperties {

  /**
   * Which store holds the idempotency records: jdbc, redis or memory. Default: jdbc when the
   * application has a DataSource, else memory.
   */
  private @Nullable StoreType store;

  @NestedConfigurationProperty private final OnceJdbcProperties jdbc = new OnceJdbcProperties();

  @NestedConfigurationProperty private final OnceRedisProperties redis = new OnceRedisProperties();

  @NestedConfigurationProperty
  private final OnceMemoryProperties memory = new OnceMemoryProperties();

  @NestedConfigurationProperty private final OnceHttpProperties http = new OnceHttpProperties();

  @NestedConfigurationProperty private final OnceKafkaProperties kafka = new OnceKafkaProperties();

  @NestedConfigurationProperty
  private final OnceRabbitProperties rabbit = new OnceRabbitProperties();

  public @Nullable StoreType getStore() {
    return store;
  }

  public void setStore(@Nullable StoreType store) {
    this.store = store;
  }

  public OnceJdbcProperties getJdbc() {
    return jdbc;
  }

  public OnceRedisProperties getRedis() {
    return redis;
  }

  public OnceMemoryProperties getMemory() {
    return memory;
  }

  public OnceHttpProperties getHttp() {
    return http;
  }

  public OnceKafkaProperties getKafka() {
    return kafka;
  }

  public OnceRabbitProperties getRabbit() {
    return rabbit;
  }

  /** The stores the starter can configure. */
  public enum StoreType {
    /**
     * {@code dev.once.jdbc.JdbcIdempotencyStore} on the application's DataSource (PostgreSQL,
     * MariaDB, H2).
     */
    JDBC,
    /** {@code dev.once.redis.RedisIdempotencyStore}; needs {@code dev.once:once-redis}. */
    REDIS,
    /** {@code dev.once.InMemoryIdempotencyStore}: one JVM, forgotten on restart. */
    MEMORY
  }
}
