package dev.once.spring.boot.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.springframework.core.log.LogAccessor;
import org.springframework.kafka.KafkaException;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.ListenerUtils;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.kafka.listener.SeekUtils;
import org.springframework.kafka.support.TopicPartitionOffset;

/**
 * The error handler of an idempotent listener's container: the application's {@link
 * CommonErrorHandler} for every failure but a {@link DatabaseOutage}, which never reaches it. On an
 * outage the consumer thread waits the outage backoff (stopping early if the container stops), then
 * gives the records back: it seeks every partition of the failed records back to the first of them,
 * so they are polled again and tried anew (a wrapped handler that does not seek gets the
 * container's re-submission instead). No delivery attempt is counted, no offset is committed and
 * nothing is dead-lettered, however long the outage lasts; the next poll keeps the consumer in its
 * group. Not public API.
 */
public final class KafkaOutageErrorHandler implements CommonErrorHandler {

  private static final LogAccessor LOG = new LogAccessor(KafkaOutageErrorHandler.class);

  private final CommonErrorHandler delegate;

  private KafkaOutageErrorHandler(CommonErrorHandler delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  /** {@code handler} with the outage rule in front of it (once). */
  public static CommonErrorHandler around(CommonErrorHandler handler) {
    return handler instanceof KafkaOutageErrorHandler
        ? handler
        : new KafkaOutageErrorHandler(handler);
  }

  @Override
  public void handleRemaining(
      Exception thrownException,
      List<ConsumerRecord<?, ?>> records,
      Consumer<?, ?> consumer,
      MessageListenerContainer container) {
    DatabaseOutage outage = DatabaseOutage.in(thrownException);
    if (outage == null) {
      delegate.handleRemaining(thrownException, records, consumer, container);
      return;
    }
    throw seekBack(outage, records, consumer, container);
  }

  @Override
  public boolean handleOne(
      Exception thrownException,
      ConsumerRecord<?, ?> record,
      Consumer<?, ?> consumer,
      MessageListenerContainer container) {
    DatabaseOutage outage = DatabaseOutage.in(thrownException);
    if (outage == null) {
      return delegate.handleOne(thrownException, record, consumer, container);
    }
    waitOut(outage, container);
    return false; // not handled: the container gives the record and the rest of the poll to the
    // listener again
  }

  @Override
  public void handleBatch(
      Exception thrownException,
      ConsumerRecords<?, ?> data,
      Consumer<?, ?> consumer,
      MessageListenerContainer container,
      Runnable invokeListener) {
    DatabaseOutage outage = DatabaseOutage.in(thrownException);
    if (outage == null) {
      delegate.handleBatch(thrownException, data, consumer, container, invokeListener);
      return;
    }
    throw seekBack(outage, listOf(data), consumer, container);
  }

  @Override
  public <K, V> ConsumerRecords<K, V> handleBatchAndReturnRemaining(
      Exception thrownException,
      ConsumerRecords<?, ?> data,
      Consumer<?, ?> consumer,
      MessageListenerContainer container,
      Runnable invokeListener) {
    DatabaseOutage outage = DatabaseOutage.in(thrownException);
    if (outage == null) {
      return delegate.handleBatchAndReturnRemaining(
          thrownException, data, consumer, container, invokeListener);
    }
    throw seekBack(outage, listOf(data), consumer, container);
  }

  /**
   * Waits out the outage, then seeks the records back. The exception it returns, thrown to the
   * container, is how Spring Kafka's own seeking handlers say "not handled, do not commit": the
   * container logs it at debug level.
   */
  private static KafkaException seekBack(
      DatabaseOutage outage,
      List<ConsumerRecord<?, ?>> records,
      Consumer<?, ?> consumer,
      MessageListenerContainer container) {
    waitOut(outage, container);
    SeekUtils.doSeeksToBegin(records, consumer, LOG);
    return new KafkaException(
        "database outage: the records go back to the consumer, no delivery attempt spent",
        KafkaException.Level.DEBUG,
        outage);
  }

  private static void waitOut(DatabaseOutage outage, MessageListenerContainer container) {
    long millis = TimeUnit.NANOSECONDS.toMillis(outage.waitNanos());
    LOG.warn(
        () ->
            outage.getMessage()
                + "; its records are tried again in "
                + millis
                + " ms: "
                + outage.getCause());
    try {
      ListenerUtils.stoppableSleep(container, millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static List<ConsumerRecord<?, ?>> listOf(ConsumerRecords<?, ?> data) {
    List<ConsumerRecord<?, ?>> records = new ArrayList<>(data.count());
    data.forEach(records::add);
    return records;
  }

  // Everything else is the application's handler's business.

  @Override
  public boolean seeksAfterHandling() {
    return delegate.seeksAfterHandling();
  }

  @Override
  public boolean deliveryAttemptHeader() {
    return delegate.deliveryAttemptHeader();
  }

  @Override
  public int deliveryAttempt(TopicPartitionOffset topicPartitionOffset) {
    return delegate.deliveryAttempt(topicPartitionOffset);
  }

  @Override
  public void handleOtherException(
      Exception thrownException,
      Consumer<?, ?> consumer,
      MessageListenerContainer container,
      boolean batchListener) {
    delegate.handleOtherException(thrownException, consumer, container, batchListener);
  }

  @Override
  public void clearThreadState() {
    delegate.clearThreadState();
  }

  @Override
  public boolean isAckAfterHandle() {
    return delegate.isAckAfterHandle();
  }

  @Override
  public void setAckAfterHandle(boolean ack) {
    delegate.setAckAfterHandle(ack);
  }

  @Override
  public void onPartitionsAssigned(
      Consumer<?, ?> consumer, Collection<TopicPartition> partitions, Runnable publishPause) {
    delegate.onPartitionsAssigned(consumer, partitions, publishPause);
  }

  @Override
  public LogAccessor logger() {
    return delegate.logger();
  }
}
