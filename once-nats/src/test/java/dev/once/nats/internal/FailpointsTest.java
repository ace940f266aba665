package dev.once.nats.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class FailpointsTest {

  @Test
  void parsesCommaSeparatedNameActionPairs() {
    assertThat(Failpoints.parse("")).isEmpty();
    assertThat(Failpoints.parse(" nats.after-commit-before-ack:halt , other:throw"))
        .isEqualTo(Map.of("nats.after-commit-before-ack", "halt", "other", "throw"));
  }

  @Test
  void refusesAnEntryWithoutAction() {
    assertThatThrownBy(() -> Failpoints.parse("nats.after-commit-before-ack"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "once.failpoints entries must be name:action, but was 'nats.after-commit-before-ack'");
  }
}
