package dev.once.spring.boot;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * {@code once.outbox.*}: the transactional outbox ({@code dev.once.outbox}) on the application's
 * DataSource and its relay. Part of {@link OnceProperties}.
 */
public class OnceOutboxProperties {
  /** Whether the starter configures the outbox when once-outbox is on the class path. */
  private boolean enabled = true;

  /** Table of the outbox, optionally schema-qualified. */
  private String table = "once_outbox";

  /** When to create the table on start-up: always, embedded (in-memory databases only) or never. */
  private OnceJdbcProperties.SchemaCreation createSchema =
      OnceJdbcProperties.SchemaCreation.EMBEDDED;

  /**
   * PostgreSQL: whether each write also runs pg_notify, so a listening relay wakes at the commit
   * instead of at its next poll. Notifying commits are serialised by the server; turn it off for
   * many messages a second.
   */
  private boolean notifyRelays = true;

  /** PostgreSQL: at most one write per interval notifies; a woken relay lingers for the rest. */
  private Duration notifyInterval = Duration.ofMillis(10);

  /** The relay that publishes the outbox. */
  private final Relay relay = new Relay();

  /**
   * {@return the {@code once.outbox.enabled} property} Whether the starter configures the outbox
   * when once-outbox is on the class path. Default {@code true}.
   */
  public boolean isEnabled() {
    return enabled;
  }

  /**
   * Sets the {@code once.outbox.enabled} property; see {@link #isEnabled()}.
   *
   * @param enabled the new value
   */
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /**
   * {@return the {@code once.outbox.table} property} Table of the outbox, optionally
   * schema-qualified. Default {@code once_outbox}.
   */
  public String getTable() {
    return table;
  }

  /**
   * Sets the {@code once.outbox.table} property; see {@link #getTable()}.
   *
   * @param table the new value
   */
  public void setTable(String table) {
    this.table = table;
  }

  /**
   * {@return the {@code once.outbox.create-schema} property} When to create the table on start-up:
   * always, embedded (in-memory databases only) or never. Default {@code embedded}.
   */
  public OnceJdbcProperties.SchemaCreation getCreateSchema() {
    return createSchema;
  }

  /**
   * Sets the {@code once.outbox.create-schema} property; see {@link #getCreateSchema()}.
   *
   * @param createSchema the new value
   */
  public void setCreateSchema(OnceJdbcProperties.SchemaCreation createSchema) {
    this.createSchema = createSchema;
  }

  /**
   * {@return the {@code once.outbox.notify-relays} property} PostgreSQL: whether each write also
   * runs pg_notify, so a listening relay wakes at the commit instead of at its next poll. Default
   * {@code true}.
   */
  public boolean isNotifyRelays() {
    return notifyRelays;
  }

  /**
   * Sets the {@code once.outbox.notify-relays} property; see {@link #isNotifyRelays()}.
   *
   * @param notifyRelays the new value
   */
  public void setNotifyRelays(boolean notifyRelays) {
    this.notifyRelays = notifyRelays;
  }

  /**
   * {@return the {@code once.outbox.notify-interval} property} PostgreSQL: at most one write per
   * interval runs pg_notify, because notifying commits queue behind one another; a relay woken by
   * it lingers ({@code once.outbox.relay.linger}) and finds the writes that did not notify. {@code
   * 0}: every write notifies. Default {@code 10ms}.
   */
  public Duration getNotifyInterval() {
    return notifyInterval;
  }

  /**
   * Sets the {@code once.outbox.notify-interval} property; see {@link #getNotifyInterval()}.
   *
   * @param notifyInterval the new value
   */
  public void setNotifyInterval(Duration notifyInterval) {
    this.notifyInterval = notifyInterval;
  }

  /** {@return the {@code once.outbox.relay.*} settings} */
  public Relay getRelay() {
    return relay;
  }

  /** Which broker the relay builds its publisher for from Spring Boot's connection settings. */
  public enum Broker {
    /**
     * {@code dev.once.kafka.KafkaOutboxPublisher} from {@code spring.kafka.*} (needs {@code
     * dev.once:once-kafka} and {@code spring-kafka}).
     */
    KAFKA,
    /**
     * {@code dev.once.rabbitmq.RabbitOutboxPublisher} from {@code spring.rabbitmq.*} (needs {@code
     * dev.once:once-rabbitmq} and {@code spring-rabbit}).
     */
    RABBITMQ
  }

  /** {@code once.outbox.relay.*}: the relay, a background thread that starts with the context. */
  public static class Relay {
    /** Whether the relay runs in this application. */
    private boolean enabled = true;

    /**
     * Build the publisher from Spring Boot's connection settings for this broker: kafka or
     * rabbitmq. Default: none; the relay uses the application's OutboxPublisher bean.
     */
    private @Nullable Broker broker;

    /** A name for the relay's thread and log lines. */
    private String name = "relay";

    /** The most rows one batch claims. */
    private int batchSize = 100;

    /** The wait after a batch that was not full before looking again (PostgreSQL: or a notify). */
    private Duration pollInterval = Duration.ofSeconds(1);

    /** After a round that published or a notification, how long to keep looking every 10 ms. */
    private Duration linger = Duration.ofMillis(100);

    /** Refusals of one message by the broker before it is parked. */
    private int maxAttempts = 10;

    /** The first wait before a refused message is tried again; doubles with each refusal. */
    private Duration backoffInitial = Duration.ofSeconds(1);

    /** The longest wait before a refused message is tried again. */
    private Duration backoffMax = Duration.ofMinutes(5);

