package dev.once.spring.boot.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SpringPatternsTest {

  @Test
  void plainPatternsStayAsTheyAre() {
    assertThat(SpringPatterns.toRoutePattern("/payments")).isEqualTo("/payments");
    assertThat(SpringPatterns.toRoutePattern("/payments/{id}/refunds"))
        .isEqualTo("/payments/{id}/refunds");
    assertThat(SpringPatterns.toRoutePattern("/files/**")).isEqualTo("/files/**");
  }

  @Test
  void springOnlySyntaxBecomesTheRouteSyntax() {
    assertThat(SpringPatterns.toRoutePattern("/orders/{id:\\d+}")).isEqualTo("/orders/{id}");
    assertThat(SpringPatterns.toRoutePattern("/files/{*path}")).isEqualTo("/files/**");
    assertThat(SpringPatterns.toRoutePattern("/reports/{name}.json")).isEqualTo("/reports/*");
    assertThat(SpringPatterns.toRoutePattern("/a/file?.txt")).isEqualTo("/a/*");
    assertThat(SpringPatterns.toRoutePattern("")).isEqualTo("/");
    assertThat(SpringPatterns.toRoutePattern("orders")).isEqualTo("/orders");
  }
}
