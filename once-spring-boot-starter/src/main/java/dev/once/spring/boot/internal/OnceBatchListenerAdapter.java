package dev.once.spring.boot.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;
import org.springframework.kafka.listener.BatchAcknowledgingConsumerAwareMessageListener;
import org.springframework.kafka.listener.BatchListenerFailedException;
import org.springframework.kafka.listener.BatchMessageListener;
import org.springframework.kafka.listener.adapter.AbstractDelegatingMessageListenerAdapter;
import org.springframework.kafka.support.Acknowledgment;

/**
 * Wraps a batch listener: all ids of the poll are claimed in one statement, the method gets only
 * the fresh records (in order), and its writes and the markers commit in one transaction before the
 * container commits the offsets.
 *
 * <p>A {@link BatchListenerFailedException} keeps Spring Kafka's meaning ("the records before it
 * succeeded"): the failed transaction rolled back everything, so the records before the failed one
 * are applied again in a new transaction, then the exception goes to the error handler with the
 * failed record, whose index is translated back to the poll's.
 *
 * <p>A method taking the poll's {@link ConsumerRecords} (the delegate {@link
 * BatchMessageListener#wantsPollResult() wants the poll result}) gets a {@code ConsumerRecords} of
 * the fresh records, per partition in the poll's order, with the poll's next offsets. Not public
 * API.
 */
