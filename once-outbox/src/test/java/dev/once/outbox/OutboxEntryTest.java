package dev.once.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Bad messages are refused when they are made, with a message naming what is wrong. */
class OutboxEntryTest {

  private static final byte[] BODY = {1};

  @Test
  @SuppressWarnings("NullAway")
  void aMissingOrBlankDestinationIsRefused() {
    assertThatThrownBy(() -> new OutboxEntry(null, "k", BODY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("destination must not be null");
    assertThatThrownBy(() -> new OutboxEntry(" \t", "k", BODY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("destination must not be blank");
  }

  @Test
  void oversizedDestinationsAndKeysAreRefusedWithTheirLength() {
    assertThatThrownBy(() -> new OutboxEntry("d".repeat(256), null, BODY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("destination is 256 characters long, more than 255");
    assertThatThrownBy(() -> new OutboxEntry("d", "k".repeat(300), BODY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("key is 300 characters long, more than 255");
    assertThat(new OutboxEntry("d".repeat(255), "k".repeat(255), BODY).key()).hasSize(255);
  }

  @Test
  void anEmptyKeyOrControlCharactersAreRefused() {
    assertThatThrownBy(() -> new OutboxEntry("d", "", BODY))
        .hasMessageContaining("pass null for a message without a key");
    assertThatThrownBy(() -> new OutboxEntry("orders\n", null, BODY))
        .hasMessage("destination 'orders\\u000a' must not contain control characters");
  }

  @Test
  @SuppressWarnings("NullAway")
  void aMissingPayloadOrHeadersAreRefused() {
    assertThatThrownBy(() -> new OutboxEntry("d", null, null))
        .hasMessageStartingWith("payload must not be null");
    assertThatThrownBy(() -> new OutboxEntry("d", null, BODY, null))
        .hasMessageStartingWith("headers must not be null");
  }

  @Test
  void badHeaderNamesAndNullValuesAreRefused() {
    Map<String, String> empty = new HashMap<>();
    empty.put("", "v");
    Map<String, String> nullValue = new HashMap<>();
    nullValue.put("h", null);

    assertThatThrownBy(() -> new OutboxEntry("d", null, BODY, empty))
        .hasMessage("header names must not be null or empty");
    assertThatThrownBy(() -> new OutboxEntry("d", null, BODY, Map.of("é".repeat(128), "v")))
        .hasMessageContaining("longer than 255 UTF-8 bytes");
    assertThatThrownBy(() -> new OutboxEntry("d", null, BODY, Map.of("a\u0000b", "v")))
        .hasMessage("header name 'a\\u0000b' must not contain control characters");
    assertThatThrownBy(() -> new OutboxEntry("d", null, BODY, nullValue))
        .hasMessage("header 'h' has a null value");
  }

  @Test
  void headersKeepTheirOrderAndCannotBeChangedAfterwards() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("z", "1");
    headers.put("a", "2");
    OutboxEntry entry = new OutboxEntry("d", null, BODY, headers);
    headers.put("b", "3");

    assertThat(entry.headers()).containsExactly(Map.entry("z", "1"), Map.entry("a", "2"));
    assertThatThrownBy(() -> entry.headers().put("c", "4"))
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
