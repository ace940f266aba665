package dev.once;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import org.junit.jupiter.api.Test;

class ScopeTest {

  private static InvalidKeyException rejection(String tenant, String operation) {
    InvalidKeyException e =
        catchThrowableOfType(InvalidKeyException.class, () -> Scope.of(tenant, operation));
    assertThat(e).as("rejection of the scope").isNotNull();
    return e;
  }

  @Test
  void holdsTenantAndOperation() {
    Scope scope = Scope.of("alice", "POST /payments");
    assertThat(scope.tenant()).isEqualTo("alice");
    assertThat(scope.operation()).isEqualTo("POST /payments");
    assertThat(scope)
        .isEqualTo(new Scope("alice", "POST /payments"))
        .hasSameHashCodeAs(Scope.of("alice", "POST /payments"));
    assertThat(scope).isNotEqualTo(Scope.of("POST /payments", "alice"));
  }

  @Test
  void globalIsTheEmptyTenant() {
    assertThat(Scope.global("export").tenant()).isEmpty();
    assertThat(Scope.global("export")).isEqualTo(Scope.of("", "export"));
  }

  @Test
  void rejectsNullPartsAndAnEmptyOperation() {
    assertThat(rejection(null, "op").reason()).isEqualTo(InvalidKeyException.Reason.MISSING);
    assertThat(rejection("t", null).reason()).isEqualTo(InvalidKeyException.Reason.MISSING);
    assertThat(rejection("t", "").reason()).isEqualTo(InvalidKeyException.Reason.EMPTY);
    assertThat(rejection("t", "").getMessage()).contains("operation");
  }

  @Test
  void limitsThePartLength() {
    String longest = "x".repeat(Scope.MAX_PART_LENGTH);
    assertThat(Scope.of(longest, longest).tenant()).hasSize(1024);
    assertThat(rejection(longest + "x", "op").reason())
        .isEqualTo(InvalidKeyException.Reason.TOO_LONG);
    assertThat(rejection("t", longest + "x").reason())
        .isEqualTo(InvalidKeyException.Reason.TOO_LONG);
  }

  @Test
  void rejectsControlCharacters() {
    assertThat(rejection("a\tb", "op").reason())
        .isEqualTo(InvalidKeyException.Reason.CONTROL_CHARACTER);
    assertThat(rejection("t", "op\n").reason())
        .isEqualTo(InvalidKeyException.Reason.CONTROL_CHARACTER);
    assertThat(rejection("t", "o\u0000p").getMessage()).contains("index 1");
  }

  @Test
  void acceptsDelimitersAndUnicode() {
    assertThat(Scope.of("a:b/c*{}", "ünïcødé 😀").operation()).isEqualTo("ünïcødé 😀");
  }

  @Test
  void toStringShowsTheParts() {
    assertThat(Scope.of("alice", "charge")).hasToString("scope[alice / charge]");
    assertThat(Scope.global("export")).hasToString("scope[export]");
  }
}
