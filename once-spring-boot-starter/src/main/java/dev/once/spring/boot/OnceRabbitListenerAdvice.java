package dev.once.spring.boot;

import dev.once.OnceListener;
import dev.once.internal.InboxDecisions;
import dev.once.internal.RecentCounts;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.spring.boot.internal.ListenerInbox;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.AmqpRejectAndDontRequeueException;
import org.springframework.amqp.ImmediateRequeueAmqpException;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.listener.support.ContainerUtils;
import org.springframework.aop.ProxyMethodInvocation;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * A Spring AMQP container advice that applies each message at most once, with the listener's
 * database writes. The starter registers a {@code SimpleRabbitListenerContainerFactory} named
 * {@value #CONTAINER_FACTORY} with it in the advice chain, and with Boot's listener retry settings
 * moved into it ({@link Retry}); and a {@code DirectRabbitListenerContainerFactory} named {@value
 * #DIRECT_CONTAINER_FACTORY} with a {@link #copy()} of it, set from {@code
 * spring.rabbitmq.listener.direct.*}:
 *
 * <pre>{@code
 * @RabbitListener(queues = "orders", containerFactory = OnceRabbitListenerAdvice.CONTAINER_FACTORY)
 * void on(Order order) {
 *   jdbc.update("INSERT INTO shipment (order_id) VALUES (?)", order.id());
 * }
 * }</pre>
 *
 * <p>Per delivery (per batch for a consumer-batch listener) it opens ONE transaction of the given
 * {@link PlatformTransactionManager} on {@code dataSource}, claims the message id(s) in one
 * statement, invokes the listener only for fresh ones (a batch listener gets the fresh messages, in
 * order), completes the markers and commits. Only then does the container acknowledge ({@code
 * AcknowledgeMode.AUTO}, Boot's default), so a crash or a lost channel after the commit makes
 * RabbitMQ redeliver a message that is then skipped and acknowledged.
 *
 * <p>A listener exception rolls back (no marker kept). With {@code
 * spring.rabbitmq.listener.simple.retry.enabled=true} the listener is tried {@code 1 + max-retries}
 * times, each attempt in its own transaction, then the message is rejected without requeue, to the
 * queue's dead-letter exchange; without retry the exception goes to the container (requeued unless
 * {@code default-requeue-rejected=false}). A message without an id throws {@link
 * MissingMessageIdException}, which Spring AMQP rejects without requeue; it is never applied. A
 * database outage (the claim fails, or the listener's exception comes from a lost connection) is
 * not the message's fault: it spends no attempt and is never dead-lettered; the delivery is
 * requeued after an outage backoff (100 ms doubling to 10 s while the outage lasts), as the plain
 * RabbitMQ and Kafka inboxes wait outages out. The ids are scoped by {@code consumer}, by default
 * the queue the message came from.
 *
 * <p><b>Attempts survive a restart on quorum queues.</b> A quorum queue counts the earlier
 * deliveries of a message ({@code x-delivery-count}); each one that ended without an acknowledgment
 * (a crash or a lost channel mid-retry, a requeued failure) counts as one attempt spent, so a
 * message that keeps killing its consumer is still dead-lettered after {@code maxAttempts}
 * deliveries, whatever the restarts. The requeues of a database outage are subtracted (remembered
 * in memory for the 10,000 most recent ids): an outage spends no attempt, unless the application
 * also restarted in between. Classic queues have no such count: there a restart starts the attempts
 * anew.
 *
 * <p>It reports to an {@link OnceListener}, with the source {@code rabbitmq:<queue>} as the plain
 * {@code RabbitInboxConsumer} does: the duplicates it skipped, after their transaction commits
 * ({@link OnceListener#inboxDuplicates}), and the messages it has rejected without requeue ({@link
 * OnceListener#deadLettered}): {@code failed} when the retries are spent (or, without retry, when
 * the container will not requeue the failure: {@code default-requeue-rejected=false} or an {@code
 * AmqpRejectAndDontRequeueException}), {@code rejected} for a message without an id. Thread-safe.
 */
public final class OnceRabbitListenerAdvice implements MethodInterceptor {

  /**
   * The name under which the starter registers its idempotent {@code
   * SimpleRabbitListenerContainerFactory}.
   */
  public static final String CONTAINER_FACTORY = "onceRabbitListenerContainerFactory";

  /**
   * The name under which the starter registers its idempotent {@code
   * DirectRabbitListenerContainerFactory}, configured from {@code
   * spring.rabbitmq.listener.direct.*}.
   */
  public static final String DIRECT_CONTAINER_FACTORY = "onceDirectRabbitListenerContainerFactory";

  private static final System.Logger LOG =
      System.getLogger(OnceRabbitListenerAdvice.class.getName());
  // Spring AMQP's own requeue rule logs its decision here; only read to predict a rejection.
  private static final Log DECISION_LOG = LogFactory.getLog(OnceRabbitListenerAdvice.class);
  private static final InboxDecisions.Backoff NO_BACKOFF =
      new InboxDecisions.Backoff(Duration.ZERO, Duration.ZERO);

  private final ListenerInbox inbox;
  private final ListenerInbox.OutageBackoff outages = new ListenerInbox.OutageBackoff();
  private final RabbitMessageIdResolver messageIds;
  private final @Nullable String consumer;
  private volatile Retry retry = new Retry(1, Duration.ZERO, 1.0, Duration.ZERO);

  /** The broker's count of a message's earlier deliveries, on quorum queues. */
  private static final String DELIVERY_COUNT_HEADER = "x-delivery-count";

  // The outage requeues per message id, which the broker's delivery count includes and which must
  // not count as attempts; the most recent ids only.
  private final RecentCounts outageRequeues = new RecentCounts(10_000);
  private volatile boolean defaultRequeueRejected = true;

  /**
   * Retries a failed listener in-process, each attempt in its own transaction, then rejects the
   * message without requeue (to the dead-letter exchange). Used instead of Spring AMQP's stateless
   * retry interceptor: that one calls {@code proceed()} again on the same invocation, which skips
   * every advice inside it from the second attempt on, so those attempts would run outside any
   * transaction.
   *
   * @param maxAttempts attempts in all, at least 1
   * @param initialInterval pause before the second attempt
   * @param multiplier factor of each next pause, at least 1
   * @param maxInterval longest pause
   */
  public record Retry(
      int maxAttempts, Duration initialInterval, double multiplier, Duration maxInterval) {
    /**
     * Checks the settings.
     *
     * @param maxAttempts attempts in all, at least 1
     * @param initialInterval pause before the second attempt; not {@code null}
     * @param multiplier factor of each next pause, at least 1
     * @param maxInterval longest pause; not {@code null}
     * @throws IllegalArgumentException if {@code maxAttempts} or {@code multiplier} is below 1
     */
    public Retry {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException(
            "maxAttempts must be at least 1, but was " + maxAttempts);
      }
      if (multiplier < 1) {
        throw new IllegalArgumentException("multiplier must be at least 1, but was " + multiplier);
      }
      Objects.requireNonNull(initialInterval, "initialInterval");
      Objects.requireNonNull(maxInterval, "maxInterval");
    }
  }

  /**
   * Sets the in-process retry. Default: one attempt, and the failure goes to the container, which
   * requeues it unless {@code default-requeue-rejected=false}. The starter sets it from {@code
   * spring.rabbitmq.listener.simple.retry.*}.
   *
   * @param retry not {@code null}
   */
  public void setRetry(Retry retry) {
    this.retry = Objects.requireNonNull(retry, "retry");
  }

  /**
   * Tells the advice whether its container requeues a rejected delivery ({@code
   * spring.rabbitmq.listener.simple.default-requeue-rejected}, or {@code .direct.} for the direct
   * factory); without retry, it decides whether a failed message is reported as dead-lettered.
   * Default {@code true}, Spring AMQP's.
   *
   * @param defaultRequeueRejected the container's setting
   */
  public void setDefaultRequeueRejected(boolean defaultRequeueRejected) {
    this.defaultRequeueRejected = defaultRequeueRejected;
  }

  /**
   * An advice that reports to no listener.
   *
   * @param store the JDBC store of the markers in {@code dataSource}, with {@code
   *     ConcurrentClaimPolicy.WAIT}
   * @param dataSource the database the listeners write to
   * @param transactionManager the application's transaction manager for {@code dataSource}
   * @param messageIds the id of a message; {@link #amqpMessageIds()} for the {@code message-id}
   *     property
   * @param consumer the scope of the ids; null for the queue the message was consumed from
   * @param retention how long an applied id is remembered
   */
  public OnceRabbitListenerAdvice(
      JdbcIdempotencyStore store,
      DataSource dataSource,
      PlatformTransactionManager transactionManager,
      RabbitMessageIdResolver messageIds,
      @Nullable String consumer,
      Duration retention) {
    this(store, dataSource, transactionManager, messageIds, consumer, retention, OnceListener.NOOP);
  }

  /**
   * @param store the JDBC store of the markers in {@code dataSource}, with {@code
   *     ConcurrentClaimPolicy.WAIT}
   * @param dataSource the database the listeners write to
   * @param transactionManager the application's transaction manager for {@code dataSource}
   * @param messageIds the id of a message; {@link #amqpMessageIds()} for the {@code message-id}
   *     property
   * @param consumer the scope of the ids; null for the queue the message was consumed from
   * @param retention how long an applied id is remembered
   * @param listener hears the skipped duplicates and the dead letters; {@link OnceListener#NOOP}
   *     for none. Several: the starter combines every {@code OnceListener} bean
   * @throws NullPointerException if {@code listener} is null
   */
  public OnceRabbitListenerAdvice(
      JdbcIdempotencyStore store,
      DataSource dataSource,
      PlatformTransactionManager transactionManager,
      RabbitMessageIdResolver messageIds,
      @Nullable String consumer,
      Duration retention,
      OnceListener listener) {
    this(
        new ListenerInbox(store, dataSource, transactionManager, retention, listener),
        messageIds,
        consumer);
  }

  private OnceRabbitListenerAdvice(
      ListenerInbox inbox, RabbitMessageIdResolver messageIds, @Nullable String consumer) {
    this.inbox = inbox;
    this.messageIds = Objects.requireNonNull(messageIds, "messageIds");
    this.consumer = consumer;
  }

  /**
   * An advice for another container factory: the same markers, ids, scope and listener, with the
   * default retry and requeue settings, set on it alone.
   *
   * @return a new advice
   */
  public OnceRabbitListenerAdvice copy() {
    return new OnceRabbitListenerAdvice(inbox, messageIds, consumer);
  }

  /**
   * Ids from the AMQP {@code message-id} property, as {@code dev.once.rabbitmq.RabbitInboxConsumer}
   * does.
   *
   * @return a resolver answering {@code null} for a message without the property
   */
  public static RabbitMessageIdResolver amqpMessageIds() {
    return message -> message.getMessageProperties().getMessageId();
  }

  @Override
  public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
    Object[] args = invocation.getArguments();
    // The container's ContainerDelegate.invokeListener(Channel, Object data): data is a Message or
    // a List<Message>.
    if (args.length != 2 || !(args[1] instanceof Message || args[1] instanceof List<?>)) {
      return invocation.proceed();
    }
    List<Message> messages = messages(args[1]);
    if (messages.isEmpty()) {
      return invocation.proceed();
    }
    String queue =
        Objects.requireNonNullElse(messages.get(0).getMessageProperties().getConsumerQueue(), "");
    String scope = consumer != null ? consumer : "rabbit:" + queue;
    String source = "rabbitmq:" + queue;
    List<String> ids = new ArrayList<>(messages.size());
    for (Message m : messages) {
      try {
        ids.add(idOf(m));
      } catch (MissingMessageIdException e) {
        // A conversion failure: the container's error handler rejects it without requeue.
        inbox.listener().deadLettered(scope, source, OnceListener.DEAD_LETTER_REJECTED);
        throw e;
      }
    }
    Retry r = retry;
    InboxDecisions decisions =
        new InboxDecisions(r.maxAttempts(), NO_BACKOFF, ListenerInbox.OUTAGE_BACKOFF);
    long pause = r.initialInterval().toMillis();
    for (int failed = attemptsSpentBefore(messages, ids); ; ) {
      try {
        Object result = attempt(invocation, args, messages, ids, scope, source);
        outages.succeeded();
        ids.forEach(outageRequeues::forget);
        return result;
      } catch (MissingMessageIdException e) {
        throw e;
      } catch (Throwable failure) {
        if (ListenerInbox.isOutage(failure)) {
          ids.forEach(outageRequeues::increment);
          throw outage(failure);
        }
        InboxDecisions.Decision next = decisions.afterHandlerFailure(failure, failed);
        failed = next.attempts();
        if (r.maxAttempts() == 1) {
          // The container decides: requeue or not
          // (spring.rabbitmq.listener.*.default-requeue-rejected).
          if (!ContainerUtils.shouldRequeue(defaultRequeueRejected, failure, DECISION_LOG)) {
            reportDeadLetters(scope, source, messages.size());
          }
          throw failure;
        }
        if (next.action() == InboxDecisions.Action.DEAD_LETTER) {
          ids.forEach(outageRequeues::forget);
          reportDeadLetters(scope, source, messages.size());
          throw new AmqpRejectAndDontRequeueException(
              "listener failed "
                  + failed
                  + " times; rejected without "
                  + "requeue (to the dead-letter exchange, if the queue has one)",
              failure);
        }
        Thread.sleep(pause);
        pause = Math.min((long) (pause * r.multiplier()), r.maxInterval().toMillis());
      }
    }
  }

  /**
   * The attempts the delivery's earlier deliveries spent, by the broker's count (the largest of the
   * batch's), less the outage requeues this advice remembers; 0 without a count (classic queues).
   */
  private int attemptsSpentBefore(List<Message> messages, List<String> ids) {
    int spent = 0;
    for (int i = 0; i < messages.size(); i++) {
      Object count = messages.get(i).getMessageProperties().getHeaders().get(DELIVERY_COUNT_HEADER);
      if (count instanceof Number n) {
        spent = Math.max(spent, n.intValue() - outageRequeues.get(ids.get(i)));
      }
    }
    return spent;
  }

  private void reportDeadLetters(String scope, String source, int count) {
    for (int i = 0; i < count; i++) {
      inbox.listener().deadLettered(scope, source, OnceListener.DEAD_LETTER_FAILED);
    }
  }

  /**
   * The database is down (or went away under the listener): not the message's fault, so no attempt
   * is spent and it is never dead-lettered, whatever {@code default-requeue-rejected} says. After
   * an outage backoff (growing while the outage lasts) the delivery goes back to the queue at once,
   * and its redelivery tries again.
   */
  private ImmediateRequeueAmqpException outage(Throwable failure) throws InterruptedException {
    int inARow = outages.failed();
    long wait = ListenerInbox.OutageBackoff.waitNanos(inARow);
    LOG.log(
        System.Logger.Level.WARNING,
        "database failed for an idempotent listener ("
            + inARow
            + " in a row); "
            + "requeueing the delivery in "
            + TimeUnit.NANOSECONDS.toMillis(wait)
            + " ms, no attempt spent: "
            + failure);
    TimeUnit.NANOSECONDS.sleep(wait);
    return new ImmediateRequeueAmqpException(
        "the database failed; requeued without spending an attempt", failure);
  }

  private Object attempt(
      MethodInvocation invocation,
      Object[] args,
      List<Message> messages,
      List<String> ids,
      String scope,
      String source)
      throws Throwable {
    // A clone per attempt: proceed() may be called only once on an invocation.
    ProxyMethodInvocation call =
        (ProxyMethodInvocation) ((ProxyMethodInvocation) invocation).invocableClone();
    Object[] result = new Object[1];
    inbox.process(
        scope,
        ids,
        i -> source,
        fresh -> {
          List<Message> passed = new ArrayList<>();
          for (int i = 0; i < fresh.length; i++) {
            if (fresh[i]) {
              passed.add(messages.get(i));
            }
          }
          if (passed.isEmpty()) {
            return; // duplicates only: returning normally lets the container acknowledge them
          }
          if (args[1] instanceof List<?> && passed.size() < messages.size()) {
            Object[] narrowed = args.clone();
            narrowed[1] = passed;
            call.setArguments(narrowed);
          }
          result[0] = call.proceed();
        });
    return result[0];
  }

  private String idOf(Message m) {
    InboxDecisions.ResolvedId id = inbox.resolveId(() -> messageIds.messageId(m), null);
    if (id.rejected()) {
      throw new MissingMessageIdException(
          String.valueOf(m.getMessageProperties().getConsumerQueue()),
          id.rejection() + (id.cause() == null ? "" : ": " + id.cause()));
    }
    return id.acceptedId();
  }

  @SuppressWarnings("unchecked")
  private static List<Message> messages(Object data) {
    if (data instanceof Message m) {
      return List.of(m);
    }
    for (Object o : (List<?>) data) {
      if (!(o instanceof Message)) {
        return List.of();
      }
    }
    return (List<Message>) data;
  }
}
