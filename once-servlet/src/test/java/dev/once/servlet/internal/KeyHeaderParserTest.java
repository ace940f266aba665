package dev.once.servlet.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.servlet.internal.KeyHeaderParser.Absent;
import dev.once.servlet.internal.KeyHeaderParser.Invalid;
import dev.once.servlet.internal.KeyHeaderParser.Result;
import dev.once.servlet.internal.KeyHeaderParser.Valid;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeyHeaderParserTest {

  private static Result lenient(String value) {
    return KeyHeaderParser.parse(List.of(value), "Idempotency-Key", false);
  }

  private static Result strict(String value) {
    return KeyHeaderParser.parse(List.of(value), "Idempotency-Key", true);
  }

  @Test
  void a1_sfStringIsUnquoted() {
    assertThat(lenient("\"8e03978e-40d5-43e8-bc93-6894a57f9324\""))
        .isEqualTo(new Valid("8e03978e-40d5-43e8-bc93-6894a57f9324"));
    assertThat(strict("\"8e03978e\"")).isEqualTo(new Valid("8e03978e"));
  }

  @Test
  void a2_escapesAndOuterWhitespaceAreNormalised() {
    assertThat(lenient("\"a\\\"b\\\\c\"")).isEqualTo(new Valid("a\"b\\c"));
    assertThat(lenient("  \"a\\\"b\\\\c\"  ")).isEqualTo(new Valid("a\"b\\c"));
    assertThat(lenient("\t\"a\\\"b\\\\c\"\t")).isEqualTo(new Valid("a\"b\\c"));
    assertThat(lenient("\" spaces inside \"")).isEqualTo(new Valid(" spaces inside "));
  }

  @Test
  void a3_bareTokensAreAcceptedUnlessStrict() {
    assertThat(lenient("8e03978e-40d5")).isEqualTo(new Valid("8e03978e-40d5"));
    assertThat(lenient("ab:cd/ef+gh=;x")).isEqualTo(new Valid("ab:cd/ef+gh=;x"));
    assertThat(strict("8e03978e-40d5")).isInstanceOf(Invalid.class);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "\"abc",
        "\"f\u00fc\u00fc\"",
        "f\u00fc\u00fc",
        "\"a\tb\"",
        "a\tb",
        "a b",
        "\"a\\x\"",
        "\"abc\\",
        "\"abc\" x",
        "\"abc\"x",
        "ab\"c",
        "ab\\c",
        "\"a\u0001\"",
        "a\u007f",
        "\"abc\";",
        "\"abc\";A=1",
        "\"abc\";a=",
        "\"abc\";a=?2",
        "\"abc\";a=1.2345",
        "\"abc\";a=:not base64!:",
        "\"abc\";a=1234567890123456",
        "\"abc\";a=%\"%zz\""
      })
  void a3_malformedValuesAreInvalid(String value) {
    assertThat(lenient(value)).isInstanceOf(Invalid.class);
    assertThat(strict(value)).isInstanceOf(Invalid.class);
  }

  @Test
  void a3_detailsNeverRepeatTheKey() {
    String secret = "s3cr3t-value";
    for (String value :
        List.of("\"" + secret, secret + "\u00fc", "\"" + secret + "\" x", secret + ", other")) {
      Invalid invalid = (Invalid) lenient(value);
      assertThat(invalid.detail()).doesNotContain(secret).contains("Idempotency-Key");
    }
  }

  @Test
  void a4_emptyIsAValueNotAbsence() {
    assertThat(lenient("\"\"")).isEqualTo(new Valid(""));
    assertThat(lenient("")).isEqualTo(new Valid(""));
    assertThat(strict("")).isInstanceOf(Invalid.class);
  }

  @Test
  void a6_repeatedFieldsAndListsAreInvalid() {
    assertThat(KeyHeaderParser.parse(List.of("\"a\"", "\"b\""), "Idempotency-Key", false))
        .isInstanceOf(Invalid.class);
    assertThat(KeyHeaderParser.parse(List.of("\"a\"", "\"a\""), "Idempotency-Key", false))
        .isInstanceOf(Invalid.class);
    assertThat(lenient("\"a\", \"b\"")).isInstanceOf(Invalid.class);
    assertThat(lenient("a, b")).isInstanceOf(Invalid.class);
    assertThat(lenient("a,b")).isInstanceOf(Invalid.class);
    assertThat(((Invalid) lenient("\"a\", \"b\"")).detail()).contains("list");
  }

  @Test
  void absentWhenThereIsNoField() {
    assertThat(KeyHeaderParser.parse(List.of(), "Idempotency-Key", false))
        .isInstanceOf(Absent.class);
  }

  @Test
  void parametersAreParsedAndIgnored() {
    assertThat(lenient("\"abc\";v=1")).isEqualTo(new Valid("abc"));
    assertThat(
            lenient(
                "\"abc\"; v=1;w;x=?0;y=-1.5;z=tok/en:1;b=:aGk=:;d=@1659578233;s=\"q\";e=%\"caf%c3%a9\""))
        .isEqualTo(new Valid("abc"));
    assertThat(lenient("\"abc\";*k=token")).isEqualTo(new Valid("abc"));
  }
}
