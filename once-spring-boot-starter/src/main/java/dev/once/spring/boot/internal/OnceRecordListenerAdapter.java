package dev.once.spring.boot.internal;

import java.util.List;
import java.util.Objects;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;
import org.springframework.kafka.listener.AcknowledgingConsumerAwareMessageListener;
import org.springframework.kafka.listener.MessageListener;
import org.springframework.kafka.listener.adapter.AbstractDelegatingMessageListenerAdapter;
import org.springframework.kafka.support.Acknowledgment;

/**
 * Wraps a record listener (the {@code @KafkaListener} method's adapter): the record's id is
 * claimed, the method runs only if it is fresh, and its writes and the marker commit in one
 * transaction before the call returns, so before the container commits the offset. A duplicate is
 * acknowledged without calling the method. Not public API.
 */
public final class OnceRecordListenerAdapter<K, V>
    extends AbstractDelegatingMessageListenerAdapter<MessageListener<K, V>>
    implements AcknowledgingConsumerAwareMessageListener<K, V> {

  private final KafkaInboxSupport support;

  public OnceRecordListenerAdapter(MessageListener<K, V> delegate, KafkaInboxSupport support) {
    super(delegate);
    this.support = support;
  }

  @Override
  public void onMessage(
      ConsumerRecord<K, V> record,
      @Nullable Acknowledgment acknowledgment,
      @Nullable Consumer<?, ?> consumer) {
    support.bindToThread();
    String id = support.idOf(record);
    DeferredAcknowledgment deferred =
        acknowledgment == null ? null : new DeferredAcknowledgment(acknowledgment, null);
    boolean[] applied;
    try {
      applied =
          support.inbox.process(
              support.consumerOf(consumer),
              List.of(id),
              i -> KafkaInboxSupport.sourceOf(record, KafkaInboxSupport.groupOf(consumer)),
              fresh -> {
                if (fresh[0]) {
                  invoke(record, deferred, consumer);
                  if (deferred != null && deferred.nacked()) {
                    throw new NackRequested();
                  }
                }
              });
    } catch (NackRequested nack) {
      Objects.requireNonNull(deferred, "only a deferred acknowledgment nacks").replay();
      return;
    } catch (Throwable t) {
      throw support.failed(t);
    }
    support.succeeded();
    if (!applied[0]) {
      // A duplicate: the method never saw it, so nobody else will acknowledge it under a manual ack
      // mode.
      if (acknowledgment != null) {
        acknowledgment.acknowledge();
      }
    } else if (deferred != null) {
      deferred.replay();
    }
  }

  private void invoke(
      ConsumerRecord<K, V> record,
      @Nullable Acknowledgment ack,
      @Nullable Consumer<?, ?> consumer) {
    switch (this.delegateType) {
      case ACKNOWLEDGING_CONSUMER_AWARE -> this.delegate.onMessage(record, ack, consumer);
      case ACKNOWLEDGING -> this.delegate.onMessage(record, ack);
      case CONSUMER_AWARE -> this.delegate.onMessage(record, consumer);
      case SIMPLE -> this.delegate.onMessage(record);
    }
  }

  @Override
  public void onMessage(ConsumerRecord<K, V> data) {
    onMessage(data, null, null);
  }

  @Override
  public void onMessage(ConsumerRecord<K, V> data, @Nullable Acknowledgment acknowledgment) {
    onMessage(data, acknowledgment, null);
  }

  @Override
  public void onMessage(ConsumerRecord<K, V> data, @Nullable Consumer<?, ?> consumer) {
    onMessage(data, null, consumer);
  }

  /** The listener nacked: roll the transaction back, then pass the nack on. */
  static final class NackRequested extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NackRequested() {
      super("nack", null, false, false);
    }
  }
}