public final class OnceBatchListenerAdapter<K, V>
    extends AbstractDelegatingMessageListenerAdapter<BatchMessageListener<K, V>>
    implements BatchAcknowledgingConsumerAwareMessageListener<K, V> {

  private final KafkaInboxSupport support;

  public OnceBatchListenerAdapter(BatchMessageListener<K, V> delegate, KafkaInboxSupport support) {
    super(delegate);
    this.support = support;
  }

  /**
   * The container hands the whole poll to {@link #onMessage(ConsumerRecords, Acknowledgment,
   * Consumer)} when the method takes {@code ConsumerRecords}.
   */
  @Override
  public boolean wantsPollResult() {
    return delegate.wantsPollResult();
  }

  @Override
  public void onMessage(
      ConsumerRecords<K, V> records,
      @Nullable Acknowledgment acknowledgment,
      @Nullable Consumer<K, V> consumer) {
    List<ConsumerRecord<K, V>> list = new ArrayList<>(records.count());
    records.forEach(list::add);
    onMessage(list, records.nextOffsets(), acknowledgment, consumer);
  }

  @Override
  public void onMessage(
      List<ConsumerRecord<K, V>> records,
      @Nullable Acknowledgment acknowledgment,
      @Nullable Consumer<?, ?> consumer) {
    onMessage(records, null, acknowledgment, consumer);
  }

  /**
   * @param nextOffsets the poll's, for a delegate that wants the poll result; else null
   */
  private void onMessage(
      List<ConsumerRecord<K, V>> records,
      @Nullable Map<TopicPartition, OffsetAndMetadata> nextOffsets,
      @Nullable Acknowledgment acknowledgment,
      @Nullable Consumer<?, ?> consumer) {
    support.bindToThread();
    List<String> ids = new ArrayList<>(records.size());
    for (int i = 0; i < records.size(); i++) {
      try {
        ids.add(support.idOf(records.get(i)));
      } catch (RuntimeException noId) {
        // Apply what comes before it, then let the error handler dead-letter this one and redeliver
        // the rest.
        if (i > 0) {
          apply(records.subList(0, i), ids, nextOffsets, null, consumer);
        }
        throw new BatchListenerFailedException(
            String.valueOf(noId.getMessage()), noId, records.get(i));
      }
    }
    apply(records, ids, nextOffsets, acknowledgment, consumer);
  }

  private void apply(
      List<ConsumerRecord<K, V>> records,
      List<String> ids,
      @Nullable Map<TopicPartition, OffsetAndMetadata> nextOffsets,
      @Nullable Acknowledgment acknowledgment,
      @Nullable Consumer<?, ?> consumer) {
    List<ConsumerRecord<K, V>> passed = new ArrayList<>();
    int[][] indexMap = new int[1][];
    DeferredAcknowledgment[] deferred = new DeferredAcknowledgment[1];
    boolean[] applied;
    try {
      applied =
          support.inbox.process(
              support.consumerOf(consumer),
              ids,
              i -> KafkaInboxSupport.sourceOf(records.get(i), KafkaInboxSupport.groupOf(consumer)),
              fresh -> {
                passed.clear();
                int[] map = new int[records.size()];
                for (int i = 0; i < records.size(); i++) {
                  if (fresh[i]) {
                    map[passed.size()] = i;
                    passed.add(records.get(i));
                  }
                }
                if (passed.isEmpty()) {
                  return;
                }
                indexMap[0] = map;
                deferred[0] =
                    acknowledgment == null ? null : new DeferredAcknowledgment(acknowledgment, map);
                invoke(passed, nextOffsets, deferred[0], consumer);
                if (deferred[0] != null && deferred[0].nacked()) {
                  throw new OnceRecordListenerAdapter.NackRequested();
                }
              });
    } catch (OnceRecordListenerAdapter.NackRequested nack) {
      deferred[0].replay();
      return;
    } catch (Throwable t) {
      if (ListenerInbox.isOutage(t)) {
        // Before a BatchListenerFailedException's meaning: the database is gone for the records
        // before it too.
        throw support.failed(t);
      }
      BatchListenerFailedException failed = find(t);
      if (failed != null && indexMap[0] != null) {
        int index = originalIndex(failed, passed, indexMap[0]);
        if (index >= 0) {
          if (index > 0) {
            // The rollback undid the records before the failed one too; Spring will commit their
            // offsets.
            apply(records.subList(0, index), ids.subList(0, index), nextOffsets, null, consumer);
          }
          throw new BatchListenerFailedException(
              failed.getMessage(), failed.getCause(), records.get(index));
        }
      }
      throw KafkaInboxSupport.sneaky(t);
    }
    support.succeeded();
    boolean any = false;
    for (boolean a : applied) {
      any |= a;
    }
    if (!any) {
      // Only duplicates: the method never saw them, so nobody else will acknowledge them under a
      // manual ack mode.
      if (acknowledgment != null) {
        acknowledgment.acknowledge();
      }
    } else if (deferred[0] != null) {
      deferred[0].replay();
    }
  }

  private static @Nullable BatchListenerFailedException find(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof BatchListenerFailedException b) {
        return b;
      }
    }
    return null;
  }

  private int originalIndex(
      BatchListenerFailedException failed, List<ConsumerRecord<K, V>> passed, int[] map) {
    ConsumerRecord<?, ?> record = failed.getRecord();
    if (record != null) {
      for (int i = 0; i < passed.size(); i++) {
        if (passed.get(i) == record) {
          return map[i];
        }
      }
      return -1;
    }
    int index = failed.getIndex();
    return index >= 0 && index < passed.size() ? map[index] : -1;
  }

  @SuppressWarnings("unchecked")
  private void invoke(
      List<ConsumerRecord<K, V>> records,
      @Nullable Map<TopicPartition, OffsetAndMetadata> nextOffsets,
      @Nullable Acknowledgment ack,
      @Nullable Consumer<?, ?> consumer) {
    if (nextOffsets != null) {
      // The container passes its consumer with every poll result.
      Consumer<K, V> pollConsumer =
          (Consumer<K, V>) Objects.requireNonNull(consumer, "consumer of a poll result");
      this.delegate.onMessage(pollOf(records, nextOffsets), ack, pollConsumer);
      return;
    }
    switch (this.delegateType) {
      case ACKNOWLEDGING_CONSUMER_AWARE -> this.delegate.onMessage(records, ack, consumer);
      case ACKNOWLEDGING -> this.delegate.onMessage(records, ack);
      case CONSUMER_AWARE -> this.delegate.onMessage(records, consumer);
      case SIMPLE -> this.delegate.onMessage(records);
    }
  }

  /**
   * The fresh records as a poll result. They come from the poll's iteration, partition after
   * partition, so their order, and a {@code BatchListenerFailedException}'s index, is the list's.
   */
  private static <K, V> ConsumerRecords<K, V> pollOf(
      List<ConsumerRecord<K, V>> records, Map<TopicPartition, OffsetAndMetadata> nextOffsets) {
    Map<TopicPartition, List<ConsumerRecord<K, V>>> byPartition = new LinkedHashMap<>();
    for (ConsumerRecord<K, V> r : records) {
      byPartition
          .computeIfAbsent(new TopicPartition(r.topic(), r.partition()), p -> new ArrayList<>())
          .add(r);
    }
    return new ConsumerRecords<>(byPartition, nextOffsets);
  }

  @Override
  public void onMessage(List<ConsumerRecord<K, V>> data) {
    onMessage(data, null, null);
  }

  @Override
  public void onMessage(List<ConsumerRecord<K, V>> data, @Nullable Acknowledgment acknowledgment) {
    onMessage(data, acknowledgment, null);
  }

  @Override
  public void onMessage(List<ConsumerRecord<K, V>> data, @Nullable Consumer<?, ?> consumer) {
    onMessage(data, null, consumer);
  }
}
