package dev.once.outbox.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.outbox.OutboxMessage;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class SettlementTest {

  private static long seq;

  private static ClaimedRow row(@Nullable String key) {
    return new ClaimedRow(
        ++seq, new OutboxMessage(UUID.randomUUID(), "d", key, new byte[0], Map.of()), 0);
  }

  @Test
  void acknowledgedRowsAreSent() {
    ClaimedRow a = row("k");
    ClaimedRow b = row(null);

    Settlement s = Settlement.of(List.of(a, b), Map.of());

    assertThat(s.sent()).containsExactly(a, b);
    assertThat(s.refused()).isEmpty();
    assertThat(s.heldBack()).isEmpty();
  }

  @Test
  void afterARefusalTheKeysLaterRowsAreHeldBackAcknowledgedOrNotAndOtherKeysAreSent() {
    ClaimedRow k1 = row("k");
    ClaimedRow j1 = row("j");
    ClaimedRow k2 = row("k");
    ClaimedRow k3 = row("k");
    ClaimedRow none = row(null);
    Exception no = new IllegalStateException("no");

    Settlement s =
        Settlement.of(
            List.of(k1, j1, k2, k3, none), Map.of(k1.message().id(), no, k3.message().id(), no));

    assertThat(s.refused()).containsExactly(Map.entry(k1, no));
    assertThat(s.heldBack()).containsExactly(k2, k3);
    assertThat(s.sent()).containsExactly(j1, none);
  }

  @Test
  void refusedRowsWithoutAKeyHoldNothingBack() {
    ClaimedRow a = row(null);
    ClaimedRow b = row(null);
    Exception no = new IllegalStateException("no");

    Settlement s = Settlement.of(List.of(a, b), Map.of(a.message().id(), no));

    assertThat(s.refused()).containsExactly(Map.entry(a, no));
    assertThat(s.sent()).containsExactly(b);
  }
}
