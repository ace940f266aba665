package dev.once;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeyPolicyTest {

  private static final Scope SCOPE = Scope.of("alice", "POST /payments");
  private static final KeyPolicy UNICODE = KeyPolicy.builder().allowNonAscii(true).build();

  private static InvalidKeyException rejection(KeyPolicy policy, String value) {
    InvalidKeyException e =
        catchThrowableOfType(InvalidKeyException.class, () -> policy.key(SCOPE, value));
    assertThat(e).as("rejection of the key").isNotNull();
    assertThat(e.scope()).isEqualTo(SCOPE);
    assertThat(e.getMessage()).contains(SCOPE.toString());
    return e;
  }

  @Test
  void acceptsOrdinaryKeysWithTheirScopeAndValue() {
    IdempotencyKey key = KeyPolicy.defaults().key(SCOPE, "8e03978e-40d5-43e8 ~!@#$%^&*()");
    assertThat(key.scope()).isEqualTo(SCOPE);
    assertThat(key.value()).isEqualTo("8e03978e-40d5-43e8 ~!@#$%^&*()");
    assertThat(IdempotencyKey.of(SCOPE, "k")).isEqualTo(KeyPolicy.defaults().key(SCOPE, "k"));
  }

  @Test
  void rejectsNullAndEmpty() {
    assertThat(rejection(KeyPolicy.defaults(), null).reason())
        .isEqualTo(InvalidKeyException.Reason.MISSING);
    assertThat(rejection(KeyPolicy.defaults(), "").reason())
        .isEqualTo(InvalidKeyException.Reason.EMPTY);
  }

  @Test
  void rejectsANullScope() {
    assertThatThrownBy(() -> KeyPolicy.defaults().key(null, "k"))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void acceptsTheMaximumLengthAndRejectsOneMore() {
    assertThat(KeyPolicy.defaults().key(SCOPE, "k".repeat(255)).value()).hasSize(255);
    InvalidKeyException e = rejection(KeyPolicy.defaults(), "k".repeat(256));
    assertThat(e.reason()).isEqualTo(InvalidKeyException.Reason.TOO_LONG);
    assertThat(e.getMessage()).contains("at most 255", "was 256");
  }

  @Test
  void rejectsAHugeKeyWithoutEchoingIt() {
    String secret = "s3cr3t-token-".repeat(800); // 10,400 characters
    InvalidKeyException e = rejection(KeyPolicy.defaults(), secret);
    assertThat(e.reason()).isEqualTo(InvalidKeyException.Reason.TOO_LONG);
    assertThat(e.getMessage()).doesNotContain("s3cr3t").hasSizeLessThan(300);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "a\tb",
        "a\u0000b",
        "a\u007Fb",
        "a\nb",
        "a\rb",
        "\u001B[31m",
        "a\u0085b",
        "a\u009Fb"
      })
  void rejectsControlCharactersIncludingTabNulAndDel(String value) {
    assertThat(rejection(KeyPolicy.defaults(), value).reason())
        .isEqualTo(InvalidKeyException.Reason.CONTROL_CHARACTER);
    // Allowing non-ASCII never lets a control character through.
    assertThat(rejection(UNICODE, value).reason())
        .isEqualTo(InvalidKeyException.Reason.CONTROL_CHARACTER);
  }

  @Test
  void controlCharacterMessageNamesTheCodePointAndIndexButNotTheKey() {
    InvalidKeyException e = rejection(KeyPolicy.defaults(), "secret\u0000");
    assertThat(e.getMessage()).contains("U+0000", "index 6").doesNotContain("secret");
  }

  @ParameterizedTest
  @ValueSource(strings = {"café", "日本語", "key-😀", "\u00A0", "ÿ"})
  void rejectsNonAsciiByDefaultAndAcceptsItWhenAllowed(String value) {
    InvalidKeyException e = rejection(KeyPolicy.defaults(), value);
    assertThat(e.reason()).isEqualTo(InvalidKeyException.Reason.NON_ASCII);
    assertThat(e.getMessage()).doesNotContain(value);
    assertThat(UNICODE.key(SCOPE, value).value()).isEqualTo(value);
  }

  @ParameterizedTest
  @ValueSource(strings = {"\uD800", "a\uD83D", "\uDE00b", "\uDE00\uD83D", "x\uD83D\uD83Dy"})
  void rejectsUnpairedSurrogatesWhenNonAsciiIsAllowed(String value) {
    assertThat(rejection(UNICODE, value).reason())
        .isEqualTo(InvalidKeyException.Reason.MALFORMED_UNICODE);
  }

  @Test
  void countsLengthInCodePoints() {
    KeyPolicy policy = UNICODE.toBuilder().maxLength(3).build();
    assertThat(policy.key(SCOPE, "😀😀😀").value()).hasSize(6);
    assertThat(rejection(policy, "😀😀😀😀").reason())
        .isEqualTo(InvalidKeyException.Reason.TOO_LONG);
  }

  @Test
  void enforcesThePattern() {
    KeyPolicy uuids =
        KeyPolicy.builder().minLength(36).maxLength(36).pattern("[0-9a-f-]{36}").build();
    assertThat(uuids.key(SCOPE, "8e03978e-40d5-43e8-bc93-6d1d2a3b4c5d").value()).hasSize(36);
    InvalidKeyException e = rejection(uuids, "8E03978E-40D5-43E8-BC93-6D1D2A3B4C5D");
    assertThat(e.reason()).isEqualTo(InvalidKeyException.Reason.PATTERN_MISMATCH);
    assertThat(e.getMessage()).contains("[0-9a-f-]{36}").doesNotContain("8E03978E");
    // The whole key must match, not a part of it.
    assertThat(rejection(KeyPolicy.builder().pattern("[a-z]+").build(), "abc1").reason())
        .isEqualTo(InvalidKeyException.Reason.PATTERN_MISMATCH);
  }

  @Test
  void enforcesTheMinimumLength() {
    KeyPolicy policy = KeyPolicy.builder().minLength(8).build();
    assertThat(policy.key(SCOPE, "12345678").value()).isEqualTo("12345678");
    InvalidKeyException e = rejection(policy, "1234567");
    assertThat(e.reason()).isEqualTo(InvalidKeyException.Reason.TOO_SHORT);
    assertThat(e.getMessage()).contains("at least 8", "was 7");
  }

  @Test
  void builderRejectsBadSettingsWithTheValueInTheMessage() {
    assertThatThrownBy(() -> KeyPolicy.builder().minLength(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was 0");
    assertThatThrownBy(() -> KeyPolicy.builder().maxLength(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was 0");
    assertThatThrownBy(() -> KeyPolicy.builder().maxLength(4097))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was 4097");
    assertThatThrownBy(() -> KeyPolicy.builder().minLength(10).maxLength(5).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("10")
        .hasMessageContaining("5");
    assertThatThrownBy(() -> KeyPolicy.builder().pattern("[unclosed"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void defaultsAndToBuilderKeepTheSettings() {
    KeyPolicy defaults = KeyPolicy.defaults();
    assertThat(defaults.minLength()).isEqualTo(1);
    assertThat(defaults.maxLength()).isEqualTo(KeyPolicy.DEFAULT_MAX_LENGTH).isEqualTo(255);
    assertThat(defaults.allowNonAscii()).isFalse();

    KeyPolicy custom =
        KeyPolicy.builder()
            .minLength(2)
            .maxLength(9)
            .allowNonAscii(true)
            .pattern("[a-zé]+")
            .build();
    KeyPolicy copy = custom.toBuilder().build();
    assertThat(copy.minLength()).isEqualTo(2);
    assertThat(copy.maxLength()).isEqualTo(9);
    assertThat(copy.allowNonAscii()).isTrue();
    assertThat(copy.key(SCOPE, "éé").value()).isEqualTo("éé");
    assertThat(rejection(copy, "ab1").reason())
        .isEqualTo(InvalidKeyException.Reason.PATTERN_MISMATCH);
    assertThat(copy.toString()).contains("2..9", "nonAscii=true", "[a-zé]+");
  }
}
