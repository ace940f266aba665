package dev.once.kafka;

import dev.once.IdempotencyKey;
import dev.once.InvalidKeyException;
import dev.once.KeyPolicy;
import dev.once.Scope;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The message id of a record, by the runner's id function, {@link NoIdPolicy} and {@link KeyPolicy}. Shared by
 * {@link KafkaInboxConsumer} and {@link KafkaLeaseConsumer}.
 */
final class RecordIds<K, V> {

  /** Either an id and its key, or the reason the record has none (it is then dead-lettered, never applied). */
  record Resolved(String id, IdempotencyKey key, String rejection, Exception cause) {
    boolean rejected() {
      return rejection != null;
    }
  }

  private final Function<ConsumerRecord<K, V>, String> messageId;
  private final NoIdPolicy noIdPolicy;
  private final KeyPolicy keyPolicy;
  private final Scope scope;

  RecordIds(Function<ConsumerRecord<K, V>, String> messageId, NoIdPolicy noIdPolicy, KeyPolicy keyPolicy, Scope scope) {
    this.messageId = messageId;
    this.noIdPolicy = noIdPolicy;
    this.keyPolicy = keyPolicy;
    this.scope = scope;
  }

  Resolved resolve(ConsumerRecord<K, V> r) {
    String id = messageId.apply(r);
    if (id == null || id.isBlank()) {
      if (noIdPolicy == NoIdPolicy.REJECT) {
        return new Resolved(null, null, "no message id", null);
      }
      id = r.topic() + "-" + r.partition() + "-" + r.offset();
    }
    try {
      return new Resolved(id, keyPolicy.key(scope, id), null, null);
    } catch (InvalidKeyException e) {
      return new Resolved(null, null, "invalid message id", e);
    }
  }
}
