package dev.once.spring.boot;

import dev.once.jdbc.ConcurrentClaimPolicy;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.core.Ordered;
import org.springframework.util.unit.DataSize;

/**
 * Settings under {@code once.*}, mapped onto the Once builders. Every default is the one documented
 * in {@code docs/configuration.md}; a bad value fails the start-up with the value in the message.
 */
@ConfigurationProperties("once")
public class OnceProperties {

  /**
   * Which store holds the idempotency records: jdbc, redis or memory. Default: jdbc when the
   * application has a DataSource, else memory.
   */
  private StoreType store;

  private final Jdbc jdbc = new Jdbc();
  private final Redis redis = new Redis();
  private final Memory memory = new Memory();
  private final Http http = new Http();
  private final Kafka kafka = new Kafka();
  private final Rabbit rabbit = new Rabbit();

  public StoreType getStore() {
    return store;
  }

  public void setStore(StoreType store) {
    this.store = store;
  }

  public Jdbc getJdbc() {
    return jdbc;
  }

  public Redis getRedis() {
    return redis;
  }

  public Memory getMemory() {
    return memory;
  }

  public Http getHttp() {
    return http;
  }

  public Kafka getKafka() {
    return kafka;
  }

  public Rabbit getRabbit() {
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

  /** When the starter creates the JDBC store's table. */
  public enum SchemaCreation {
    /** On every start (the DDL is {@code CREATE ... IF NOT EXISTS}). */
    ALWAYS,
    /**
     * Only for an in-memory database (H2, HSQLDB or Derby in memory), as Spring Boot's own SQL
     * initialisation.
     */
    EMBEDDED,
    /** Never: ship {@code db/once/<dialect>/V1__once_records.sql} in your migrations. */
    NEVER
  }

  /** {@code once.jdbc.*}. */
  public static class Jdbc {
    /** Table of the records, optionally schema-qualified. */
    private String table = "once_records";

    /**
     * When to create the table on start-up: always, embedded (in-memory databases only) or never.
     */
    private SchemaCreation createSchema = SchemaCreation.EMBEDDED;

    /**
     * In atomic mode, what a request does when another open transaction holds its key: fail-fast
     * (answer 409 at once) or wait (block until that transaction ends, then replay or run).
     */
    private ConcurrentClaimPolicy concurrentClaims = ConcurrentClaimPolicy.FAIL_FAST;

    /**
     * PostgreSQL: how long a transaction that holds claimed keys (atomic mode, the listeners'
     * inbox) may sit idle before the server rolls it back, so a client that vanished
     * mid-transaction frees its keys after this instead of after the server's TCP keepalive
     * (hours). Longer than the longest pause a handler makes inside its transaction (a slow remote
     * call). 0 leaves the server's setting.
     */
    private Duration idleTransactionTimeout = Duration.ofSeconds(90);

    public String getTable() {
      return table;
    }

    public void setTable(String table) {
      this.table = table;
    }

    public SchemaCreation getCreateSchema() {
      return createSchema;
    }

    public void setCreateSchema(SchemaCreation createSchema) {
      this.createSchema = createSchema;
    }

    public ConcurrentClaimPolicy getConcurrentClaims() {
      return concurrentClaims;
    }

    public void setConcurrentClaims(ConcurrentClaimPolicy concurrentClaims) {
      this.concurrentClaims = concurrentClaims;
    }

    public Duration getIdleTransactionTimeout() {
      return idleTransactionTimeout;
    }

    public void setIdleTransactionTimeout(Duration idleTransactionTimeout) {
      this.idleTransactionTimeout = idleTransactionTimeout;
    }
  }

  /** {@code once.redis.*}. */
  public static class Redis {
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

  /** {@code once.memory.*}. */
  public static class Memory {
    /** Most records held; when full, new keys are refused (503) rather than live ones evicted. */
    private int maxRecords = 100_000;

    public int getMaxRecords() {
      return maxRecords;
    }

    public void setMaxRecords(int maxRecords) {
      this.maxRecords = maxRecords;
    }
  }

  /** {@code once.http.*}: the Idempotency-Key filter. */
  public static class Http {
    /** Whether the Idempotency-Key filter is registered. */
    private boolean enabled = true;

    /** Request header carrying the key. */
    private String headerName = "Idempotency-Key";

    /** Response header set to "true" on a replayed response. */
    private String replayedHeaderName = "Idempotent-Replayed";

    /**
     * Accept only the draft's quoted sf-string form of the key; by default a bare token is accepted
     * too.
     */
    private boolean strictKeySyntax = false;

    /**
     * Status of the answer to a key reused with another request: 422 (the draft) or 400 (Stripe).
     */
    private int mismatchStatus = 422;

    /**
     * Largest request body an idempotent route accepts (it is buffered to be fingerprinted); larger
     * gets 413.
     */
    private DataSize maxBodySize = DataSize.ofMegabytes(1);

    /**
     * Largest response that is captured and stored; a larger one goes straight to the client and
     * retries get 409 (response-not-replayable).
     */
    private DataSize maxResponseSize = DataSize.ofMegabytes(8);

    /** Default lease of an @Idempotent route: how long one execution owns its key. */
    private Duration lease = Duration.ofSeconds(90);

    /** Default retention of an @Idempotent route: how long a completed response is replayed. */
    private Duration retention = Duration.ofHours(24);

    /** Default time a request waits for an in-flight execution of its key before 409. */
    private Duration waitForInFlight = Duration.ZERO;

    /**
     * Atomic mode: run claim, handler and stored response in one Spring transaction on the JDBC
     * store's DataSource. Default: true when the store is JDBC and there is a
     * PlatformTransactionManager.
     */
    private Boolean atomic;

    /**
     * Whether callers without an authenticated principal may use keys on every @Idempotent route
     * (they share one key space per route). Default: false when the application has Spring
     * Security's filter chain (such requests get 403 unless the route sets allowAnonymous), true
     * otherwise (with a start-up warning).
     */
    private Boolean allowAnonymous;

    /**
     * Prefix of the "type" URI of the problem+json answers the filter writes. Default: the filter's
     * own.
     */
    private String problemTypeBase;

    /**
     * Order of the filter; the default runs it after Spring Security's filter chain (order -100).
     */
    private int filterOrder = Ordered.LOWEST_PRECEDENCE - 100;

    private final Key key = new Key();

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public String getHeaderName() {
      return headerName;
    }

    public void setHeaderName(String headerName) {
      this.headerName = headerName;
    }

    public String getReplayedHeaderName() {
      return replayedHeaderName;
    }

    public void setReplayedHeaderName(String replayedHeaderName) {
      this.replayedHeaderName = replayedHeaderName;
    }

    public boolean isStrictKeySyntax() {
      return strictKeySyntax;
    }

    public void setStrictKeySyntax(boolean strictKeySyntax) {
      this.strictKeySyntax = strictKeySyntax;
    }

    public int getMismatchStatus() {
      return mismatchStatus;
    }

    public void setMismatchStatus(int mismatchStatus) {
      this.mismatchStatus = mismatchStatus;
    }

    public DataSize getMaxBodySize() {
      return maxBodySize;
    }

    public void setMaxBodySize(DataSize maxBodySize) {
      this.maxBodySize = maxBodySize;
    }

    public DataSize getMaxResponseSize() {
      return maxResponseSize;
    }

    public void setMaxResponseSize(DataSize maxResponseSize) {
      this.maxResponseSize = maxResponseSize;
    }

    public Duration getLease() {
      return lease;
    }

    public void setLease(Duration lease) {
      this.lease = lease;
    }

    public Duration getRetention() {
      return retention;
    }

    public void setRetention(Duration retention) {
      this.retention = retention;
    }

    public Duration getWaitForInFlight() {
      return waitForInFlight;
    }

    public void setWaitForInFlight(Duration waitForInFlight) {
      this.waitForInFlight = waitForInFlight;
    }

    public Boolean getAtomic() {
      return atomic;
    }

    public void setAtomic(Boolean atomic) {
      this.atomic = atomic;
    }

    public Boolean getAllowAnonymous() {
      return allowAnonymous;
    }

    public void setAllowAnonymous(Boolean allowAnonymous) {
      this.allowAnonymous = allowAnonymous;
    }

    public String getProblemTypeBase() {
      return problemTypeBase;
    }

    public void setProblemTypeBase(String problemTypeBase) {
      this.problemTypeBase = problemTypeBase;
    }

    public int getFilterOrder() {
      return filterOrder;
    }

    public void setFilterOrder(int filterOrder) {
      this.filterOrder = filterOrder;
    }

    public Key getKey() {
      return key;
    }
  }

  /** {@code once.http.key.*}: which key strings are accepted (else 400 before any store access). */
  public static class Key {
    /** Shortest accepted key, in characters. */
    private int minLength = 1;

    /** Longest accepted key, in characters (at most 4096). */
    private int maxLength = 255;

    /** A regular expression the whole key must match; none by default. */
    private String pattern;

    /** Accept characters above U+007E (control characters never). */
    private boolean allowNonAscii = false;

    public int getMinLength() {
      return minLength;
    }

    public void setMinLength(int minLength) {
      this.minLength = minLength;
    }

    public int getMaxLength() {
      return maxLength;
    }

    public void setMaxLength(int maxLength) {
      this.maxLength = maxLength;
    }

    public String getPattern() {
      return pattern;
    }

    public void setPattern(String pattern) {
      this.pattern = pattern;
    }

    public boolean isAllowNonAscii() {
      return allowNonAscii;
    }

    public void setAllowNonAscii(boolean allowNonAscii) {
      this.allowNonAscii = allowNonAscii;
    }
  }

  /** What an idempotent Kafka listener does with a record that has no message id. */
  public enum KafkaNoIdPolicy {
    /**
     * Throw {@code MissingMessageIdException}: the error handler dead-letters it; it is never
     * applied.
     */
    REJECT,
    /**
     * Use {@code <topic>-<partition>-<offset>}: a redelivery of the record is skipped, but the same
     * message produced twice (a producer retry) has two offsets and is applied twice.
     */
    TOPIC_PARTITION_OFFSET
  }

  /** {@code once.kafka.*}: the idempotent {@code @KafkaListener} container factory. */
  public static class Kafka {
    /** Whether the starter registers the onceKafkaListenerContainerFactory. */
    private boolean enabled = true;

    /** Record header carrying the message id (UTF-8). */
    private String messageIdHeader = "message-id";

    /**
     * SpEL over the ConsumerRecord giving the message id instead of the header, e.g. "key()"; a
     * byte[] result is read as UTF-8.
     */
    private String messageIdExpression;

    /**
     * What to do with a record without a message id: reject (dead-letter it) or
     * topic-partition-offset.
     */
    private KafkaNoIdPolicy noIdPolicy = KafkaNoIdPolicy.REJECT;

    /** Scope of the message ids. Default: the listener's consumer group. */
    private String consumer;

    /**
     * How long an applied message id is remembered; longer than any redelivery or replay you
     * expect.
     */
    private Duration retention = Duration.ofDays(7);

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public String getMessageIdHeader() {
      return messageIdHeader;
    }

    public void setMessageIdHeader(String messageIdHeader) {
      this.messageIdHeader = messageIdHeader;
    }

    public String getMessageIdExpression() {
      return messageIdExpression;
    }

    public void setMessageIdExpression(String messageIdExpression) {
      this.messageIdExpression = messageIdExpression;
    }

    public KafkaNoIdPolicy getNoIdPolicy() {
      return noIdPolicy;
    }

    public void setNoIdPolicy(KafkaNoIdPolicy noIdPolicy) {
      this.noIdPolicy = noIdPolicy;
    }

    public String getConsumer() {
      return consumer;
    }

    public void setConsumer(String consumer) {
      this.consumer = consumer;
    }

    public Duration getRetention() {
      return retention;
    }

    public void setRetention(Duration retention) {
      this.retention = retention;
    }
  }

  /** {@code once.rabbit.*}: the idempotent {@code @RabbitListener} container factory. */
  public static class Rabbit {
    /** Whether the starter registers the onceRabbitListenerContainerFactory. */
    private boolean enabled = true;

    /**
     * SpEL over the AMQP Message giving the message id instead of its message-id property, e.g.
     * "messageProperties.headers['event-id']".
     */
    private String messageIdExpression;

    /** Scope of the message ids. Default: the queue the message was consumed from. */
    private String consumer;

    /**
     * How long an applied message id is remembered; longer than any redelivery or replay you
     * expect.
     */
    private Duration retention = Duration.ofDays(7);

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public String getMessageIdExpression() {
      return messageIdExpression;
    }

    public void setMessageIdExpression(String messageIdExpression) {
      this.messageIdExpression = messageIdExpression;
    }

    public String getConsumer() {
      return consumer;
    }

    public void setConsumer(String consumer) {
      this.consumer = consumer;
    }

    public Duration getRetention() {
      return retention;
    }

    public void setRetention(Duration retention) {
      this.retention = retention;
    }
  }
}
