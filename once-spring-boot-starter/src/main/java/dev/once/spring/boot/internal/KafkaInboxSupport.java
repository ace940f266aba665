package dev.once.spring.boot.internal;

import dev.once.internal.InboxDecisions;
import dev.once.spring.boot.KafkaMessageIdResolver;
import dev.once.spring.boot.MissingMessageIdException;
import java.util.Objects;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;
import org.springframework.kafka.support.KafkaUtils;

/**
 * What the record and batch adapters share: the inbox, the ids, the consumer name. Not public API.
 */
public final class KafkaInboxSupport {

  final ListenerInbox inbox;
  private final KafkaMessageIdResolver ids;
  private final boolean offsetFallback;
  private final @Nullable String consumer;
  // Per consumer thread: each polls on its own, and one whose records went through is no longer in
  // an outage.
  private final ThreadLocal<ListenerInbox.OutageBackoff> outages =
      ThreadLocal.withInitial(ListenerInbox.OutageBackoff::new);

  // The support of the adapter that last ran on this consumer thread: the error handler that runs
  // after it, on the same thread, reports its dead letters under that listener's scope.
  private static final ThreadLocal<KafkaInboxSupport> LAST = new ThreadLocal<>();

  /**
   * @param offsetFallback a record without an id gets {@code <topic>-<partition>-<offset>} instead
   *     of being rejected
   * @param consumer the scope of the ids; null: the consumer group
   */
  public KafkaInboxSupport(
      ListenerInbox inbox,
      KafkaMessageIdResolver ids,
      boolean offsetFallback,
      @Nullable String consumer) {
    this.inbox = Objects.requireNonNull(inbox, "inbox");
    this.ids = Objects.requireNonNull(ids, "ids");
    this.offsetFallback = offsetFallback;
    this.consumer = consumer;
  }

  /** Marks this support as the one of the listener now running on this consumer thread. */
  void bindToThread() {
    LAST.set(this);
  }

  /** {@return the support of the listener that last ran on this thread, if any} */
  static @Nullable KafkaInboxSupport lastOnThisThread() {
    return LAST.get();
  }

  /** The same support with its ids scoped by {@code consumer}: one listener's own setting. */
  public KafkaInboxSupport withConsumer(String consumer) {
    return new KafkaInboxSupport(inbox, ids, offsetFallback, consumer);
  }

  /**
   * The record's id, decided as by every inbox adapter; a record without a usable one is never
   * applied.
   */
  String idOf(ConsumerRecord<?, ?> r) {
    InboxDecisions.ResolvedId id =
        inbox.resolveId(
            () -> ids.messageId(r),
            offsetFallback ? () -> r.topic() + "-" + r.partition() + "-" + r.offset() : null);
    if (id.rejected()) {
      throw new MissingMessageIdException(
          r.topic() + "-" + r.partition() + "@" + r.offset(),
          id.rejection() + (id.cause() == null ? "" : ": " + id.cause()));
    }
    return id.acceptedId();
  }

  String consumerOf(@Nullable Consumer<?, ?> kafkaConsumer) {
    if (consumer != null) {
      return consumer;
    }
    // Per group by default: two services reading one topic apply each message once each, two
    // instances of one service (one group) apply it once between them.
    String group = groupOf(kafkaConsumer);
    if (group == null) {
      throw new IllegalStateException(
          "an idempotent Kafka listener needs a consumer group (its ids are scoped by "
              + "it), or set once.kafka.consumer");
    }
    return "kafka:" + group;
  }

  /**
   * The source of {@code record} as the listener is told it: {@code kafka:<group>/<topic>}, as the
   * plain {@code KafkaInboxConsumer} reports it ({@code kafka:<topic>} without a group).
   */
  static String sourceOf(ConsumerRecord<?, ?> record, @Nullable String group) {
    return group == null ? "kafka:" + record.topic() : "kafka:" + group + "/" + record.topic();
  }

  /** The listener's consumer group, or null if it has none. */
  static @Nullable String groupOf(@Nullable Consumer<?, ?> kafkaConsumer) {
    String group = KafkaUtils.getConsumerGroupId();
    if (group == null && kafkaConsumer != null) {
      group = kafkaConsumer.groupMetadata().groupId();
    }
    return group == null || group.isBlank() ? null : group;
  }

  /** The inbox call went through: this consumer's outage, if it had one, is over. */
  void succeeded() {
    outages.get().succeeded();
  }

  /**
   * What the adapters throw after a failed inbox call: a {@link DatabaseOutage} if the database
   * failed, which {@link KafkaOutageErrorHandler} waits out without spending an attempt; else the
   * failure itself, for the application's error handler.
   */
  RuntimeException failed(Throwable failure) {
    if (ListenerInbox.isOutage(failure)) {
      ListenerInbox.OutageBackoff backoff = outages.get();
      int inARow = backoff.failed();
      return new DatabaseOutage(failure, inARow, ListenerInbox.OutageBackoff.waitNanos(inARow));
    }
    return sneaky(failure);
  }

  static RuntimeException sneaky(Throwable t) {
    if (t instanceof RuntimeException r) {
      throw r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    throw new IllegalStateException(t);
  }
}
