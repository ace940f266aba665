package dev.once.servlet.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class ProblemTest {

  @Test
  void j50_bodiesAreValidJsonWhateverTheDetail() {
    String detail =
        "quote \" backslash \\ newline \n tab \t control \u0001 unicode \u00e9 \ud83d\ude00 </script>";
    Problem p = Problem.of(Problem.Kind.KEY_INVALID, detail);
    JsonNode json =
        JsonMapper.builder()
            .build()
            .readTree(p.body("https://once.dev/problems/", "/orders?a=\"1\""));
    assertThat(json.get("type").asString()).isEqualTo("https://once.dev/problems/key-invalid");
    assertThat(json.get("title").asString()).isEqualTo("Idempotency-Key is invalid");
    assertThat(json.get("status").asInt()).isEqualTo(400);
    assertThat(json.get("detail").asString()).isEqualTo(detail);
    assertThat(json.get("instance").asString()).isEqualTo("/orders?a=\"1\"");
    assertThat(json.size()).isEqualTo(5);
  }

  @Test
  void everyKindHasItsOwnType() {
    Set<String> slugs = new HashSet<>();
    for (Problem.Kind kind : Problem.Kind.values()) {
      assertThat(slugs.add(kind.slug())).isTrue();
      assertThat(kind.title()).isNotBlank();
    }
  }

  @Test
  void retryAfterIsRoundedUpToWholeSeconds() {
    assertThat(Problem.retryAfterSeconds(Duration.ofMillis(1))).isEqualTo(1);
    assertThat(Problem.retryAfterSeconds(Duration.ZERO)).isEqualTo(1);
    assertThat(Problem.retryAfterSeconds(Duration.ofMillis(1000))).isEqualTo(1);
    assertThat(Problem.retryAfterSeconds(Duration.ofMillis(1001))).isEqualTo(2);
    assertThat(Problem.retryAfterSeconds(Duration.ofSeconds(90))).isEqualTo(90);
  }
}
