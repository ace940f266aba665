package dev.once.outbox.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HeaderCodecTest {

  @Test
  void noHeadersIsNull() {
    assertThat(HeaderCodec.encode(Map.of())).isNull();
    assertThat(HeaderCodec.decode(null)).isEmpty();
  }

  @Test
  void theEncodingIsCountThenLengthPrefixedUtf8() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("a", "bc");

    assertThat(HeaderCodec.encode(headers)).containsExactly(1, 1, 'a', 2, 'b', 'c');
  }

  @Test
  void headersRoundTripInOrderWithUnicodeEmptyValuesAndLongStrings() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("trace-id", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    headers.put("ключ", "значение ✓");
    headers.put("empty", "");
    headers.put("long", "x".repeat(100_000));

    Map<String, String> back = HeaderCodec.decode(HeaderCodec.encode(headers));

    assertThat(back).containsExactlyEntriesOf(headers);
  }

  @Test
  void damagedBytesAreRefusedWithTheOffset() {
    byte[] good = HeaderCodec.encode(Map.of("name", "value"));
    byte[] cut = Arrays.copyOf(good, good.length - 2);
    byte[] longer = Arrays.copyOf(good, good.length + 1);

    assertThatThrownBy(() -> HeaderCodec.decode(cut)).hasMessageContaining("cut short");
    assertThatThrownBy(() -> HeaderCodec.decode(longer)).hasMessageContaining("after its last");
  }
}
