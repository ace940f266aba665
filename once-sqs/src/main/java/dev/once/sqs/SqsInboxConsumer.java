package dev.once.sqs;

import dev.once.KeyPolicy;
import dev.once.Scope;
import dev.once.StoreException;
import dev.once.internal.BatchTicker;
import dev.once.internal.Failpoints;
import dev.once.internal.InboxDecisions;
import dev.once.jdbc.JdbcInbox;
import dev.once.jdbc.JdbcInbox.Batch;
import dev.once.jdbc.JdbcInbox.HandlerFailedException;
import dev.once.sqs.internal.BatchCalls;
import dev.once.sqs.internal.QueueSettings;
import dev.once.sqs.internal.Settlements;
import java.net.URI;
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
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * Consumes an Amazon SQS queue through a {@link JdbcInbox}: every message's effect is applied at
 * most once, in the same database transaction as its dedupe marker, and the message is deleted only
 * after that transaction committed. Together with SQS's at-least-once delivery (a message not
 * deleted comes back when its visibility timeout runs out) this gives exactly-once database
 * effects.
 *
 * <pre>{@code
 * SqsInboxConsumer consumer = SqsInboxConsumer.builder(sqsClient, queueUrl, inbox)
 *     .handler((c, message) -> applyTransfer(c, message.body()))
 *     .batchSize(10).maxAttempts(5)              // the queue's RedrivePolicy: maxReceiveCount 5
 *     .build();
 * consumer.start();                                   // ... consumer.close() on shutdown
 * }</pre>
 *
 * <p><b>How a batch goes.</b> A long poll ({@code ReceiveMessage} with {@code WaitTimeSeconds})
 * waits up to {@code waitTime} for messages; while the queue hands out full receives of ten and the
 * batch is not full, further receives (without waiting) fill it up to {@code batchSize}. The batch
 * runs in one transaction ({@link JdbcInbox#process}); after the commit its messages are deleted
 * ({@code DeleteMessageBatch}). A crash after the commit and before the delete, or a delete that
 * fails, leaves the messages on the queue: they come back once their visibility timeout ran out,
 * and the inbox skips them as duplicates (and deletes them). While a batch runs longer than a third
 * of the queue's visibility timeout (slow handlers, or waiting for the database), its messages'
 * visibility is extended ({@code ChangeMessageVisibilityBatch}) to a full timeout again, every
 * third of it, so no other consumer receives them meanwhile.
 *
 * <p><b>Message ids.</b> By default the SQS {@code MessageId}, which is new for every send: a
 * producer that sends the same command twice needs its own id, in a message attribute ({@link
 * #messageAttribute(String)}) or the body ({@link Builder#messageId}). On a FIFO queue {@link
 * #deduplicationId(Message)} (the {@code MessageDeduplicationId}) is the natural choice. Ids are
 * deduped per queue (source {@code sqs:<account>/<queue name>}, the queue URL's path, in the
 * inbox), unless the inbox was built with {@link JdbcInbox.Builder#sharedScope}. A message without
 * an id (null or blank), or with one the {@link KeyPolicy} refuses, is never processed unprotected:
 * it is given up like a poison message (below).
 *
 * <p><b>Handler failures.</b> The failing message is taken out of the batch and the rest is
 * processed again (the whole transaction was rolled back). The failing one is made visible again
 * after a backoff (its visibility timeout set to it: exponential with jitter, in whole seconds).
 * SQS counts its receives ({@code ApproximateReceiveCount}, which survives a restart of the
 * consumer, and also counts the receives after a crash or an expired visibility timeout); once it
 * has failed on its {@code maxAttempts}-th receive it is given up: made visible at once (visibility
 * 0), so that the queue's redrive policy moves it to the dead-letter queue when it is received past
 * {@code maxReceiveCount}. Set {@code maxReceiveCount} to {@code maxAttempts}: {@link #start()}
 * refuses a queue whose {@code maxReceiveCount} is smaller (the queue would move a message before
 * its last attempt), and with a larger one a given-up message is tried again without backoff until
 * the queue moves it. A queue without a redrive policy is accepted with a warning: a given-up
 * message is then kept, and comes back after {@code maxBackoff} again and again until it succeeds
 * or the queue's retention period ends; it is never deleted unapplied.
 *
 * <p><b>Database down.</b> A {@link StoreException}, or a handler exception caused by a lost
 * database connection (the store's own classification), leaves the batch on the queue (its
 * visibility extensions continue) and retries it after {@code storeRetryDelay} (with jitter), for
 * as long as the consumer runs; nothing is deleted and no visibility is shortened, so no receive is
 * spent and a healthy message is never given up because the database went away.
 *
 * <p><b>SQS unreachable.</b> A failed receive is retried after a pause. A delete that fails after a
 * commit is logged: the message comes back after its visibility timeout and the inbox skips it.
 *
 * <p>Thread-safety: {@link #start} and {@link #close} may be called from any thread; the handler
 * runs on one worker thread per consumer, one batch at a time.
 */
public final class SqsInboxConsumer implements AutoCloseable {

  /** Crash tests' failpoint: after the batch's transaction committed, before the delete. */
  static final String AFTER_COMMIT_BEFORE_DELETE = "sqs.after-commit-before-delete";

  private static final System.Logger LOG = System.getLogger(SqsInboxConsumer.class.getName());

  private final SqsClient client;
  private final String queueUrl;
  private final String source;
  private final JdbcInbox inbox;
  private final JdbcInbox.Handler<Message> handler;
  private final Function<Message, String> messageId;
  private final KeyPolicy keyPolicy;
  private final int batchSize;
  private final int waitTimeSeconds;
  private final Duration maxBackoff;

  /** Outage or the message's fault, retry or give up: decided as by every inbox adapter. */
  private final InboxDecisions decisions;

  private final @Nullable Consumer<Batch<Message>> onBatch;

  private final Object lifecycle = new Object();

  /** Guards {@link #polling}: close() abandons a long poll, never a batch in hand. */
  private final Object pollLock = new Object();

  private volatile boolean running;
  private boolean polling; // guarded by pollLock
  private boolean abandonPoll; // guarded by pollLock
  private @Nullable Settlements settlements;
  private @Nullable BatchTicker<Message> ticker;
  private @Nullable Thread worker;

  private SqsInboxConsumer(Builder b) {
    this.client = b.client;
    this.queueUrl = b.queueUrl;
    this.source = "sqs:" + queuePath(b.queueUrl);
    this.inbox = b.inbox;
    this.handler = Objects.requireNonNull(b.handler, "build() checked the handler");
    this.messageId = b.messageId;
    this.keyPolicy = b.keyPolicy;
    this.batchSize = b.batchSize;
    this.waitTimeSeconds = b.waitTimeSeconds;
    this.maxBackoff = b.maxBackoff;
    this.decisions =
        new InboxDecisions(
            b.maxAttempts,
            new InboxDecisions.Backoff(b.initialBackoff, b.maxBackoff),
            new InboxDecisions.Backoff(b.storeRetryDelay, b.storeRetryDelay));
    this.onBatch = b.onBatch;
  }

  /**
   * Starts building a consumer of the queue at {@code queueUrl}.
   *
   * @param client an SQS client; stays the caller's to close. Its HTTP client must allow a request
   *     to last longer than {@code waitTime} (the SDK's defaults do)
   * @param queueUrl the queue's URL; the queue must exist when {@link #start()} runs
   * @param inbox the inbox whose transactions apply and dedupe the messages
   * @return a new builder
   */
  public static Builder builder(SqsClient client, String queueUrl, JdbcInbox inbox) {
    return new Builder(client, queueUrl, inbox);
  }

  /**
   * The SQS {@code MessageId}: the default message id. New for every send, so it dedupes SQS's own
   * redeliveries, not a producer's second send.
   *
   * @param message the message
   * @return its id
   */
  public static String sqsMessageId(Message message) {
    return message.messageId();
  }

  /**
   * The FIFO queues' {@code MessageDeduplicationId} system attribute (the consumer asks for all
   * system attributes): the same id the queue's own five-minute deduplication window uses, so a
   * producer's resend after that window is still skipped.
   *
   * @param message the message
   * @return the id, or {@code null} on a standard queue
   */
  public static @Nullable String deduplicationId(Message message) {
    return message.attributes().get(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID);
  }

  /**
   * A message id read from a message attribute of type {@code String} (the consumer asks for all
   * message attributes).
   *
   * @param name the attribute's name, not blank
   * @return a function giving the attribute's string value, or {@code null} when the message lacks
   *     it
   * @throws IllegalArgumentException if {@code name} is blank
   */
  public static Function<Message, String> messageAttribute(String name) {
    String attribute = requireName(name, "message attribute name");
    return m -> {
      MessageAttributeValue value = m.messageAttributes().get(attribute);
      return value == null ? null : value.stringValue();
    };
  }

  /**
   * How many times SQS handed this message out, this receive included ({@code
   * ApproximateReceiveCount}).
   *
   * @param message a message received by this consumer
   * @return at least 1
   */
  public static int receiveCount(Message message) {
    return Settlements.receiveCount(message);
  }

  /**
   * Reads the queue's visibility timeout and redrive policy, checks them, and starts receiving on a
   * worker thread.
   *
   * @throws software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException if the queue does
   *     not exist
   * @throws software.amazon.awssdk.core.exception.SdkException if SQS could not be asked
   * @throws IllegalStateException if already started; if the queue's visibility timeout is 0; if
   *     its redrive policy moves a message to the dead-letter queue after fewer receives ({@code
   *     maxReceiveCount}) than {@code maxAttempts}
   */
  public void start() {
    synchronized (lifecycle) {
      if (worker != null) {
        throw new IllegalStateException("the consumer of " + queueUrl + " was already started");
      }
      QueueSettings settings = QueueSettings.read(client, queueUrl);
      check(settings);
      Settlements settle = new Settlements(client, queueUrl, settings, maxBackoff);
      settlements = settle;
      ticker =
          new BatchTicker<>(
              Duration.ofSeconds(settings.visibilityTimeoutSeconds()).dividedBy(3),
              "once-sqs-visibility-" + queuePath(queueUrl),
              settle::extend);
      running = true;
      Thread t = new Thread(this::work, "once-sqs-" + queuePath(queueUrl));
      t.setDaemon(true);
      worker = t;
      t.start();
    }
  }

  private void check(QueueSettings settings) {
    if (settings.visibilityTimeoutSeconds() < 1) {
      throw new IllegalStateException(
          "queue "
              + queueUrl
              + " has VisibilityTimeout 0: a received message would be handed to other consumers"
              + " at once; give it a visibility timeout of at least 1 s");
    }
    Integer maxReceiveCount = settings.maxReceiveCount();
    if (maxReceiveCount == null) {
      LOG.log(
          System.Logger.Level.WARNING,
          "queue "
              + queueUrl
              + " has no RedrivePolicy: a message that fails "
              + decisions.maxAttempts()
              + " times is kept and tried again every "
              + maxBackoff
              + " until it succeeds or the queue's retention ends; give the queue a dead-letter"
              + " queue with maxReceiveCount "
              + decisions.maxAttempts());
    } else if (maxReceiveCount < decisions.maxAttempts()) {
      throw new IllegalStateException(
          "queue "
              + queueUrl
              + " moves a message to its dead-letter queue after "
              + maxReceiveCount
              + " receives (RedrivePolicy maxReceiveCount), fewer than maxAttempts "
              + decisions.maxAttempts()
              + ": a failing message would be moved before its last attempt; make them equal");
    }
  }

  /**
   * Stops receiving and finishes (commits and deletes) the batch in hand, waiting up to 30 s for
   * it. A long poll in progress is abandoned: close() returns at once, and whatever that poll still
   * brings is made visible again (not handled) by the worker thread as it ends, through the client,
   * so keep the client open until {@link #awaitTermination} says the worker ended. Messages
   * received and not deleted otherwise come back after their visibility timeout.
   */
  @Override
  public void close() {
    synchronized (lifecycle) {
      running = false;
      Thread started = worker;
      if (started != null) {
        boolean inPoll;
        synchronized (pollLock) {
          inPoll = polling;
          if (inPoll) {
            // No interrupt: it would abort the request on our side only, while SQS still answers
            // the poll with messages made invisible for a connection that is gone.
            abandonPoll = true;
          }
        }
        if (!inPoll) {
          try {
            started.join(Duration.ofSeconds(30).toMillis());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }
      BatchTicker<Message> t = ticker;
      if (t != null) {
        t.close();
      }
    }
  }

  /**
   * Waits until the worker thread has ended after {@link #close()}: the batch in hand is settled
   * and what an abandoned long poll brought is handed back. The poll is left to end by itself (an
   * interrupted request would leave SQS answering a connection that is gone), so this can take up
   * to {@code waitTime}. Call it before closing the {@code SqsClient}: a message that poll took
   * while the client was closing stays invisible until its visibility timeout runs out.
   *
   * @param timeout the longest to wait
   * @return whether the worker has ended (true also if it never started)
   * @throws InterruptedException if the calling thread is interrupted while waiting
   */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    Thread started;
    synchronized (lifecycle) {
      started = worker;
    }
    if (started == null) {
      return true;
    }
    started.join(Math.max(1, timeout.toMillis()));
    return !started.isAlive();
  }

  private void work() {
    int receiveFailures = 0;
    while (running) {
      try {
        List<Message> batch = receive();
        receiveFailures = 0;
        if (!batch.isEmpty()) {
          handle(batch);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        if (!running) {
          return; // close() abandoned the long poll
        }
        // SQS unreachable, or an unexpected failure of a batch (whose messages were made visible
        // again or come back after their visibility timeout): pause so a broken connection is not
        // spun on.
        LOG.log(
            System.Logger.Level.ERROR,
            "receiving or processing a batch of " + queueUrl + " failed",
            e);
        try {
          TimeUnit.NANOSECONDS.sleep(decisions.outageWait(++receiveFailures));
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /**
   * One long poll, then receives without waiting while they come back full and the batch is not.
   * Empty if close() abandoned a poll: then what was received is handed back.
   */
  private List<Message> receive() {
    List<Message> batch = new ArrayList<>();
    int wait = waitTimeSeconds;
    while (batch.size() < batchSize) {
      int want = Math.min(BatchCalls.MAX_ENTRIES, batchSize - batch.size());
      int waitNow = wait;
      synchronized (pollLock) {
        if (!running) {
          break; // close() came first: no poll to abandon
        }
        polling = true;
      }
      List<Message> received;
      try {
        received =
            client
                .receiveMessage(
                    b ->
                        b.queueUrl(queueUrl)
                            .maxNumberOfMessages(want)
                            .waitTimeSeconds(waitNow)
                            .messageSystemAttributeNames(MessageSystemAttributeName.ALL)
                            .messageAttributeNames("All"))
                .messages();
      } catch (RuntimeException e) {
        if (endPoll()) {
          handBack(batch);
          return List.of();
        }
        throw e;
      }
      batch.addAll(received);
      if (endPoll()) {
        handBack(batch);
        return List.of();
      }
      if (received.size() < want) {
        break; // the queue had no more at hand
      }
      wait = 0;
    }
    return batch;
  }

  /**
   * Ends a poll.
   *
   * @return whether close() abandoned it
   */
  private boolean endPoll() {
    synchronized (pollLock) {
      polling = false;
      return abandonPoll;
    }
  }

  private void handBack(List<Message> received) {
    if (!received.isEmpty()) {
      Objects.requireNonNull(settlements, "start() made them").release(received);
    }
  }

  private void handle(List<Message> batch) throws InterruptedException {
    BatchTicker<Message> visibility = Objects.requireNonNull(ticker, "start() made the ticker");
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
    visibility.start(pending);
    try {
      int outages = 0;
      while (!pending.isEmpty()) {
        Batch<Message> done;
        try {
          done = inbox.process(pending, m -> source, ids::get, handler, null);
        } catch (HandlerFailedException e) {
          Message failed = pending.get(e.index());
          InboxDecisions.Decision next =
              decisions.afterHandlerFailure(e.getCause(), receiveCount(failed) - 1);
          if (next.action() == InboxDecisions.Action.WAIT_OUT_OUTAGE) {
            if (!waitOutOutage(pending, ++outages, e)) {
              return;
            }
            continue;
          }
          pending.remove(e.index());
          visibility.update(pending); // no extension for the failed one once it is settled
          settleFailed(failed, Objects.requireNonNull(ids.get(failed)), next, e.getCause());
          continue;
        } catch (StoreException e) {
          if (!waitOutOutage(pending, ++outages, e)) {
            return;
          }
          continue;
        } catch (RuntimeException e) {
          visibility.stop();
          Objects.requireNonNull(settlements).release(pending);
          throw e;
        }
        visibility.stop();
        // Committed: a crash from here on leaves the batch on the queue; it comes back after its
        // visibility timeout and the inbox skips it.
        Failpoints.hit(AFTER_COMMIT_BEFORE_DELETE);
        Objects.requireNonNull(settlements).deleteCommitted(pending);
        if (onBatch != null) {
          try {
            onBatch.accept(done);
          } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "onBatch callback failed on " + queueUrl, e);
          }
        }
        return;
      }
    } finally {
      visibility.stop();
    }
  }

  /**
   * A store outage: nothing is settled (no receive is spent, the visibility extensions go on), the
   * batch is tried again after the outage backoff.
   *
   * @return false if the consumer is closing: then the batch is made visible for another consumer
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
              + queueUrl
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
      Objects.requireNonNull(settlements).release(pending);
      return false;
    }
    return true;
  }

  private @Nullable String idOf(Message m) {
    InboxDecisions.ResolvedId id =
        InboxDecisions.resolveId(() -> messageId.apply(m), null, keyPolicy, Scope.global("sqs"));
    if (id.rejected()) {
      Objects.requireNonNull(settlements, "start() made them")
          .giveUp(
              m, String.valueOf(id.rejection()) + (id.cause() == null ? "" : ": " + id.cause()));
      return null;
    }
    return id.id();
  }

  /**
   * Settles a message whose handler failed (not for an outage): visible again after a backoff, or
   * given up on its last attempt.
   */
  private void settleFailed(
      Message m, String id, InboxDecisions.Decision next, @Nullable Throwable cause) {
    Settlements settle = Objects.requireNonNull(settlements, "start() made them");
    if (next.action() == InboxDecisions.Action.DEAD_LETTER) {
      settle.giveUp(
          m,
          "handler failed on receive "
              + receiveCount(m)
              + " (attempt "
              + next.attempts()
              + " of "
              + decisions.maxAttempts()
              + "): "
              + cause);
      return;
    }
    settle.retryLater(m, id, next.attempts(), decisions.maxAttempts(), next.waitNanos(), cause);
  }

  /** The queue URL's path ({@code <account>/<name>}): the same queue under any endpoint. */
  private static String queuePath(String queueUrl) {
    try {
      String path = URI.create(queueUrl).getPath();
      if (path != null && path.length() > 1) {
        return path.substring(1);
      }
    } catch (IllegalArgumentException e) {
      // not a URL: the whole string names the queue
    }
    return queueUrl;
  }

  private static String requireName(@Nullable String name, String what) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException(what + " must not be blank, but was '" + name + "'");
    }
    return name;
  }

  /** Builds a {@link SqsInboxConsumer}; every setting is validated at once. */
  public static final class Builder {
    private final SqsClient client;
    private final String queueUrl;
    private final JdbcInbox inbox;
    private JdbcInbox.@Nullable Handler<Message> handler;
    private Function<Message, String> messageId = SqsInboxConsumer::sqsMessageId;
    private KeyPolicy keyPolicy = KeyPolicy.defaults();
    private int batchSize = 10;
    private int waitTimeSeconds = 20;
    private int maxAttempts = 5;
    private Duration initialBackoff = Duration.ofSeconds(1);
    private Duration maxBackoff = Duration.ofMinutes(1);
    private Duration storeRetryDelay = Duration.ofSeconds(1);
    private @Nullable Consumer<Batch<Message>> onBatch;

    private Builder(SqsClient client, String queueUrl, JdbcInbox inbox) {
      this.client = Objects.requireNonNull(client, "client");
      this.queueUrl = requireName(queueUrl, "queueUrl");
      this.inbox = Objects.requireNonNull(inbox, "inbox");
    }

    /**
     * Applies one message on the batch's connection, inside its transaction. Required.
     *
     * @param handler not {@code null}
     * @return this builder
     */
    public Builder handler(JdbcInbox.Handler<Message> handler) {
      this.handler = Objects.requireNonNull(handler, "handler");
      return this;
    }

    /**
     * The message's id; null or blank means "no id" (given up, never processed). Default: the SQS
     * {@code MessageId}; see {@link SqsInboxConsumer#messageAttribute(String)} and {@link
     * SqsInboxConsumer#deduplicationId(Message)}.
     *
     * @param messageId from a message to its id
     * @return this builder
     */
    public Builder messageId(Function<Message, String> messageId) {
      this.messageId = Objects.requireNonNull(messageId, "messageId");
      return this;
    }

    /**
     * Ids this policy refuses are given up like missing ones; use the inbox's policy. Default
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
     * Messages per transaction, at most; above 10 (the most one receive returns) a batch is filled
     * by several receives. Default 10.
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
     * How long a receive waits for a message ({@code WaitTimeSeconds}, long polling); {@link
     * SqsInboxConsumer#close()} abandons a wait in progress. Default 20 s, SQS's longest.
     *
     * @param waitTime whole seconds from 0 to 20
     * @return this builder
     * @throws IllegalArgumentException if it is {@code null}, negative, above 20 s or not whole
     *     seconds
     */
    public Builder waitTime(Duration waitTime) {
      if (waitTime == null
          || waitTime.isNegative()
          || waitTime.compareTo(Duration.ofSeconds(20)) > 0
          || waitTime.toNanos() % TimeUnit.SECONDS.toNanos(1) != 0) {
        throw new IllegalArgumentException(
            "waitTime must be whole seconds from 0 to 20 s, but was " + waitTime);
      }
      this.waitTimeSeconds = (int) waitTime.toSeconds();
      return this;
    }

    /**
     * The receive on which a failing message is given up (left to the queue's redrive policy).
     * Default 5.
     *
     * @param maxAttempts positive; at most the queue's {@code maxReceiveCount}, which {@link
     *     SqsInboxConsumer#start()} checks
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
     * When a failed message is visible again: after its n-th failure a random time between half and
     * all of {@code initial x 2^(n-1)}, at most {@code max}, rounded up to whole seconds (SQS's
     * unit) and at most 12 h. {@code max} is also the delay of a given-up message on a queue
     * without a redrive policy. Default 1 s and 1 min.
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
     * Called on the worker thread after each batch committed and its delete was sent. For metrics
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
     * Builds the consumer; {@link SqsInboxConsumer#start()} starts it.
     *
     * @return the consumer, not yet consuming
     * @throws IllegalStateException if no handler was set
     */
    public SqsInboxConsumer build() {
      if (handler == null) {
        throw new IllegalStateException("handler is required for the consumer of " + queueUrl);
      }
      return new SqsInboxConsumer(this);
    }
  }
}
