package dev.once.nats;

import dev.once.KeyPolicy;
import dev.once.OnceListener;
import dev.once.Scope;
import dev.once.StoreException;
import dev.once.internal.BatchTicker;
import dev.once.internal.Failpoints;
import dev.once.internal.InboxDecisions;
import dev.once.jdbc.JdbcInbox;
import dev.once.jdbc.JdbcInbox.Batch;
import dev.once.jdbc.JdbcInbox.HandlerFailedException;
import dev.once.nats.internal.DeadLetters;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.impl.Headers;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Consumes a NATS JetStream durable pull consumer through a {@link JdbcInbox}: every message's
 * effect is applied at most once, in the same database transaction as its dedupe marker, and the
 * message is acknowledged only after that transaction committed. Together with JetStream's
 * at-least-once redelivery this gives exactly-once database effects.
 *
 * <pre>{@code
 * // the durable consumer is the application's: explicit acks, pull (no deliver subject)
 * connection.jetStreamManagement().addOrUpdateConsumer("ORDERS", ConsumerConfiguration.builder()
 *     .durable("payments").ackPolicy(AckPolicy.Explicit).ackWait(Duration.ofSeconds(30)).build());
 * NatsInboxConsumer consumer = NatsInboxConsumer.builder(connection, "ORDERS", "payments", inbox)
 *     .handler((c, message) -> applyTransfer(c, message.getData()))
 *     .batchSize(100).maxAttempts(5).deadLetterSubject("orders.dead")
 *     .build();
 * consumer.start();                                   // ... consumer.close() on shutdown
 * }</pre>
 *
 * <p><b>How a batch goes.</b> Up to {@code batchSize} messages are fetched ({@code fetch}, waiting
 * at most {@code fetchWait} for the batch to fill). The batch runs in one transaction ({@link
 * JdbcInbox#process}); after the commit each message is acked. A crash after the commit and before
 * the acks makes JetStream redeliver the batch once the consumer's AckWait passed, and the inbox
 * skips it as duplicates. While a batch runs longer than a third of the AckWait (slow handlers, or
 * waiting for the database), its messages get an {@code inProgress()} ack every third of the
 * AckWait, so JetStream does not redeliver them meanwhile.
 *
 * <p><b>Message ids.</b> By default the {@code Nats-Msg-Id} header (the one JetStream's own
 * publish-side duplicate window uses); {@link Builder#messageId} takes any function of the message.
 * Ids are deduped per durable consumer and stream (source {@code nats:<durable>/<stream>} in the
 * inbox), unless the inbox was built with {@link JdbcInbox.Builder#sharedScope}. A message without
 * an id (null or blank), or with one the {@link KeyPolicy} refuses, is never processed unprotected:
 * it is dead-lettered (below) with the reason.
 *
 * <p><b>Handler failures.</b> The failing message is taken out of the batch and the rest is
 * processed again (the whole transaction was rolled back). The failing one is nacked with a delay
 * ({@code nakWithDelay}, exponential backoff with jitter), and once it has failed on its {@code
 * maxAttempts}-th delivery it is dead-lettered. Deliveries are counted by JetStream (the message's
 * delivery count in its metadata), so the count survives a restart of the consumer; it also counts
 * the redeliveries after a crash or an expired AckWait, so a message that came back that way has
 * fewer handler attempts left.
 *
 * <p><b>Dead letters.</b> With a {@link Builder#deadLetterSubject}, the message (its data and
 * headers, plus {@code Once-Dead-Letter-Reason}, {@code Once-Original-Subject}, {@code
 * Once-Original-Stream}, {@code Once-Original-Sequence} and {@code Once-Deliveries}) is published
 * there through JetStream, and only after the stream stored it is the original terminated ({@code
 * term}); a failed publish naks the original instead, so a dead letter is never lost. Without one,
 * the message is only terminated (JetStream's {@code MSG_TERMINATED} advisory reports it).
 *
 * <p><b>Database down.</b> A {@link StoreException}, or a handler exception caused by a lost
 * database connection (the store's own classification), leaves the batch unacknowledged (its
 * in-progress acks continue) and retries it after {@code storeRetryDelay} (with jitter), for as
 * long as the consumer runs; nothing is nacked, so no delivery is spent and a healthy message is
 * never dead-lettered because the database went away.
 *
 * <p><b>Server connection lost.</b> jnats reconnects (give the connection {@code
 * maxReconnects(-1)}); meanwhile fetches fail and are retried after a pause. An ack that cannot be
 * sent after a commit is lost: JetStream redelivers the message after AckWait and the inbox skips
 * it.
 *
 * <p>Thread-safety: {@link #start} and {@link #close} may be called from any thread; the handler
 * runs on one worker thread per consumer, one batch at a time.
 */
public final class NatsInboxConsumer implements AutoCloseable {

  /** Crash tests' failpoint: after the batch's transaction committed, before the ack is sent. */
  static final String AFTER_COMMIT_BEFORE_ACK = "nats.after-commit-before-ack";

  private static final System.Logger LOG = System.getLogger(NatsInboxConsumer.class.getName());

  /** The header JetStream's publish-side deduplication reads; the default message id. */
  public static final String MSG_ID_HEADER = "Nats-Msg-Id";

  /** Why a message was dead-lettered (one line, at most 500 characters). */
  public static final String REASON_HEADER = DeadLetters.REASON_HEADER;

  private final Connection connection;
  private final String stream;
  private final String durable;
  private final String source;
  private final JdbcInbox inbox;
  private final JdbcInbox.Handler<Message> handler;
  private final JdbcInbox.@Nullable BatchHandler<Message> batchHandler;
  private final Function<Message, String> messageId;
  private final KeyPolicy keyPolicy;
  private final int batchSize;
  private final Duration fetchWait;
  private final @Nullable String deadLetterSubject;

  /** Outage or the message's fault, retry or dead-letter: decided as by every inbox adapter. */
  private final InboxDecisions decisions;

  private final @Nullable Consumer<Batch<Message>> onBatch;

  private final Object lifecycle = new Object();
  private volatile boolean running;
  private @Nullable DeadLetters deadLetters;
  private @Nullable JetStreamSubscription subscription;
  private @Nullable BatchTicker<Message> ticker;
  private @Nullable Thread worker;

  private NatsInboxConsumer(Builder b) {
    this.connection = b.connection;
    this.stream = b.stream;
    this.durable = b.durable;
    this.source = "nats:" + b.durable + "/" + b.stream;
    this.inbox = b.inbox;
    JdbcInbox.BatchHandler<Message> whole = b.batchHandler;
    this.batchHandler = whole;
    // A batch handler's failing message is found by running the batch again one message at a
    // time, through the per-message path and its settling.
    this.handler =
        whole != null
            ? (c, m) -> whole.handle(c, List.of(m))
            : Objects.requireNonNull(b.handler, "build() checked the handler");
    this.messageId = b.messageId;
    this.keyPolicy = b.keyPolicy;
    this.batchSize = b.batchSize;
    this.fetchWait = b.fetchWait;
    this.deadLetterSubject = b.deadLetterSubject;
    this.decisions =
        new InboxDecisions(
            b.maxAttempts,
            new InboxDecisions.Backoff(b.initialBackoff, b.maxBackoff),
            new InboxDecisions.Backoff(b.storeRetryDelay, b.storeRetryDelay));
    this.onBatch = b.onBatch;
  }

  /**
   * Starts building a consumer of the durable pull consumer {@code durable} on {@code stream}.
   *
   * @param connection an open NATS connection; stays the caller's to close
   * @param stream the stream's name
   * @param durable the durable pull consumer's name, with {@link AckPolicy#Explicit}; it must exist
   *     when {@link #start()} runs
   * @param inbox the inbox whose transactions apply and dedupe the messages
   * @return a new builder
   */
  public static Builder builder(
      Connection connection, String stream, String durable, JdbcInbox inbox) {
    return new Builder(connection, stream, durable, inbox);
  }

  /**
   * The default message id: the {@code Nats-Msg-Id} header.
   *
   * @param message the message
   * @return the id, or {@code null} when the header is absent
   */
  public static @Nullable String natsMsgId(Message message) {
    Headers headers = message.getHeaders();
    return headers == null ? null : headers.getFirst(MSG_ID_HEADER);
  }

  /**
   * Checks the durable consumer (and the dead-letter subject) and starts fetching on a worker
   * thread.
   *
   * @throws IOException if the server could not be asked
   * @throws JetStreamApiException if the stream or the durable consumer does not exist
   * @throws IllegalStateException if already started; if the durable consumer does not use explicit
   *     acks, is a push consumer, or redelivers fewer than {@code maxAttempts} times; if the
   *     dead-letter subject is stored by no stream
   */
  public void start() throws IOException, JetStreamApiException {
    synchronized (lifecycle) {
      if (subscription != null) {
        throw new IllegalStateException(
            "consumer " + durable + " of stream " + stream + " was already started");
      }
      ConsumerConfiguration config =
          connection
              .jetStreamManagement()
              .getConsumerInfo(stream, durable)
              .getConsumerConfiguration();
      check(config);
      if (deadLetterSubject != null
          && connection.jetStreamManagement().getStreamNames(deadLetterSubject).isEmpty()) {
        throw new IllegalStateException(
            "deadLetterSubject "
                + deadLetterSubject
                + " is stored by no stream: create one whose subjects include it,"
                + " or dead letters would be lost");
      }
      Duration ackWait = config.getAckWait() == null ? Duration.ofSeconds(30) : config.getAckWait();
      JetStream js = connection.jetStream();
      JetStreamSubscription sub = js.subscribe(null, PullSubscribeOptions.bind(stream, durable));
      deadLetters =
          new DeadLetters(
              js, stream, deadLetterSubject, () -> Duration.ofNanos(decisions.outageWait(1)));
      subscription = sub;
      ticker =
          new BatchTicker<>(
              ackWait.dividedBy(3),
              "once-nats-in-progress-" + durable,
              NatsInboxConsumer::inProgress);
      running = true;
      worker = new Thread(this::work, "once-nats-" + durable);
      worker.setDaemon(true);
      worker.start();
    }
  }

  private void check(ConsumerConfiguration config) {
    String which = "durable consumer " + durable + " of stream " + stream;
    if (config.getAckPolicy() != AckPolicy.Explicit) {
      throw new IllegalStateException(
          which + " must use AckPolicy.Explicit, but uses " + config.getAckPolicy().name());
    }
    if (config.getDeliverSubject() != null) {
      throw new IllegalStateException(
          which + " must be a pull consumer, but delivers to " + config.getDeliverSubject());
    }
    long maxDeliver = config.getMaxDeliver();
    if (maxDeliver > 0 && maxDeliver < decisions.maxAttempts()) {
      throw new IllegalStateException(
          which
              + " redelivers at most "
              + maxDeliver
              + " times (MaxDeliver), fewer than maxAttempts "
              + decisions.maxAttempts()
              + ": a failing message would stop coming back before it is dead-lettered");
    }
  }

  /**
   * Stops fetching, finishes (commits and acknowledges) the batch in hand, waiting up to 30 s, and
   * drops the subscription; the durable consumer stays on the server. Messages fetched and not
   * acknowledged then are redelivered by JetStream.
   */
  @Override
  public void close() {
    synchronized (lifecycle) {
      running = false;
      try {
        Thread started = worker;
        if (started != null) {
          started.join(Duration.ofSeconds(30).toMillis());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      BatchTicker<Message> t = ticker;
      if (t != null) {
        t.close();
      }
      JetStreamSubscription sub = subscription;
      if (sub != null && sub.isActive()) {
        try {
          sub.unsubscribe(); // a durable consumer survives the unsubscribe of a bound subscription
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.DEBUG, "unsubscribing from " + durable + " failed", e);
        }
      }
    }
  }

  private void work() {
    JetStreamSubscription sub = Objects.requireNonNull(subscription, "start() subscribed");
    int fetchFailures = 0;
    while (running) {
      try {
        List<Message> batch = sub.fetch(batchSize, fetchWait);
        fetchFailures = 0;
        if (!batch.isEmpty()) {
          handle(batch);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        // A fetch on a lost connection, or an unexpected failure of a batch (whose messages were
        // nacked or come back after AckWait): pause so a broken connection is not spun on.
        LOG.log(
            System.Logger.Level.ERROR,
            "fetching or processing a batch of " + durable + " on " + stream + " failed",
            e);
        try {
          TimeUnit.NANOSECONDS.sleep(decisions.outageWait(++fetchFailures));
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private void handle(List<Message> batch) throws InterruptedException {
    BatchTicker<Message> inProgress = Objects.requireNonNull(ticker, "start() made the ticker");
    Map<Message, String> ids = new IdentityHashMap<>();
    List<Message> pending = new ArrayList<>(batch.size());
    for (Message m : batch) {
      String id = idOf(m);
      if (id != null) {
        ids.put(m, id);
        pending.add(m);
      }
    }
    if (pending.isEmpty()) {
      return;
    }
    inProgress.start(pending);
    try {
      int outages = 0;
      JdbcInbox.BatchHandler<Message> wholeBatch = batchHandler;
      while (!pending.isEmpty()) {
        Batch<Message> done;
        try {
          done =
              wholeBatch != null
                  ? inbox.processAll(pending, m -> source, ids::get, wholeBatch, null)
                  : inbox.process(pending, m -> source, ids::get, handler, null);
        } catch (HandlerFailedException e) {
          if (e.index() < 0) {
            // The batch handler failed for the whole batch: unless the database went away, run
            // the batch again message by message to settle only the failing one.
            if (decisions.afterHandlerFailure(e.getCause(), 0).action()
                == InboxDecisions.Action.WAIT_OUT_OUTAGE) {
              if (!waitOutOutage(pending, ++outages, e)) {
                return;
              }
            } else {
              wholeBatch = null;
            }
            continue;
          }
          Message failed = pending.get(e.index());
          InboxDecisions.Decision next =
              decisions.afterHandlerFailure(e.getCause(), deliveriesBefore(failed));
          if (next.action() == InboxDecisions.Action.WAIT_OUT_OUTAGE) {
            if (!waitOutOutage(pending, ++outages, e)) {
              return;
            }
            continue;
          }
          pending.remove(e.index());
          inProgress.update(pending); // no in-progress ack for the failed one once it is settled
          settleFailed(failed, Objects.requireNonNull(ids.get(failed)), next, e.getCause());
          continue;
        } catch (StoreException e) {
          if (!waitOutOutage(pending, ++outages, e)) {
            return;
          }
          continue;
        } catch (RuntimeException e) {
          inProgress.stop();
          pending.forEach(Message::nak);
          throw e;
        }
        inProgress.stop();
        // Committed: a crash from here on makes JetStream redeliver the batch after AckWait, and
        // the inbox skips it.
        Failpoints.hit(AFTER_COMMIT_BEFORE_ACK);
        ack(pending);
        if (onBatch != null) {
          try {
            onBatch.accept(done);
          } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "onBatch callback failed on " + durable, e);
          }
        }
        return;
      }
    } finally {
      inProgress.stop();
    }
  }

  /**
   * An in-progress ack ({@code +WPI}) for each message: restarts the consumer's AckWait without
   * settling the message and without counting a delivery.
   */
  private static void inProgress(List<Message> messages) {
    for (Message m : messages) {
      try {
        m.inProgress();
      } catch (RuntimeException e) {
        // The connection is down: the message comes back after AckWait and the inbox skips it if
        // its batch committed.
        LOG.log(System.Logger.Level.DEBUG, "in-progress ack failed", e);
      }
    }
  }

  private void ack(List<Message> committed) {
    for (Message m : committed) {
      try {
        m.ack();
      } catch (RuntimeException e) {
        // The connection is down: JetStream redelivers after AckWait and the inbox skips it.
        LOG.log(
            System.Logger.Level.WARNING,
            "ack on "
                + durable
                + " failed after commit; the batch will be redelivered and skipped as duplicates: "
                + e);
        return;
      }
    }
  }

  /**
   * A store outage: nothing is settled (no delivery is spent, the in-progress acks go on), the
   * batch is tried again after the outage backoff.
   *
   * @return false if the consumer is closing: then the batch is nacked for another consumer
   */
  private boolean waitOutOutage(List<Message> pending, int outages, RuntimeException e)
      throws InterruptedException {
    long wait = decisions.outageWait(outages);
    if (running) {
      LOG.log(
          System.Logger.Level.WARNING,
          "database failed for a batch of "
              + pending.size()
              + " of "
              + durable
              + " on "
              + stream
              + " (attempt "
              + outages
              + "); nothing settled, retrying in "
              + TimeUnit.NANOSECONDS.toMillis(wait)
              + " ms",
          e);
      TimeUnit.NANOSECONDS.sleep(wait);
    }
    if (!running) {
      Objects.requireNonNull(ticker).stop();
      pending.forEach(Message::nak);
      return false;
    }
    return true;
  }

  private @Nullable String idOf(Message m) {
    InboxDecisions.ResolvedId id =
        InboxDecisions.resolveId(() -> messageId.apply(m), null, keyPolicy, Scope.global("nats"));
    if (id.rejected()) {
      String reason =
          String.valueOf(id.rejection()) + (id.cause() == null ? "" : ": " + id.cause());
      if (Objects.requireNonNull(deadLetters, "start() made it").send(m, reason)) {
        inbox.listener().deadLettered(inbox.consumer(), source, OnceListener.DEAD_LETTER_REJECTED);
      }
      return null;
    }
    return id.id();
  }

  /** The message's deliveries before this one, as JetStream counts them (survives restarts). */
  private static int deliveriesBefore(Message m) {
    return (int) Math.min(Math.max(m.metaData().deliveredCount() - 1, 0), Integer.MAX_VALUE);
  }

  /**
   * Settles a message whose handler failed (not for an outage): nacked with a delay, or
   * dead-lettered on its last delivery.
   */
  private void settleFailed(
      Message m, String id, InboxDecisions.Decision next, @Nullable Throwable cause) {
    if (next.action() == InboxDecisions.Action.DEAD_LETTER) {
      boolean dead =
          Objects.requireNonNull(deadLetters, "start() made it")
              .send(
                  m,
                  "handler failed on delivery "
                      + next.attempts()
                      + " of "
                      + decisions.maxAttempts()
                      + ": "
                      + cause);
      if (dead) {
        inbox.listener().deadLettered(inbox.consumer(), source, OnceListener.DEAD_LETTER_FAILED);
      }
      return;
    }
    Duration delay = Duration.ofNanos(next.waitNanos());
    LOG.log(
        System.Logger.Level.INFO,
        "message "
            + id
            + " of "
            + durable
            + " failed (delivery "
            + next.attempts()
            + " of "
            + decisions.maxAttempts()
            + "); redelivered in "
            + delay.toMillis()
            + " ms: "
            + cause);
    m.nakWithDelay(delay);
  }

  /** Builds a {@link NatsInboxConsumer}; every setting is validated at once. */
  public static final class Builder {
    private final Connection connection;
    private final String stream;
    private final String durable;
    private final JdbcInbox inbox;
    private JdbcInbox.@Nullable Handler<Message> handler;
    private JdbcInbox.@Nullable BatchHandler<Message> batchHandler;
    private Function<Message, String> messageId = NatsInboxConsumer::natsMsgId;
    private KeyPolicy keyPolicy = KeyPolicy.defaults();
    private int batchSize = 100;
    private Duration fetchWait = Duration.ofMillis(100);
    private int maxAttempts = 5;
    private Duration initialBackoff = Duration.ofSeconds(1);
    private Duration maxBackoff = Duration.ofMinutes(1);
    private Duration storeRetryDelay = Duration.ofSeconds(1);
    private @Nullable String deadLetterSubject;
    private @Nullable Consumer<Batch<Message>> onBatch;

    private Builder(Connection connection, String stream, String durable, JdbcInbox inbox) {
      this.connection = Objects.requireNonNull(connection, "connection");
      this.stream = requireName(stream, "stream");
      this.durable = requireName(durable, "durable");
      this.inbox = Objects.requireNonNull(inbox, "inbox");
    }

    private static String requireName(@Nullable String name, String what) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException(what + " must not be blank, but was '" + name + "'");
      }
      return name;
    }

    /**
     * Applies one message on the batch's connection, inside its transaction. This or {@link
     * #batchHandler} is required.
     *
     * @param handler not {@code null}
     * @return this builder
     */
    public Builder handler(JdbcInbox.Handler<Message> handler) {
      this.handler = Objects.requireNonNull(handler, "handler");
      this.batchHandler = null;
      return this;
    }

    /**
     * Applies a batch's fresh messages in one call on the batch's connection, inside its
     * transaction (one JDBC batch for all of them, say): the fastest form. In place of {@link
     * #handler}. If it throws, the batch is rolled back and run again one message at a time (the
     * handler called with one message each), so that only the failing message is nacked and, on its
     * last delivery, dead-lettered.
     *
     * @param batchHandler not {@code null}
     * @return this builder
     */
    public Builder batchHandler(JdbcInbox.BatchHandler<Message> batchHandler) {
      this.batchHandler = Objects.requireNonNull(batchHandler, "batchHandler");
      this.handler = null;
      return this;
    }

    /**
     * The message's id; null or blank means "no id" (dead-lettered, never processed). Default: the
     * {@code Nats-Msg-Id} header.
     *
     * @param messageId from a message to its id
     * @return this builder
     */
    public Builder messageId(Function<Message, String> messageId) {
      this.messageId = Objects.requireNonNull(messageId, "messageId");
      return this;
    }

    /**
     * Ids this policy refuses are dead-lettered like missing ones; use the inbox's policy. Default
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
     * Messages per fetch and per transaction, at most. Default 100.
     *
     * @param batchSize positive
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
     * How long a fetch waits for the batch to fill before it takes what came. Default 100 ms.
     *
     * @param fetchWait positive
     * @return this builder
     * @throws IllegalArgumentException if it is {@code null}, zero or negative
     */
    public Builder fetchWait(Duration fetchWait) {
      if (fetchWait == null || fetchWait.isNegative() || fetchWait.isZero()) {
        throw new IllegalArgumentException("fetchWait must be positive, but was " + fetchWait);
      }
      this.fetchWait = fetchWait;
      return this;
    }

    /**
     * The delivery on which a failing message is dead-lettered instead of nacked. Default 5.
     *
     * @param maxAttempts positive; at most the durable consumer's MaxDeliver, if it has one
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
     * The redelivery delay of a failed message ({@code nakWithDelay}): after its n-th failure a
     * random time between half and all of {@code initial x 2^(n-1)}, at most {@code max}. Default 1
     * s and 1 min.
     *
     * @param initial zero or positive
     * @param max at least {@code initial}
     * @return this builder
     * @throws IllegalArgumentException if {@code initial} is negative or {@code max} is below it
     */
    public Builder backoff(Duration initial, Duration max) {
      new InboxDecisions.Backoff(initial, max); // validates
      this.initialBackoff = initial;
      this.maxBackoff = max;
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
     * Where dead letters are published (through JetStream: a stream must store the subject, which
     * {@link #start()} checks). Optional: without it a dead message is only terminated.
     *
     * @param deadLetterSubject not blank
     * @return this builder
     * @throws IllegalArgumentException if it is blank
     */
    public Builder deadLetterSubject(String deadLetterSubject) {
      this.deadLetterSubject = requireName(deadLetterSubject, "deadLetterSubject");
      return this;
    }

    /**
     * Called on the worker thread after each batch committed and its acks were sent. For metrics
     * and logs; an exception it throws is logged and ignored. Optional.
     *
     * @param onBatch not {@code null}
     * @return this builder
     */
    public Builder onBatch(Consumer<Batch<Message>> onBatch) {
      this.onBatch = Objects.requireNonNull(onBatch, "onBatch");
      return this;
    }

    /**
     * Builds the consumer; {@link NatsInboxConsumer#start()} starts it.
     *
     * @return the consumer, not yet consuming
     * @throws IllegalStateException if no handler was set
     */
    public NatsInboxConsumer build() {
      if (handler == null && batchHandler == null) {
        throw new IllegalStateException(
            "a handler or a batchHandler is required for the consumer "
                + durable
                + " of stream "
                + stream);
      }
      return new NatsInboxConsumer(this);
    }
  }
}