    /** How long sent rows are kept before the relay deletes them (in rounds, once a minute). */
    private @Nullable Duration retention = Duration.ofDays(7);

    /** How long the publisher waits for the broker's answer to a batch. */
    private Duration publishTimeout = Duration.ofSeconds(30);

    /**
     * {@return the {@code once.outbox.relay.enabled} property} Whether the relay runs in this
     * application. Default {@code true}.
     */
    public boolean isEnabled() {
      return enabled;
    }

    /**
     * Sets the {@code once.outbox.relay.enabled} property; see {@link #isEnabled()}.
     *
     * @param enabled the new value
     */
    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    /**
     * {@return the {@code once.outbox.relay.broker} property} Build the publisher from Spring
     * Boot's connection settings for this broker: kafka or rabbitmq. Default: none; the relay uses
     * the application's OutboxPublisher bean.
     */
    public @Nullable Broker getBroker() {
      return broker;
    }

    /**
     * Sets the {@code once.outbox.relay.broker} property; see {@link #getBroker()}.
     *
     * @param broker the new value
     */
    public void setBroker(@Nullable Broker broker) {
      this.broker = broker;
    }

    /**
     * {@return the {@code once.outbox.relay.name} property} A name for the relay's thread and log
     * lines. Default {@code relay}.
     */
    public String getName() {
      return name;
    }

    /**
     * Sets the {@code once.outbox.relay.name} property; see {@link #getName()}.
     *
     * @param name the new value
     */
    public void setName(String name) {
      this.name = name;
    }

    /**
     * {@return the {@code once.outbox.relay.batch-size} property} The most rows one batch claims.
     * Default {@code 100}.
     */
    public int getBatchSize() {
      return batchSize;
    }

    /**
     * Sets the {@code once.outbox.relay.batch-size} property; see {@link #getBatchSize()}.
     *
     * @param batchSize the new value
     */
    public void setBatchSize(int batchSize) {
      this.batchSize = batchSize;
    }

    /**
     * {@return the {@code once.outbox.relay.poll-interval} property} The wait after a batch that
     * was not full before looking again (PostgreSQL: or a notify). Default {@code 1s}.
     */
    public Duration getPollInterval() {
      return pollInterval;
    }

    /**
     * Sets the {@code once.outbox.relay.poll-interval} property; see {@link #getPollInterval()}.
     *
     * @param pollInterval the new value
     */
    public void setPollInterval(Duration pollInterval) {
      this.pollInterval = pollInterval;
    }

    /**
     * {@return the {@code once.outbox.relay.linger} property} After a round that published, or a
     * writer's notification, how long the relay keeps looking for new rows every 10 ms before it
     * waits again; it finds the writes that did not notify. Keep it above {@code
     * once.outbox.notify-interval}. Default {@code 100ms}.
     */
    public Duration getLinger() {
      return linger;
    }

    /**
     * Sets the {@code once.outbox.relay.linger} property; see {@link #getLinger()}.
     *
     * @param linger the new value
     */
    public void setLinger(Duration linger) {
      this.linger = linger;
    }

    /**
     * {@return the {@code once.outbox.relay.max-attempts} property} Refusals of one message by the
     * broker before it is parked. Default {@code 10}.
     */
    public int getMaxAttempts() {
      return maxAttempts;
    }

    /**
     * Sets the {@code once.outbox.relay.max-attempts} property; see {@link #getMaxAttempts()}.
     *
     * @param maxAttempts the new value
     */
    public void setMaxAttempts(int maxAttempts) {
      this.maxAttempts = maxAttempts;
    }

    /**
     * {@return the {@code once.outbox.relay.backoff-initial} property} The first wait before a
     * refused message is tried again; doubles with each refusal. Default {@code 1s}.
     */
    public Duration getBackoffInitial() {
      return backoffInitial;
    }

    /**
     * Sets the {@code once.outbox.relay.backoff-initial} property; see {@link
     * #getBackoffInitial()}.
     *
     * @param backoffInitial the new value
     */
    public void setBackoffInitial(Duration backoffInitial) {
      this.backoffInitial = backoffInitial;
    }

    /**
     * {@return the {@code once.outbox.relay.backoff-max} property} The longest wait before a
     * refused message is tried again. Default {@code 5m}.
     */
    public Duration getBackoffMax() {
      return backoffMax;
    }

    /**
     * Sets the {@code once.outbox.relay.backoff-max} property; see {@link #getBackoffMax()}.
     *
     * @param backoffMax the new value
     */
    public void setBackoffMax(Duration backoffMax) {
      this.backoffMax = backoffMax;
    }

    /**
     * {@return the {@code once.outbox.relay.retention} property} How long sent rows are kept before
     * the relay deletes them (in rounds, once a minute). Default {@code 7d}.
     */
    public @Nullable Duration getRetention() {
      return retention;
    }

    /**
     * Sets the {@code once.outbox.relay.retention} property; see {@link #getRetention()}.
     *
     * @param retention the new value
     */
    public void setRetention(@Nullable Duration retention) {
      this.retention = retention;
    }

    /**
     * {@return the {@code once.outbox.relay.publish-timeout} property} How long the publisher the
     * starter builds ({@code once.outbox.relay.broker}) waits for the broker's answer to a batch.
     * Default {@code 30s}.
     */
    public Duration getPublishTimeout() {
      return publishTimeout;
    }

    /**
     * Sets the {@code once.outbox.relay.publish-timeout} property; see {@link
     * #getPublishTimeout()}.
     *
     * @param publishTimeout the new value
     */
    public void setPublishTimeout(Duration publishTimeout) {
      this.publishTimeout = publishTimeout;
    }
  }
}
