package dev.once.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.Envelope;
import dev.once.KeyPolicy;
import dev.once.OnceListener;
import dev.once.Scope;
import dev.once.StoreException;
import dev.once.internal.Failpoints;
import dev.once.internal.InboxDecisions;
import dev.once.internal.RecentCounts;
import dev.once.jdbc.JdbcInbox;
import dev.once.jdbc.JdbcInbox.Batch;
import dev.once.jdbc.JdbcInbox.HandlerFailedException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Consumes a RabbitMQ queue through a {@link JdbcInbox}: every delivery's effect is applied at most
 * once, in the same database transaction as its dedupe marker, and the broker is acknowledged only
 * after that transaction committed. Together with RabbitMQ's at-least-once redelivery this gives
 * exactly-once database effects.
 *
 * <pre>{@code
 * RabbitInboxConsumer consumer = RabbitInboxConsumer.builder(rabbitConnection, "payments", inbox)
 *     .handler((connection, delivery) -> applyTransfer(connection, delivery.getBody()))
 *     .prefetch(250).batchSize(100).linger(Duration.ofMillis(20)).maxAttempts(5)
 *     .build();
 * consumer.start();                                   // ... consumer.close() on shutdown
 * }</pre>
 *
 * <p><b>How a batch goes.</b> Deliveries (manual acks, at most {@code prefetch} unacknowledged) are
 * collected into a batch of up to {@code batchSize}, or fewer once {@code linger} has passed since
 * the first. The batch runs in one transaction ({@link JdbcInbox#process}); after the commit one
 * {@code basic.ack} with {@code multiple=true} up to the batch's last delivery tag settles it. A
 * crash after the commit and before the ack makes RabbitMQ redeliver the batch, and the inbox skips
 * it as duplicates.
 *
 * <p><b>Message ids.</b> By default the AMQP {@code message-id} property; {@link Builder#messageId}
 * takes any function of the delivery. Ids are deduped per queue (source {@code rabbitmq:<queue>} in
 * the inbox): a Kafka topic or another queue on the same inbox with overlapping ids ({@code m-1},
 * ...) never makes this one skip a message, unless the inbox was built with {@link
 * JdbcInbox.Builder#sharedScope} to dedupe across sources on purpose. A delivery without an id
 * (null or blank), or with one the {@link KeyPolicy} refuses, is rejected without requeue ({@code
 * basic.reject}, {@code requeue=false}) and never processed unprotected: give the queue a
 * dead-letter exchange ({@code x-dead-letter-exchange}) to keep it, otherwise RabbitMQ drops it.
 *
 * <p><b>Handler failures.</b> The failing delivery is taken out of the batch and the rest is
 * processed again (the whole transaction was rolled back). The failing one is nacked with {@code
 * requeue=true}, and after {@code maxAttempts} failed attempts rejected without requeue, so the
 * dead-letter exchange gets it. Attempts are counted <em>per message id in this consumer's
 * memory</em> (an LRU of the 10,000 most recent failing ids), which works on classic and quorum
 * queues alike; on a quorum queue the {@code x-delivery-count} header, when present, counts too
 * (the larger wins). A restart forgets the in-memory counts, so a poison message may run up to
 * {@code maxAttempts} times per consumer lifetime; set the quorum queue's {@code x-delivery-limit}
 * as a broker-side bound.
 *
 * <p><b>Database down.</b> A {@link StoreException}, or a handler exception caused by a lost
 * database connection (SQLState class {@code 08}, {@code 57P01..3}, a JDBC connection exception, a
 * socket error: the store's own classification), leaves the batch unacknowledged and is retried
 * after {@code storeRetryDelay} (with jitter: between half and all of it), for as long as the
 * consumer runs; nothing is nacked, so no attempt is spent and a healthy message is never
 * dead-lettered because the database went away. The Kafka inbox decides the same way.
 *
 * <p><b>Broker connection lost.</b> Use amqp-client's automatic recovery (on by default since 4.0):
 * the channel and the consumer are re-created, RabbitMQ redelivers every unacknowledged delivery,
 * and the inbox skips those already committed. An ack for a delivery of the lost channel is dropped
 * by the client, which is safe for the same reason.
 *
 * <p>Thread-safety: {@link #start} and {@link #close} may be called from any thread; the handler
 * runs on one worker thread per consumer, one batch at a time.
 */
public final class RabbitInboxConsumer implements AutoCloseable {

  /** Crash tests' failpoint: after the batch's transaction committed, before the ack is sent. */
  static final String AFTER_COMMIT_BEFORE_ACK = "rabbitmq.after-commit-before-ack";

  private static final System.Logger LOG = System.getLogger(RabbitInboxConsumer.class.getName());
  private static final int MAX_TRACKED_FAILURES = 10_000;
  private static final String DELIVERY_COUNT_HEADER = "x-delivery-count";

  private final Connection connection;
  private final String queue;

  /**
   * The source of this consumer's message ids in the inbox: a queue's ids never meet another
   * source's.
   */
  private final String source;

  private final JdbcInbox inbox;
  private final JdbcInbox.Handler<Delivery> handler;
  private final Function<Delivery, String> messageId;
  private final KeyPolicy keyPolicy;
  private final int prefetch;
  private final int batchSize;
  private final Duration linger;

  /** Outage or the message's fault, retry or dead-letter: decided as by every inbox adapter. */
  private final InboxDecisions decisions;

  private final @Nullable Consumer<Batch<Delivery>> onBatch;

  private final BlockingQueue<Delivery> buffer = new LinkedBlockingQueue<>();
  private final RecentCounts failures = new RecentCounts(MAX_TRACKED_FAILURES);
  private final Object lifecycle = new Object();
  private volatile boolean running;
  private volatile @Nullable Channel channel; // set by start(), never cleared once the worker runs
  private @Nullable String consumerTag;
  private @Nullable Thread worker;

  private RabbitInboxConsumer(Builder b) {
    this.connection = b.connection;
    this.queue = b.queue;
    this.source = "rabbitmq:" + b.queue;
    this.inbox = b.inbox;
    this.handler = Objects.requireNonNull(b.handler, "build() checked the handler");
    this.messageId = b.messageId;
    this.keyPolicy = b.keyPolicy;
    this.prefetch = b.prefetch;
    this.batchSize = b.batchSize;
    this.linger = b.linger;
    // Redelivery is the broker's: a failed delivery is requeued at once, so there is no
    // handler-failure backoff.
    this.decisions =
        new InboxDecisions(
            b.maxAttempts,
            new InboxDecisions.Backoff(Duration.ZERO, Duration.ZERO),
            new InboxDecisions.Backoff(b.storeRetryDelay, b.storeRetryDelay));
    this.onBatch = b.onBatch;
  }

  /**
   * Starts building a consumer of {@code queue} on {@code connection} (which the consumer uses but
   * never closes).
   *
   * @param connection an open AMQP connection; stays the caller's to close
   * @param queue the queue to consume; it must exist when {@link #start()} runs
   * @param inbox the inbox whose transactions apply and dedupe the deliveries
   * @return a new builder
   */
  public static Builder builder(Connection connection, String queue, JdbcInbox inbox) {
    return new Builder(connection, queue, inbox);
  }

  /**
   * The default message id: the AMQP {@code message-id} property.
   *
   * @param delivery the delivery
   * @return the id, or {@code null} when the property is absent
   */
  public static @Nullable String amqpMessageId(Delivery delivery) {
    return delivery.getProperties() == null ? null : delivery.getProperties().getMessageId();
  }

  /**
   * Opens a channel, sets the prefetch ({@code basic.qos}) and starts consuming with manual acks.
   *
   * @throws IOException if the broker refused (e.g. the queue does not exist)
   * @throws IllegalStateException if already started
   */
  public void start() throws IOException {
    synchronized (lifecycle) {
      if (channel != null) {
        throw new IllegalStateException("consumer of queue " + queue + " was already started");
      }
      Channel ch = connection.createChannel();
      if (ch == null) {
        throw new IOException("no channel available on the connection for queue " + queue);
      }
      try {
        ch.basicQos(prefetch);
        channel = ch;
        consumerTag =
            ch.basicConsume(
                queue,
                false,
                new DefaultConsumer(ch) {
                  @Override
                  public void handleDelivery(
                      String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
                    buffer.add(new Delivery(envelope, properties, body));
                  }
                });
      } catch (IOException | RuntimeException e) {
        channel = null;
        buffer.clear();
        if (ch.isOpen()) {
          try {
            ch.abort();
          } catch (IOException suppressed) {
            e.addSuppressed(suppressed);
          }
        }
        throw e;
      }
      running = true;
      worker = new Thread(this::work, "once-rabbitmq-" + queue);
      worker.setDaemon(true);
      worker.start();
    }
  }

  /**
   * Stops consuming ({@code basic.cancel}), processes and acknowledges the deliveries already
   * received (waiting up to 30 s) and closes the channel. Whatever is still unacknowledged then is
   * returned to the queue by RabbitMQ.
   */
  @Override
  public void close() {
    synchronized (lifecycle) {
      running = false;
      if (channel == null) {
        return;
      }
      try {
        if (channel.isOpen() && consumerTag != null) {
          channel.basicCancel(consumerTag);
        }
      } catch (IOException | RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, "cancelling the consumer of " + queue + " failed", e);
      }
      try {
        Thread started = worker;
        if (started != null) {
          started.join(Duration.ofSeconds(30).toMillis());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      try {
        if (channel.isOpen()) {
          channel.close();
        }
      } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, "closing the channel of " + queue + " failed", e);
      }
      buffer.clear();
    }
  }

  private void work() {
    long lingerNanos = linger.toNanos();
    // After close() cancelled the consumer, what is already buffered is still processed and
    // acknowledged.
    while (running || !buffer.isEmpty()) {
      try {
        Delivery first = buffer.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        List<Delivery> batch = new ArrayList<>(batchSize);
        batch.add(first);
        long deadline = System.nanoTime() + lingerNanos;
        while (batch.size() < batchSize) {
          long left = deadline - System.nanoTime();
          Delivery next = left > 0 ? buffer.poll(left, TimeUnit.NANOSECONDS) : buffer.poll();
          if (next == null) {
            break;
          }
          batch.add(next);
        }
        handle(batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        // The batch was requeued (or its channel is gone): RabbitMQ redelivers it.
        LOG.log(
            System.Logger.Level.ERROR, "batch on queue " + queue + " failed and was requeued", e);
      }
    }
  }

  private void handle(List<Delivery> batch) throws InterruptedException {
    Map<Delivery, String> ids = new IdentityHashMap<>();
    List<Delivery> pending = new ArrayList<>(batch.size());
    for (Delivery d : batch) {
      String id = idOf(d);
      if (id == null) {
        settle(
            d,
            false,
            "has no usable message id; rejected without requeue (to the dead-letter exchange, if any)");
        inbox.listener().deadLettered(inbox.consumer(), source, OnceListener.DEAD_LETTER_REJECTED);
      } else {
        ids.put(d, id);
        pending.add(d);
      }
    }
    int outages = 0;
    while (!pending.isEmpty()) {
      Batch<Delivery> done;
      try {
        done = inbox.process(pending, d -> source, ids::get, handler, null);
      } catch (HandlerFailedException e) {
        Delivery failed = pending.get(e.index());
        String failedId =
            Objects.requireNonNull(ids.get(failed), "every pending delivery has an id");
        if (failed(failed, failedId, e.getCause())) {
          pending.remove(e.index());
          continue;
        }
        // The database went away under the handler: not the message's fault, wait it out like any
        // outage.
        if (!waitOutOutage(pending, ++outages, e)) {
          return;
        }
        continue;
      } catch (StoreException e) {
        if (!waitOutOutage(pending, ++outages, e)) {
          return;
        }
        continue;
      } catch (RuntimeException e) {
        requeue(pending);
        throw e;
      }
      long lastTag = pending.get(pending.size() - 1).getEnvelope().getDeliveryTag();
      try {
        Failpoints.hit(AFTER_COMMIT_BEFORE_ACK);
      } catch (RuntimeException e) {
        requeue(pending); // committed: the redelivery is skipped as duplicates
        throw e;
      }
      ack(lastTag);
      for (Delivery d : pending) {
        failures.forget(Objects.requireNonNull(ids.get(d), "every pending delivery has an id"));
      }
      if (onBatch != null) {
        try {
          onBatch.accept(done);
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, "onBatch callback failed on queue " + queue, e);
        }
      }
      return;
    }
  }

  /**
   * A store outage: nothing is settled (no attempt is spent), the batch is tried again after the
   * outage backoff.
   *
   * @return false if the consumer is closing (RabbitMQ requeues the batch when the channel closes)
   */
  private boolean waitOutOutage(List<Delivery> pending, int outages, RuntimeException e)
      throws InterruptedException {
    if (!running) {
      buffer
          .clear(); // closing with the database down: RabbitMQ requeues all of it when the channel
      // closes
      return false;
    }
    long wait = decisions.outageWait(outages);
    LOG.log(
        System.Logger.Level.WARNING,
        "database failed for a batch of "
            + pending.size()
            + " on queue "
            + queue
            + " (attempt "
            + outages
            + "); no delivery settled, retrying in "
            + TimeUnit.NANOSECONDS.toMillis(wait)
            + " ms",
        e);
    TimeUnit.NANOSECONDS.sleep(wait);
    if (!running) {
      buffer.clear();
      return false;
    }
    return true;
  }

  private @Nullable String idOf(Delivery d) {
    InboxDecisions.ResolvedId id =
        InboxDecisions.resolveId(
            () -> messageId.apply(d), null, keyPolicy, Scope.global("rabbitmq"));
    if (id.rejected()) {
      LOG.log(
          System.Logger.Level.WARNING,
          "delivery "
              + d.getEnvelope().getDeliveryTag()
              + " on queue "
              + queue
              + ": "
              + id.rejection()
              + (id.cause() == null ? "" : ": " + id.cause()));
      return null;
    }
    return id.id();
  }

  /**
   * Settles a delivery whose handler failed: requeued for another attempt, or dead-lettered after
   * the last.
   *
   * @return false if the failure was a lost database connection: an outage, nothing settled, no
   *     attempt spent
   */
  private boolean failed(Delivery d, String id, @Nullable Throwable cause) {
    int before;
    before = failures.get(id);
    Object header =
        d.getProperties() == null || d.getProperties().getHeaders() == null
            ? null
            : d.getProperties().getHeaders().get(DELIVERY_COUNT_HEADER);
    if (header instanceof Number n) {
      before = Math.max(before, n.intValue());
    }
    InboxDecisions.Decision next = decisions.afterHandlerFailure(cause, before);
    if (next.action() == InboxDecisions.Action.WAIT_OUT_OUTAGE) {
      return false;
    }
    int attempts = next.attempts();
    failures.set(id, attempts);
    if (next.action() == InboxDecisions.Action.DEAD_LETTER) {
      failures.forget(id);
      LOG.log(
          System.Logger.Level.WARNING,
          "message "
              + id
              + " on queue "
              + queue
              + " failed "
              + attempts
              + " times; rejected without requeue (to the dead-letter exchange, if any): "
              + cause);
      settle(d, false, null);
      inbox.listener().deadLettered(inbox.consumer(), source, OnceListener.DEAD_LETTER_FAILED);
    } else {
      LOG.log(
          System.Logger.Level.INFO,
          "message "
              + id
              + " on queue "
              + queue
              + " failed (attempt "
              + attempts
              + " of "
              + decisions.maxAttempts()
              + "); requeued: "
              + cause);
      settle(d, true, null);
    }
    return true;
  }

  /**
   * Rejects one delivery: requeued ({@code basic.nack}) or dead-lettered ({@code basic.reject}).
   */
  private void settle(Delivery d, boolean requeue, @Nullable String why) {
    if (why != null) {
      LOG.log(
          System.Logger.Level.WARNING,
          "delivery " + d.getEnvelope().getDeliveryTag() + " on queue " + queue + " " + why);
    }
    try {
      if (requeue) {
        workerChannel().basicNack(d.getEnvelope().getDeliveryTag(), false, true);
      } else {
        workerChannel().basicReject(d.getEnvelope().getDeliveryTag(), false);
      }
    } catch (IOException | RuntimeException e) {
      // The channel is gone: RabbitMQ redelivers the message anyway.
      LOG.log(
          System.Logger.Level.WARNING,
          "could not settle a delivery on " + queue + "; it will be redelivered",
          e);
    }
  }

  /**
   * Returns every still unsettled delivery of a batch to the queue: one {@code basic.nack} with
   * {@code multiple=true}; the batch's other deliveries, and all earlier ones, are already settled.
   */
  private void requeue(List<Delivery> pending) {
    if (pending.isEmpty()) {
      return;
    }
    try {
      workerChannel()
          .basicNack(pending.get(pending.size() - 1).getEnvelope().getDeliveryTag(), true, true);
    } catch (IOException | RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "could not requeue a batch on " + queue + "; it will be redelivered",
          e);
    }
  }

  /** The channel the worker settles on: start() sets it before the worker starts. */
  private Channel workerChannel() {
    Channel started = channel;
    if (started == null) {
      throw new IllegalStateException("the consumer of queue " + queue + " was not started");
    }
    return started;
  }

  private void ack(long lastTag) {
    try {
      workerChannel().basicAck(lastTag, true);
    } catch (IOException | RuntimeException e) {
      // Committed but not acknowledged: the redelivery is skipped as a duplicate.
      LOG.log(
          System.Logger.Level.WARNING,
          "ack on "
              + queue
              + " failed after commit; the batch will be redelivered"
              + " and skipped as duplicates: "
              + e);
    }
  }

  /** Builds a {@link RabbitInboxConsumer}; every setting is validated at once. */
  public static final class Builder {
    private final Connection connection;
    private final String queue;
    private final JdbcInbox inbox;
    private JdbcInbox.@Nullable Handler<Delivery> handler;
    private Function<Delivery, String> messageId = RabbitInboxConsumer::amqpMessageId;
    private KeyPolicy keyPolicy = KeyPolicy.defaults();
    private int prefetch = 250;
    private int batchSize = 100;
    private Duration linger = Duration.ofMillis(20);
    private int maxAttempts = 5;
    private Duration storeRetryDelay = Duration.ofSeconds(1);
    private @Nullable Consumer<Batch<Delivery>> onBatch;

    private Builder(Connection connection, String queue, JdbcInbox inbox) {
      this.connection = Objects.requireNonNull(connection, "connection");
      this.queue = Objects.requireNonNull(queue, "queue");
      this.inbox = Objects.requireNonNull(inbox, "inbox");
    }

    /**
     * Applies one delivery on the batch's connection, inside its transaction. Required.
     *
     * @param handler not {@code null}
     * @return this builder
     */
    public Builder handler(JdbcInbox.Handler<Delivery> handler) {
      this.handler = Objects.requireNonNull(handler, "handler");
      return this;
    }

    /**
     * The delivery's id; null or blank means "no id" (rejected, never processed). Default: the AMQP
     * {@code message-id} property.
     *
     * @param messageId from a delivery to its id
     * @return this builder
     */
    public Builder messageId(Function<Delivery, String> messageId) {
      this.messageId = Objects.requireNonNull(messageId, "messageId");
      return this;
    }

    /**
     * Ids this policy refuses are rejected like missing ones; use the inbox's policy. Default
     * {@link KeyPolicy#defaults()}.
     *
     * @param keyPolicy not {@code null}
     * @return this builder
     */
    public Builder keyPolicy(KeyPolicy keyPolicy) {
      this.keyPolicy = Objects.requireNonNull(keyPolicy, "keyPolicy");
      return this;
    }

    /**
     * Unacknowledged deliveries the broker sends ahead ({@code basic.qos}); at least the batch
     * size. Default 250.
     *
     * @param prefetch 1 to 65535
     * @return this builder
     * @throws IllegalArgumentException if it is out of that range
     */
    public Builder prefetch(int prefetch) {
      if (prefetch < 1 || prefetch > 65_535) {
        throw new IllegalArgumentException(
            "prefetch must be between 1 and 65535, but was " + prefetch);
      }
      this.prefetch = prefetch;
      return this;
    }

    /**
     * Deliveries per transaction, at most. Default 100.
     *
     * @param batchSize positive; at most the prefetch
     * @return this builder
     * @throws IllegalArgumentException if it is not positive
     */
    public Builder batchSize(int batchSize) {
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize must be positive, but was " + batchSize);
      }
      this.batchSize = batchSize;
      return this;
    }

    /**
     * How long a batch waits for more deliveries after its first one. Default 20 ms; zero takes
     * what is there.
     *
     * @param linger zero or positive
     * @return this builder
     * @throws IllegalArgumentException if it is {@code null} or negative
     */
    public Builder linger(Duration linger) {
      if (linger == null || linger.isNegative()) {
        throw new IllegalArgumentException("linger must be zero or positive, but was " + linger);
      }
      this.linger = linger;
      return this;
    }

    /**
     * Failed handler attempts before a delivery is dead-lettered (rejected without requeue).
     * Default 5.
     *
     * @param maxAttempts positive
     * @return this builder
     * @throws IllegalArgumentException if it is not positive
     */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be positive, but was " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /**
     * Pause before a batch is tried again after a database failure: a random time between half and
     * all of it. Default 1 s.
     *
     * @param storeRetryDelay positive
     * @return this builder
     * @throws IllegalArgumentException if it is {@code null}, zero or negative
     */
    public Builder storeRetryDelay(Duration storeRetryDelay) {
      if (storeRetryDelay == null || storeRetryDelay.isNegative() || storeRetryDelay.isZero()) {
        throw new IllegalArgumentException(
            "storeRetryDelay must be positive, but was " + storeRetryDelay);
      }
      this.storeRetryDelay = storeRetryDelay;
      return this;
    }

    /**
     * Called on the worker thread after each batch committed and its ack was sent (or failed to be
     * sent, when the channel is gone: then the batch is redelivered and reported again as
     * duplicates). For metrics and logs; an exception it throws is logged and ignored. Optional.
     *
     * @param onBatch not {@code null}
     * @return this builder
     */
    public Builder onBatch(Consumer<Batch<Delivery>> onBatch) {
      this.onBatch = Objects.requireNonNull(onBatch, "onBatch");
      return this;
    }

    /**
     * Builds the consumer; {@link RabbitInboxConsumer#start()} starts it.
     *
     * @return the consumer, not yet consuming
     * @throws IllegalStateException if no handler was set, or the prefetch is smaller than the
     *     batch size
     */
    public RabbitInboxConsumer build() {
      if (handler == null) {
        throw new IllegalStateException("handler is required for the consumer of queue " + queue);
      }
      if (prefetch < batchSize) {
        throw new IllegalStateException(
            "prefetch must be at least batchSize, but was " + prefetch + " < " + batchSize);
      }
      return new RabbitInboxConsumer(this);
    }
  }
}
