package dev.once.spring.boot;

import dev.once.OnceListener;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.spring.boot.internal.KafkaDeadLetterReporter;
import dev.once.spring.boot.internal.KafkaInboxSupport;
import dev.once.spring.boot.internal.KafkaOutageErrorHandler;
import dev.once.spring.boot.internal.ListenerInbox;
import dev.once.spring.boot.internal.OnceBatchListenerAdapter;
import dev.once.spring.boot.internal.OnceRecordListenerAdapter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import javax.sql.DataSource;
import org.apache.kafka.common.header.Header;
import org.jspecify.annotations.Nullable;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.config.KafkaListenerEndpoint;
import org.springframework.kafka.listener.BatchMessageListener;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.MessageListener;
import org.springframework.kafka.listener.RetryListener;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * A Kafka listener container factory whose listeners apply each message at most once, with their
 * database writes. Point a {@code @KafkaListener} at it; the starter registers one as {@value
 * #BEAN_NAME}, configured from {@code spring.kafka.listener.*} like Boot's default factory (same
 * consumer factory, error handler, converters).
 *
 * <pre>{@code
 * @KafkaListener(topics = "payments", containerFactory = OnceKafkaListenerContainerFactory.BEAN_NAME)
 * void on(Payment payment) {
 *   jdbc.update("UPDATE account SET balance = balance + ? WHERE id = ?", payment.amount(), payment.account());
 * }
 * }</pre>
 *
 * <p>For each record (each poll, for a batch listener) the container's call runs in ONE transaction
 * of the given {@link PlatformTransactionManager} on {@code dataSource}: the message ids are
 * claimed in one statement, the method is invoked only with the fresh records (a record listener is
 * not invoked for a duplicate; a batch listener gets the fresh records of the poll, in order, as a
 * {@code List} or a {@code ConsumerRecords}, and is not invoked if there are none), the markers are
 * completed and the transaction commits. Only then does the call return to the container, which
 * commits the offsets afterwards (any {@code AckMode}; a manual {@code Acknowledgment} is held back
 * until the commit). The method's {@code JdbcTemplate}, {@code JdbcClient}, {@code @Transactional}
 * (propagation REQUIRED) and JPA writes join that transaction. So a crash before the commit leaves
 * nothing and the record is redelivered; a crash after it leaves the effect and its marker, and the
 * redelivery is skipped.
 *
 * <p>An exception from the method rolls back the transaction (no marker is kept) and reaches the
 * container's error handler unchanged, so a {@code DefaultErrorHandler} with a {@code
 * DeadLetterPublishingRecoverer} retries and then dead-letters it. A record without an id throws
 * {@link MissingMessageIdException} (unless the factory falls back to topic-partition-offset ids),
 * which that error handler dead-letters at once. Batch listeners keep {@code
 * BatchListenerFailedException}'s meaning; its index may be the one in the list the method
 * received.
 *
 * <p>A database outage is not the records' fault and never reaches that error handler: when the
 * claim or the commit fails, or the method's exception comes from a lost connection (SQLState
 * {@code 08…}, {@code 57P01..3}, a JDBC connection exception), the consumer thread waits an outage
 * backoff (100 ms doubling to 10 s while the outage lasts), then seeks back to the failed records,
 * which are polled and tried again. No delivery attempt is counted, no offset is committed and
 * nothing is dead-lettered, however long the database is away.
 *
 * <p>The ids are scoped by {@code consumer}, by default the listener's consumer group: instances of
 * one service share a group and apply each id once between them; another group applies it once
 * more, for itself. One listener can set its own scope with the {@value #CONSUMER_PROPERTY}
 * property on its annotation, e.g. to keep its markers apart from another listener's while the
 * factory has a fixed {@code consumer}.
 *
 * <p>The records it skips as duplicates are reported to the {@link OnceListener} ({@link
 * OnceListener#inboxDuplicates}, source {@code kafka:<group>/<topic>}) after their transaction
 * commits, so a rolled-back poll is not counted twice. The records an error handler gives up on are
 * reported as dead letters when it is a {@code DefaultErrorHandler} with {@link
 * #deadLetterReporter()} among its retry listeners, as the starter's {@code once.kafka.retry.*}
 * handler is.
 *
 * <p><b>Retries.</b> The listener's failure reaches the container's error handler after the
 * rollback, so a retry starts from a clean database. A {@code DefaultErrorHandler} whose backoff
 * sleeps on the consumer thread (its default) stops the consumer polling for as long: past {@code
 * max.poll.interval.ms} the broker takes its partitions away. Give it a {@code
 * ContainerPausingBackOffHandler}, or let the starter build it ({@code once.kafka.retry.*}), and it
 * pauses the container instead, which keeps polling through the backoff.
 */
public class OnceKafkaListenerContainerFactory
    extends ConcurrentKafkaListenerContainerFactory<Object, Object> {

  /**
   * The {@code @KafkaListener} property that scopes one listener's ids, instead of the factory's
   * {@code consumer} or the consumer group: {@code @KafkaListener(properties =
   * "once.consumer=ledger")}. The factory takes it out of the consumer properties, so the Kafka
   * client never sees it.
   */
  public static final String CONSUMER_PROPERTY = "once.consumer";

  /** The name under which the starter registers its factory. */
  public static final String BEAN_NAME = "onceKafkaListenerContainerFactory";

  /**
   * The default id header, the same as {@code dev.once.kafka.KafkaInboxConsumer.MESSAGE_ID_HEADER}.
   */
  public static final String MESSAGE_ID_HEADER = "message-id";

  private final KafkaInboxSupport support;

  /**
   * @param store the JDBC store of the markers, in {@code dataSource}; give it {@code
   *     ConcurrentClaimPolicy.WAIT} so that a concurrent duplicate waits for the first commit and
   *     is then skipped
   * @param dataSource the database the listeners write to
   * @param transactionManager the application's transaction manager for {@code dataSource}
   * @param messageIds the id of a record; {@link #headerMessageIds(String)} for a header
   * @param offsetFallback a record without an id gets {@code <topic>-<partition>-<offset>}; false
   *     (the default in the starter): it is rejected with {@link MissingMessageIdException}
   * @param consumer the scope of the ids; null for the consumer group
   * @param retention how long an applied id is remembered; longer than any redelivery you expect
   */
  public OnceKafkaListenerContainerFactory(
      JdbcIdempotencyStore store,
      DataSource dataSource,
      PlatformTransactionManager transactionManager,
      KafkaMessageIdResolver messageIds,
      boolean offsetFallback,
      @Nullable String consumer,
      Duration retention) {
    this(
        store,
        dataSource,
        transactionManager,
        messageIds,
        offsetFallback,
        consumer,
        retention,
        OnceListener.NOOP);
  }

  /**
   * As {@link #OnceKafkaListenerContainerFactory(JdbcIdempotencyStore, DataSource,
   * PlatformTransactionManager, KafkaMessageIdResolver, boolean, String, Duration)}, reporting to
   * {@code listener}.
   *
   * @param store the JDBC store of the markers, in {@code dataSource}, with {@code
   *     ConcurrentClaimPolicy.WAIT}
   * @param dataSource the database the listeners write to
   * @param transactionManager the application's transaction manager for {@code dataSource}
   * @param messageIds the id of a record; {@link #headerMessageIds(String)} for a header
   * @param offsetFallback a record without an id gets {@code <topic>-<partition>-<offset>}; false:
   *     it is rejected with {@link MissingMessageIdException}
   * @param consumer the scope of the ids; null for the consumer group
   * @param retention how long an applied id is remembered
   * @param listener hears the skipped duplicates ({@link OnceListener#inboxDuplicates}); {@link
   *     OnceListener#NOOP} for none. Several: the starter combines every {@code OnceListener} bean
   * @throws NullPointerException if {@code listener} is null
   */
  public OnceKafkaListenerContainerFactory(
      JdbcIdempotencyStore store,
      DataSource dataSource,
      PlatformTransactionManager transactionManager,
      KafkaMessageIdResolver messageIds,
      boolean offsetFallback,
      @Nullable String consumer,
      Duration retention,
      OnceListener listener) {
    this.support =
        new KafkaInboxSupport(
            new ListenerInbox(store, dataSource, transactionManager, retention, listener),
            messageIds,
            offsetFallback,
            consumer);
  }

  /**
   * A retry listener that reports each record an error handler gives up on (its recoverer ran) to
   * this factory's {@link OnceListener} as {@link OnceListener#deadLettered}, under the scope and
   * source its duplicates are reported with; reason {@link OnceListener#DEAD_LETTER_REJECTED} for a
   * record without an id, else {@link OnceListener#DEAD_LETTER_FAILED}. The starter's {@code
   * once.kafka.retry.*} handler has it; give it to your own: {@code
   * defaultErrorHandler.setRetryListeners(factory.deadLetterReporter(), ...)}.
   *
   * @return a listener for a {@code DefaultErrorHandler} of this factory's containers
   */
  public RetryListener deadLetterReporter() {
    return new KafkaDeadLetterReporter(support);
  }

  /**
   * Ids from the UTF-8 value of the record's last {@code header}.
   *
   * @param header the header's name
   * @return a resolver answering {@code null} for a record without the header
   */
  public static KafkaMessageIdResolver headerMessageIds(String header) {
    return record -> {
      Header h = record.headers().lastHeader(header);
      return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    };
  }

  /**
   * Puts the outage rule in front of the container's error handler, after the {@code
   * ContainerCustomizer} ran (it may have set its own handler). Without a handler, that is in front
   * of the {@link DefaultErrorHandler} the container would use; a container with a transaction
   * manager and no handler is left as it is.
   */
  @Override
  protected void customizeContainer(
      ConcurrentMessageListenerContainer<Object, Object> instance, KafkaListenerEndpoint endpoint) {
    super.customizeContainer(instance, endpoint);
    CommonErrorHandler handler = instance.getCommonErrorHandler();
    if (handler == null
        && instance.getContainerProperties().getTransactionManager() == null
        && instance.getContainerProperties().getKafkaAwareTransactionManager() == null) {
      handler = new DefaultErrorHandler();
    }
    if (handler != null) {
      instance.setCommonErrorHandler(KafkaOutageErrorHandler.around(handler));
    }
  }

  @Override
  @SuppressWarnings("unchecked")
  protected void initializeContainer(
      ConcurrentMessageListenerContainer<Object, Object> instance, KafkaListenerEndpoint endpoint) {
    super.initializeContainer(instance, endpoint);
    KafkaInboxSupport listenerSupport = supportFor(instance, endpoint);
    Object listener = instance.getContainerProperties().getMessageListener();
    // Outermost, so that everything the endpoint set up (filtering, conversion, the method) runs in
    // the transaction.
    if (listener instanceof BatchMessageListener<?, ?> batch) {
      instance.setupMessageListener(
          new OnceBatchListenerAdapter<>(
              (BatchMessageListener<Object, Object>) batch, listenerSupport));
    } else if (listener instanceof MessageListener<?, ?> record) {
      instance.setupMessageListener(
          new OnceRecordListenerAdapter<>(
              (MessageListener<Object, Object>) record, listenerSupport));
    } else {
      throw new IllegalStateException(
          "an idempotent Kafka listener must be a MessageListener or a "
              + "BatchMessageListener, but was "
              + listener);
    }
  }

  /** The factory's support, or one scoped by the listener's own {@value #CONSUMER_PROPERTY}. */
  private KafkaInboxSupport supportFor(
      ConcurrentMessageListenerContainer<Object, Object> instance, KafkaListenerEndpoint endpoint) {
    Properties consumerProperties = instance.getContainerProperties().getKafkaConsumerProperties();
    String scope = consumerProperties.getProperty(CONSUMER_PROPERTY);
    if (scope == null) {
      return support;
    }
    // Not a Kafka setting: the client would warn about an unknown configuration.
    consumerProperties.remove(CONSUMER_PROPERTY);
    if (scope.isBlank()) {
      throw new IllegalArgumentException(
          CONSUMER_PROPERTY
              + " of the listener "
              + endpoint.getId()
              + " must not be blank, but was '"
              + scope
              + "'");
    }
    return support.withConsumer(scope.strip());
  }
}
