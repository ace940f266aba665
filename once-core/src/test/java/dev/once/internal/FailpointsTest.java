package dev.once.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class FailpointsTest {

  @Test
  void parsesCommaSeparatedNameActionPairs() {
    assertThat(Failpoints.parse("")).isEmpty();
    assertThat(Failpoints.parse(" rabbitmq.after-commit-before-ack:halt , other:throw"))
        .isEqualTo(Map.of("rabbitmq.after-commit-before-ack", "halt", "other", "throw"));
  }

  @Test
  void refusesAnEntryWithoutAction() {
    assertThatThrownBy(() -> Failpoints.parse("rabbitmq.after-commit-before-ack"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "once.failpoints entries must be name:action, but was 'rabbitmq.after-commit-before-ack'");
  }

  @Test
  void anUnarmedFailpointDoesNothing() {
    assertThatCode(() -> Failpoints.hit("not-armed")).doesNotThrowAnyException();
  }
}
