package dev.once.servlet.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonCanonicalizerTest {

  private static String canonical(String json) {
    byte[] out = JsonCanonicalizer.canonicalize(json.getBytes(StandardCharsets.UTF_8));
    return out == null ? null : new String(out, StandardCharsets.UTF_8);
  }

  @Test
  void membersAreSortedAndWhitespaceRemoved() {
    assertThat(canonical("{ \"b\" : 2,\n\t\"a\":1 }")).isEqualTo("{\"a\":1,\"b\":2}");
    assertThat(canonical("{\"z\":{\"y\":[3,{\"d\":1,\"c\":2}],\"x\":null},\"a\":true}"))
        .isEqualTo("{\"a\":true,\"z\":{\"x\":null,\"y\":[3,{\"c\":2,\"d\":1}]}}");
  }

  @Test
  void arrayOrderIsKept() {
    assertThat(canonical("[2,1]")).isNotEqualTo(canonical("[1,2]"));
  }

  @Test
  void sortOrderIsByUtf16CodeUnits() {
    assertThat(canonical("{\"\u00e9\":1,\"e\":2,\"E\":3,\"\ud83d\ude00\":4,\"\uffff\":5}"))
        .isEqualTo("{\"E\":3,\"e\":2,\"\u00e9\":1,\"\ud83d\ude00\":4,\"\uffff\":5}");
  }

  @Test
  void numbersAreComparedByValue() {
    assertThat(canonical("[1, 1.0, 1e0, 10E-1, 1.000]")).isEqualTo("[1,1,1,1,1]");
    assertThat(canonical("[0, -0, 0.0, -0.0e5]")).isEqualTo("[0,0,0,0]");
    assertThat(canonical("[100, 1e2, 123456789012345678901234567890]"))
        .isEqualTo("[1E+2,1E+2,1.2345678901234567890123456789E+29]");
    assertThat(canonical("[0.1, 0.10]")).isEqualTo("[0.1,0.1]");
    assertThat(canonical("[1]")).isNotEqualTo(canonical("[1.5]"));
    assertThat(JsonCanonicalizer.canonicalNumber(new BigDecimal("-2.50"))).isEqualTo("-2.5");
  }

  @Test
  void stringsAreEscapedOneWay() {
    assertThat(canonical("[\"\\u0041\\/\\u00e9\"]")).isEqualTo(canonical("[\"A/\u00e9\"]"));
    assertThat(canonical("[\"tab\\there\",\"quote\\\"\"]"))
        .isEqualTo("[\"tab\\there\",\"quote\\\"\"]");
  }

  @Test
  void scalarsAtTheTopLevelWork() {
    assertThat(canonical(" 42 ")).isEqualTo("42");
    assertThat(canonical("\"x\"")).isEqualTo("\"x\"");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "   ",
        "{",
        "{\"a\":1,}",
        "{\"a\":1} {}",
        "[1] x",
        "{\"a\":1,\"a\":2}",
        "NaN",
        "{'a':1}",
        "[1e99999999999]"
      })
  void anythingButOneWellFormedValueIsNotCanonicalised(String json) {
    assertThat(canonical(json)).isNull();
  }

  @Test
  void deepNestingBeyondJacksonsLimitIsNotCanonicalised() {
    assertThat(canonical("[".repeat(5000) + "]".repeat(5000))).isNull();
  }
}
