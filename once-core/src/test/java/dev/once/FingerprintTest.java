package dev.once;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;

class FingerprintTest {

  @Test
  void builderKeepsPartBoundaries() {
    Fingerprint abC = Fingerprint.builder().add("ab").add("c").build();
    Fingerprint aBc = Fingerprint.builder().add("a").add("bc").build();
    assertThat(abC).isNotEqualTo(aBc);
    assertThat(Fingerprint.builder().add("abc").build()).isNotEqualTo(abC);
    assertThat(Fingerprint.builder().add("").add("x").build())
        .isNotEqualTo(Fingerprint.builder().add("x").build());
    assertThat(Fingerprint.builder().add("x").add("").build())
        .isNotEqualTo(Fingerprint.builder().add("x").build());
  }

  @Test
  void builderIsDeterministicAndAcceptsSlices() {
    byte[] data = "--POST--".getBytes(StandardCharsets.UTF_8);
    Fingerprint slice = Fingerprint.builder().add(data, 2, 4).add(new byte[] {1, 2}).build();
    Fingerprint whole = Fingerprint.builder().add("POST").add(new byte[] {1, 2}).build();
    assertThat(slice).isEqualTo(whole).hasSameHashCodeAs(whole);
  }

  @Test
  void ofIsTheSha256OfTheBytes() throws Exception {
    byte[] body = "{\"amount\":10}".getBytes(StandardCharsets.UTF_8);
    byte[] sha = MessageDigest.getInstance("SHA-256").digest(body);
    assertThat(Fingerprint.of(body).digest()).isEqualTo(sha);
    assertThat(Fingerprint.of("{\"amount\":10}")).isEqualTo(Fingerprint.of(body));
    assertThat(Fingerprint.of("a")).isNotEqualTo(Fingerprint.of("b"));
  }

  @Test
  void emptyIsTheFingerprintOfNoBytes() {
    assertThat(Fingerprint.empty())
        .isEqualTo(Fingerprint.of(new byte[0]))
        .isEqualTo(Fingerprint.of(""));
  }

  @Test
  void roundTripsThroughHexAndDigest() {
    Fingerprint fp = Fingerprint.of("request");
    assertThat(fp.toHex()).hasSize(64).matches("[0-9a-f]{64}");
    assertThat(Fingerprint.fromHex(fp.toHex())).isEqualTo(fp);
    assertThat(Fingerprint.fromDigest(fp.digest())).isEqualTo(fp);
  }

  @Test
  void fromDigestRejectsWrongLengths() {
    assertThatThrownBy(() -> Fingerprint.fromDigest(new byte[31]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("31");
    assertThatThrownBy(() -> Fingerprint.fromDigest(new byte[33]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Fingerprint.fromDigest(null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Fingerprint.fromHex("abcd"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void isImmutable() {
    byte[] digest = Fingerprint.of("x").digest();
    Fingerprint fp = Fingerprint.fromDigest(digest);
    digest[0] ^= 1;
    assertThat(fp).isEqualTo(Fingerprint.of("x"));
    fp.digest()[0] ^= 1;
    assertThat(fp).isEqualTo(Fingerprint.of("x"));
  }

  @Test
  void toStringShowsOnlyAPrefix() {
    Fingerprint fp = Fingerprint.of("x");
    assertThat(fp.toString()).contains(fp.toHex().substring(0, 12)).doesNotContain(fp.toHex());
  }
}
