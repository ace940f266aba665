package dev.once.kafka.internal;

import dev.once.IdempotencyKey;
import dev.once.KeyPolicy;
import dev.once.Scope;
import dev.once.internal.InboxDecisions;
import dev.once.kafka.KafkaInboxConsumer;
import dev.once.kafka.KafkaLeaseConsumer;
import dev.once.kafka.NoIdPolicy;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.jspecify.annotations.Nullable;

/**
 * The message id of a record, by the runner's id function, {@link NoIdPolicy} and {@link
 * KeyPolicy}, decided as every inbox adapter decides it ({@link InboxDecisions#resolveId}). Shared
 * by {@link KafkaInboxConsumer} and {@link KafkaLeaseConsumer}.
 */
public final class RecordIds<K, V> {

  /**
   * Either an id and its key, or the reason the record has none (it is then dead-lettered, never
   * applied).
   */
  public record Resolved(
      @Nullable String id,
      @Nullable IdempotencyKey key,
      @Nullable String rejection,
      @Nullable Exception cause) {
    public boolean rejected() {
      return rejection != null;
    }

    /**
     * The key of a record that was not rejected.
     *
     * @throws IllegalStateException if it was rejected
     */
    public IdempotencyKey acceptedKey() {
      if (key == null) {
        throw new IllegalStateException("the record was rejected: " + rejection);
      }
      return key;
    }
  }

  private final Function<ConsumerRecord<K, V>, String> messageId;
  private final NoIdPolicy noIdPolicy;
  private final KeyPolicy keyPolicy;
  private final Scope scope;

  public RecordIds(
      Function<ConsumerRecord<K, V>, String> messageId,
      NoIdPolicy noIdPolicy,
      KeyPolicy keyPolicy,
      Scope scope) {
    this.messageId = messageId;
    this.noIdPolicy = noIdPolicy;
    this.keyPolicy = keyPolicy;
    this.scope = scope;
  }

  /**
   * The default message id: the last {@value KafkaInboxConsumer#MESSAGE_ID_HEADER} header, UTF-8;
   * null when absent.
   */
  public static @Nullable String messageIdHeader(ConsumerRecord<?, ?> r) {
    Header h = r.headers().lastHeader(KafkaInboxConsumer.MESSAGE_ID_HEADER);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  public Resolved resolve(ConsumerRecord<K, V> r) {
    InboxDecisions.ResolvedId id =
        InboxDecisions.resolveId(
            () -> messageId.apply(r),
            noIdPolicy == NoIdPolicy.REJECT
                ? null
                : () -> r.topic() + "-" + r.partition() + "-" + r.offset(),
            keyPolicy,
            scope);
    return new Resolved(id.id(), id.key(), id.rejection(), id.cause());
  }
}
