package dev.once.outbox;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A message to write to the outbox, checked when it is made: a bad one is refused before anything
 * reaches the database.
 *
 * @param destination where the message goes (a Kafka topic, a RabbitMQ exchange): not blank, at
 *     most {@value #MAX_DESTINATION_LENGTH} characters, no control characters
 * @param key the ordering key, or {@code null} for a message with no order relative to others: not
 *     empty, at most {@value #MAX_KEY_LENGTH} characters
 * @param payload the body
 * @param headers the headers, kept in their iteration order: names of 1 to {@value
 *     #MAX_HEADER_NAME_BYTES} UTF-8 bytes without control characters, values not null
 */
public record OutboxEntry(
    String destination, @Nullable String key, byte[] payload, Map<String, String> headers) {

  /** The longest destination, in characters (the column's width). */
  public static final int MAX_DESTINATION_LENGTH = 255;

  /** The longest key, in characters (the column's width). */
  public static final int MAX_KEY_LENGTH = 255;

  /** The longest header name, in UTF-8 bytes (an AMQP short string's limit). */
  public static final int MAX_HEADER_NAME_BYTES = 255;

  /**
   * Checks the message and copies the headers.
   *
   * @param destination the topic or exchange
   * @param key the ordering key, or {@code null}
   * @param payload the body
   * @param headers the headers
   * @throws IllegalArgumentException naming what is wrong
   */
  @SuppressWarnings("NullAway") // checks what callers without NullAway may pass
  public OutboxEntry {
    if (destination == null || destination.isBlank()) {
      throw new IllegalArgumentException(
          "destination must not be " + (destination == null ? "null" : "blank"));
    }
    checkText("destination", destination, MAX_DESTINATION_LENGTH);
    if (key != null) {
      if (key.isEmpty()) {
        throw new IllegalArgumentException(
            "key must not be empty; pass null for a message without a key");
      }
      checkText("key", key, MAX_KEY_LENGTH);
    }
    if (payload == null) {
      throw new IllegalArgumentException("payload must not be null; an empty body is new byte[0]");
    }
    if (headers == null) {
      throw new IllegalArgumentException("headers must not be null; pass Map.of() for none");
    }
    Map<String, String> copy = new LinkedHashMap<>();
    for (Map.Entry<String, String> h : headers.entrySet()) {
      String name = h.getKey();
      if (name == null || name.isEmpty()) {
        throw new IllegalArgumentException("header names must not be null or empty");
      }
      if (name.getBytes(StandardCharsets.UTF_8).length > MAX_HEADER_NAME_BYTES) {
        throw new IllegalArgumentException(
            "header name '"
                + name.substring(0, 40)
                + "...' is longer than "
                + MAX_HEADER_NAME_BYTES
                + " UTF-8 bytes");
      }
      if (name.chars().anyMatch(Character::isISOControl)) {
        throw new IllegalArgumentException(
            "header name " + escaped(name) + " must not contain control characters");
      }
      if (h.getValue() == null) {
        throw new IllegalArgumentException("header '" + name + "' has a null value");
      }
      copy.put(name, h.getValue());
    }
    headers = Collections.unmodifiableMap(copy);
  }

  /**
   * A message without headers.
   *
   * @param destination the topic or exchange
   * @param key the ordering key, or {@code null}
   * @param payload the body
   * @throws IllegalArgumentException naming what is wrong
   */
  public OutboxEntry(String destination, @Nullable String key, byte[] payload) {
    this(destination, key, payload, Map.of());
  }

  private static void checkText(String what, String value, int maxLength) {
    if (value.length() > maxLength) {
      throw new IllegalArgumentException(
          what
              + " is "
              + value.length()
              + " characters long, more than "
              + maxLength
              + ": '"
              + value.substring(0, 40)
              + "...'");
    }
    if (value.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(
          what + " " + escaped(value) + " must not contain control characters");
    }
  }

  private static String escaped(String s) {
    StringBuilder out = new StringBuilder("'");
    s.chars()
        .forEach(
            c -> {
              if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04x", c));
              } else {
                out.append((char) c);
              }
            });
    return out.append('\'').toString();
  }
}
