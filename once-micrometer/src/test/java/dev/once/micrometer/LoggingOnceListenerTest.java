package dev.once.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.ClaimRequest;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.InMemoryIdempotencyStore;
import dev.once.InProgressException;
import dev.once.Once;
import dev.once.ResultCodec;
import dev.once.Scope;
import dev.once.StoreUnavailableException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * slf4j-simple writes to System.err, looked up at each line; the test swaps it to read the lines.
 */
class LoggingOnceListenerTest {

  static {
    System.setProperty("org.slf4j.simpleLogger.log." + LoggingOnceListener.LOGGER, "debug");
  }

  private static final Scope SCOPE = Scope.of("tenant-secret", "POST /payments");

  @Test
  void oneLinePerOutcomeWithTheKeyDigestAndNeverTheRawKeyTenantOrBody() {
    IdempotencyStore store = IdempotencyStore.inMemory();
    Once once = Once.builder(store).listener(LoggingOnceListener.create()).build();
    IdempotencyKey key = IdempotencyKey.of(SCOPE, "raw-key-secret");
    IdempotencyKey held = IdempotencyKey.of(SCOPE, "held-key-secret");
    store.claim(
        new ClaimRequest(held, Fingerprint.of("a"), Duration.ofMinutes(1), Duration.ofHours(1)));

    String out =
        captured(
            () -> {
              once.execute(key, Fingerprint.of("a"), ResultCodec.utf8(), () -> "body-secret");
              once.execute(key, Fingerprint.of("a"), ResultCodec.utf8(), () -> "body-secret");
              assertThatThrownBy(
                      () -> once.execute(held, Fingerprint.of("a"), ResultCodec.utf8(), () -> ""))
                  .isInstanceOf(InProgressException.class);
              LoggingOnceListener.create()
                  .storeFailed(
                      key, "jdbc", new StoreUnavailableException("refused", "jdbc", SCOPE, null));
            });

    assertThat(out.lines().filter(l -> l.contains(LoggingOnceListener.LOGGER)))
        .hasSize(5)
        .satisfiesExactly(
            l -> assertThat(l).contains("DEBUG").contains("once acquired"),
            l -> assertThat(l).contains("DEBUG").contains("once completed"),
            l -> assertThat(l).contains("DEBUG").contains("once replayed"),
            l -> assertThat(l).contains("INFO").contains("once in_progress"),
            l -> assertThat(l).contains("WARN").contains("once store_error"));
    assertThat(out)
        .contains("operation=POST /payments")
        .contains("key_digest=" + key.digestHex())
        .contains("key_digest=" + held.digestHex())
        .contains("latency_ms=")
        .doesNotContain("secret");
  }

  @Test
  void aTakeoverIsOneWarnLineWithTheKeyDigest() {
    TestClock clock = new TestClock();
    IdempotencyStore store = InMemoryIdempotencyStore.builder().clock(clock).build();
    Once once =
        Once.builder(store)
            .lease(Duration.ofMinutes(1))
            .listener(LoggingOnceListener.create())
            .build();
    IdempotencyKey key = IdempotencyKey.of(SCOPE, "raw-key-secret");
    store.claim(
        new ClaimRequest(key, Fingerprint.of("a"), Duration.ofMinutes(1), Duration.ofHours(1)));
    clock.advance(Duration.ofMinutes(2));

    String out =
        captured(() -> once.execute(key, Fingerprint.of("a"), ResultCodec.utf8(), () -> "body"));

    assertThat(out.lines().filter(l -> l.contains("once lease_taken_over")))
        .singleElement()
        .satisfies(
            l ->
                assertThat(l)
                    .contains("WARN")
                    .contains("key_digest=" + key.digestHex())
                    .doesNotContain("secret"));
  }

  private static String captured(Runnable run) {
    PrintStream original = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      run.run();
    } finally {
      System.setErr(original);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
