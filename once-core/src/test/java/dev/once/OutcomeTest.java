package dev.once;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OutcomeTest {

  private static Outcome sample() {
    byte[] body = new byte[4096];
    new Random(7).nextBytes(body);
    return Outcome.builder()
        .contentType("application/json; charset=utf-8")
        .attribute("status", "201")
        .attribute("zeta", "grüß dich 日本語 😀")
        .attribute("empty", "")
        .attribute("alpha", "a")
        .body(body)
        .build();
  }

  @Test
  void roundTripsByteForByteWithAttributesInOrder() {
    Outcome outcome = sample();
    Outcome back = Outcome.fromBytes(outcome.toBytes());
    assertThat(back).isEqualTo(outcome).hasSameHashCodeAs(outcome);
    assertThat(back.contentType()).isEqualTo(outcome.contentType());
    assertThat(new ArrayList<>(back.attributes().keySet()))
        .containsExactly("status", "zeta", "empty", "alpha");
    assertThat(back.attribute("zeta")).isEqualTo("grüß dich 日本語 😀");
    assertThat(back.body()).isEqualTo(outcome.body());
    assertThat(back.toBytes()).isEqualTo(outcome.toBytes());
  }

  @Test
  void roundTripsEmptyOutcomes() {
    assertThat(Outcome.fromBytes(Outcome.empty().toBytes())).isEqualTo(Outcome.empty());
    assertThat(Outcome.empty().contentType()).isEmpty();
    assertThat(Outcome.empty().attributes()).isEmpty();
    assertThat(Outcome.empty().bodyLength()).isZero();
    Outcome typedEmpty = Outcome.of("text/plain", new byte[0]);
    assertThat(Outcome.fromBytes(typedEmpty.toBytes()))
        .isEqualTo(typedEmpty)
        .isNotEqualTo(Outcome.empty());
  }

  @Test
  void everyTruncationIsRejected() {
    byte[] bytes = sample().toBytes();
    for (int length = 0; length < bytes.length; length++) {
      byte[] truncated = Arrays.copyOf(bytes, length);
      assertThatThrownBy(() -> Outcome.fromBytes(truncated))
          .as("outcome truncated to %d of %d bytes", length, bytes.length)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void trailingBytesAnotherVersionAndCorruptLengthsAreRejected() {
    byte[] bytes = Outcome.of("text/plain", new byte[] {1, 2, 3}).toBytes();

    byte[] trailing = Arrays.copyOf(bytes, bytes.length + 1);
    assertThatThrownBy(() -> Outcome.fromBytes(trailing))
        .isInstanceOf(IllegalArgumentException.class);

    byte[] version = bytes.clone();
    version[0] = 2;
    assertThatThrownBy(() -> Outcome.fromBytes(version))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("version 2");

    byte[] negative = bytes.clone();
    negative[1] = (byte) 0xFF; // content type length becomes negative
    assertThatThrownBy(() -> Outcome.fromBytes(negative))
        .isInstanceOf(IllegalArgumentException.class);

    byte[] huge = bytes.clone();
    huge[bytes.length - 3 - 4] = 0x7F; // body length becomes enormous
    assertThatThrownBy(() -> Outcome.fromBytes(huge)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void isImmutable() {
    byte[] body = {1, 2, 3};
    Outcome outcome = Outcome.builder().body(body).attribute("a", "1").build();
    body[0] = 9;
    assertThat(outcome.body()).containsExactly(1, 2, 3);
    outcome.body()[0] = 9;
    assertThat(outcome.body()).containsExactly(1, 2, 3);
    Map<String, String> attributes = outcome.attributes();
    assertThatThrownBy(() -> attributes.put("b", "2"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void builderIsReusableWithoutAffectingBuiltOutcomes() {
    Outcome.Builder builder = Outcome.builder().attribute("a", "1");
    Outcome first = builder.build();
    builder.attribute("b", "2");
    assertThat(first.attributes()).containsOnlyKeys("a");
    assertThat(builder.build().attributes()).containsOnlyKeys("a", "b");
  }

  @Test
  void rejectsNulls() {
    assertThatThrownBy(() -> Outcome.builder().contentType(null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> Outcome.builder().attribute("a", null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> Outcome.builder().attribute(null, "a"))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> Outcome.builder().body((byte[]) null))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void equalityCoversEveryPart() {
    Outcome base = Outcome.builder().contentType("t").attribute("a", "1").body("x").build();
    List<Outcome> different =
        List.of(
            Outcome.builder().contentType("u").attribute("a", "1").body("x").build(),
            Outcome.builder().contentType("t").attribute("a", "2").body("x").build(),
            Outcome.builder().contentType("t").attribute("b", "1").body("x").build(),
            Outcome.builder().contentType("t").attribute("a", "1").body("y").build());
    for (Outcome other : different) {
      assertThat(other).isNotEqualTo(base);
    }
    assertThat(base.toString()).contains("t", "1 bytes");
  }
}
