package dev.once.servlet.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PathPatternTest {

  @Test
  void literalsMatchExactly() {
    PathPattern p = PathPattern.compile("/orders");
    assertThat(p.matches("/orders")).isTrue();
    assertThat(p.matches("/orders/")).isFalse();
    assertThat(p.matches("/orders/1")).isFalse();
    assertThat(p.matches("/Orders")).isFalse();
    assertThat(PathPattern.compile("/").matches("/")).isTrue();
    assertThat(PathPattern.compile("/").matches("/x")).isFalse();
  }

  @Test
  void variablesAndStarsMatchOneNonEmptySegment() {
    PathPattern p = PathPattern.compile("/orders/{id}/refunds");
    assertThat(p.matches("/orders/42/refunds")).isTrue();
    assertThat(p.matches("/orders//refunds")).isFalse();
    assertThat(p.matches("/orders/4/2/refunds")).isFalse();
    assertThat(PathPattern.compile("/a/*").matches("/a/b")).isTrue();
    assertThat(PathPattern.compile("/a/*").matches("/a/")).isFalse();
  }

  @Test
  void aFinalDoubleStarMatchesAnyRemainder() {
    PathPattern p = PathPattern.compile("/api/**");
    assertThat(p.matches("/api")).isTrue();
    assertThat(p.matches("/api/a/b/c")).isTrue();
    assertThat(p.matches("/apix")).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "orders",
        "/orders?x=1",
        "/orders#f",
        "/a b",
        "/a//b",
        "/**/a",
        "/a{id}",
        "/x*y",
        "/a/{1}"
      })
  void malformedPatternsAreRefusedWithTheirValue(String pattern) {
    assertThatThrownBy(() -> PathPattern.compile(pattern))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + pattern + "'");
  }
}
