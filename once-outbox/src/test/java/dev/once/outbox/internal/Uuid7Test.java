package dev.once.outbox.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class Uuid7Test {

  private static final long NOW = 1_767_225_600_123L; // 2026-01-01T00:00:00.123Z

  @Test
  void theLayoutIsRfc9562Version7WithTheMillisecondsInFront() {
    UUID id = new Uuid7(() -> NOW).next();

    assertThat(id.version()).isEqualTo(7);
    assertThat(id.variant()).isEqualTo(2); // RFC 9562's variant, bits 10
    assertThat(Uuid7.millis(id)).isEqualTo(NOW);
    assertThat(id.toString()).startsWith(String.format("%08x-%04x-7", NOW >>> 16, NOW & 0xFFFF));
  }

  @Test
  void idsWithinOneMillisecondGrowStrictlyAndDiffer() {
    Uuid7 ids = new Uuid7(() -> NOW);
    List<UUID> made = new ArrayList<>();
    for (int i = 0; i < 100_000; i++) {
      made.add(ids.next());
    }
    for (int i = 1; i < made.size(); i++) {
      assertThat(Uuid7.compareUnsigned(made.get(i - 1), made.get(i)))
          .as("id %d after id %d", i, i - 1)
          .isNegative();
    }
    assertThat(made).allSatisfy(id -> assertThat(Uuid7.millis(id)).isEqualTo(NOW));
    assertThat(new HashSet<>(made)).hasSize(made.size());
  }

  @Test
  void idsKeepGrowingWhenTheClockStepsBackAndFollowItWhenItMovesOn() {
    AtomicLong clock = new AtomicLong(NOW);
    Uuid7 ids = new Uuid7(clock::get);
    UUID first = ids.next();
    clock.set(NOW - 5_000);
    UUID afterStepBack = ids.next();
    clock.set(NOW + 10);
    UUID later = ids.next();

    assertThat(Uuid7.compareUnsigned(first, afterStepBack)).isNegative();
    assertThat(Uuid7.millis(afterStepBack)).isEqualTo(NOW);
    assertThat(Uuid7.compareUnsigned(afterStepBack, later)).isNegative();
    assertThat(Uuid7.millis(later)).isEqualTo(NOW + 10);
  }

  @Test
  void idsFromThreadsAreAllDistinct() throws Exception {
    Uuid7 ids = new Uuid7();
    Set<UUID> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread thread =
          new Thread(
              () -> {
                for (int i = 0; i < 20_000; i++) {
                  seen.add(ids.next());
                }
              });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
    assertThat(seen).hasSize(80_000);
  }

  @Test
  void bytesRoundTripMostSignificantFirst() {
    UUID id = UUID.fromString("0194b8e2-1c3a-7def-8123-456789abcdef");
    byte[] bytes = Uuid7.toBytes(id);

    assertThat(bytes[0]).isEqualTo((byte) 0x01);
    assertThat(bytes[15]).isEqualTo((byte) 0xef);
    assertThat(Uuid7.fromBytes(bytes)).isEqualTo(id);
  }
}
