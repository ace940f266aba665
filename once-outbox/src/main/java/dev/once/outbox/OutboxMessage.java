package dev.once.outbox;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * One message as the relay hands it to a publisher.
 *
 * @param id the message's globally unique id, fixed when it was written to the outbox; publishers
 *     send it where Once's inboxes read their message id, so a message published twice is applied
 *     once downstream
 * @param destination where the message goes: a Kafka topic, a RabbitMQ exchange
 * @param key the ordering key: a Kafka record key, a RabbitMQ routing key; messages with the same
 *     key are published in the order they were written
 * @param payload the body, as written
 * @param headers the headers, as written
 */
public record OutboxMessage(
    UUID id,
    String destination,
    @Nullable String key,
    byte[] payload,
    Map<String, String> headers) {

  /**
   * Checks that nothing required is missing and copies the headers, in their order.
   *
   * @param id the message's id
   * @param destination the topic or exchange
   * @param key the ordering key, or {@code null}
   * @param payload the body
   * @param headers the headers
   */
  public OutboxMessage {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(destination, "destination");
    Objects.requireNonNull(payload, "payload");
    Map<String, String> copy = new LinkedHashMap<>();
    headers.forEach(
        (name, value) ->
            copy.put(
                Objects.requireNonNull(name, "header name"),
                Objects.requireNonNull(value, "header value")));
    headers = Collections.unmodifiableMap(copy);
  }
}
