package dev.once.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class OutboxMessageTest {

  private static final byte[] PAYLOAD = "{}".getBytes(StandardCharsets.UTF_8);

  @Test
  void keepsTheHeadersInTheOrderTheyWereWritten() {
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 20; i > 0; i--) {
      headers.put("h" + i, "v" + i);
    }

    OutboxMessage message = new OutboxMessage(UUID.randomUUID(), "orders", "k", PAYLOAD, headers);
    headers.put("added-later", "x");

    assertThat(message.headers().keySet())
        .containsExactlyElementsOf(headers.keySet().stream().limit(20).toList());
    assertThatThrownBy(() -> message.headers().put("h1", "changed"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void refusesNullHeaderNamesAndValues() {
    Map<String, String> nullValue = new HashMap<>();
    nullValue.put("type", null);
    Map<String, String> nullName = new HashMap<>();
    nullName.put(null, "x");

    assertThatThrownBy(
            () -> new OutboxMessage(UUID.randomUUID(), "orders", null, PAYLOAD, nullValue))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("header value");
    assertThatThrownBy(
            () -> new OutboxMessage(UUID.randomUUID(), "orders", null, PAYLOAD, nullName))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("header name");
  }
}
