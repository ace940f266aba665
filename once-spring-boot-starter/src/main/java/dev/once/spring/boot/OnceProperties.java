package dev.once.spring.boot;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.NestedConfigurationProperty;

/**
 * Settings under {@code once.*}, mapped onto the Once builders. Every default is the one documented
 * in {@code docs/configuration.md}; a bad value fails the start-up with the value in the message.
 * Each group has its own class: {@code once.jdbc.*} {@link OnceJdbcProperties}, {@code
 * once.redis.*} {@link OnceRedisProperties}, {@code once.memory.*} {@link OnceMemoryProperties},
 * {@code once.http.*} {@link OnceHttpProperties}, {@code once.kafka.*} {@link OnceKafkaProperties},
 * {@code once.rabbit.*} {@link OnceRabbitProperties}, {@code once.nats.*} {@link
 * OnceNatsProperties}, {@code once.sqs.*} {@link OnceSqsProperties} and {@code once.outbox.*}
 * {@link OnceOutboxProperties} and {@code once.purge.*} {@link OncePurgeProperties} and {@code
 * once.admin.*} {@link OnceAdminProperties}.
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

  @NestedConfigurationProperty private final OnceNatsProperties nats = new OnceNatsProperties();

  @NestedConfigurationProperty private final OnceSqsProperties sqs = new OnceSqsProperties();

  @NestedConfigurationProperty
  private final OnceOutboxProperties outbox = new OnceOutboxProperties();

  @NestedConfigurationProperty private final OncePurgeProperties purge = new OncePurgeProperties();

  @NestedConfigurationProperty private final OnceAdminProperties admin = new OnceAdminProperties();

  /**
   * {@return the {@code once.store} property} Which store holds the idempotency records: jdbc,
   * redis or memory. Default: jdbc when the application has a DataSource, else memory.
   */
  public @Nullable StoreType getStore() {
    return store;
  }

  /**
   * Sets the {@code once.store} property; see {@link #getStore()}.
   *
   * @param store the new value
   */
  public void setStore(@Nullable StoreType store) {
    this.store = store;
  }

  /** {@return the {@code once.jdbc.*} settings} */
  public OnceJdbcProperties getJdbc() {
    return jdbc;
  }

  /** {@return the {@code once.redis.*} settings} */
  public OnceRedisProperties getRedis() {
    return redis;
  }

  /** {@return the {@code once.memory.*} settings} */
  public OnceMemoryProperties getMemory() {
    return memory;
  }

  /** {@return the {@code once.http.*} settings} */
  public OnceHttpProperties getHttp() {
    return http;
  }

  /** {@return the {@code once.kafka.*} settings} */
  public OnceKafkaProperties getKafka() {
    return kafka;
  }

  /** {@return the {@code once.rabbit.*} settings} */
  public OnceRabbitProperties getRabbit() {
    return rabbit;
  }

  /** {@return the {@code once.nats.*} settings} */
  public OnceNatsProperties getNats() {
    return nats;
  }

  /** {@return the {@code once.sqs.*} settings} */
  public OnceSqsProperties getSqs() {
    return sqs;
  }

  /** {@return the {@code once.outbox.*} settings} */
  public OnceOutboxProperties getOutbox() {
    return outbox;
  }

  /** {@return the {@code once.purge.*} settings} */
  public OncePurgeProperties getPurge() {
    return purge;
  }

  /** {@return the {@code once.admin.*} settings} */
  public OnceAdminProperties getAdmin() {
    return admin;
  }

  /** The stores the starter can configure. */
  public enum StoreType {
    /**
     * {@code dev.once.jdbc.JdbcIdempotencyStore} on the application's DataSource (PostgreSQL,
     * MariaDB 10.5+, SQLite, H2). A SQLite DataSource needs {@code
     * journal_mode=WAL&synchronous=FULL&busy_timeout=<ms>} in its URL (the store refuses to start
     * without them), and {@code transaction_mode=IMMEDIATE} for atomic mode: the request's
     * transaction then holds the database's one write lock from its start, and same-key requests
     * wait for its commit and replay it instead of answering 409.
     */
    JDBC,
    /** {@code dev.once.redis.RedisIdempotencyStore}; needs {@code dev.once:once-redis}. */
    REDIS,
    /** {@code dev.once.InMemoryIdempotencyStore}: one JVM, forgotten on restart. */
    MEMORY
  }
}
