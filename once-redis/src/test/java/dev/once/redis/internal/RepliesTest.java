package dev.once.redis.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.ClaimResult;
import dev.once.Outcome;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class RepliesTest {

  @Test
  void claimRepliesBecomeTheFourAnswers() {
    Outcome outcome =
        Outcome.builder().contentType("text/plain").attribute("status", "201").body("hi").build();

    assertThat(Replies.claim(List.of(b("A"), 1_795_508_709_799_169L)))
        .isEqualTo(new ClaimResult.Acquired(1_795_508_709_799_169L, false));
    assertThat(Replies.claim(List.of(b("T"), 1_795_508_709_799_170L)))
        .isEqualTo(new ClaimResult.Acquired(1_795_508_709_799_170L, true));
    assertThat(Replies.claim(List.of(b("C"), outcome.toBytes())))
        .isEqualTo(new ClaimResult.Completed(outcome));
    assertThat(Replies.claim(List.of(b("I"), 9_500L)))
        .isEqualTo(new ClaimResult.InProgress(Duration.ofMillis(9_500)));
    assertThat(Replies.claim(List.of(b("M")))).isEqualTo(new ClaimResult.Mismatch());
  }

  @Test
  void inProgressIsNeverLessThanOneMillisecond() {
    assertThat(((ClaimResult.InProgress) Replies.claim(List.of(b("I"), 0L))).retryAfter())
        .isEqualTo(Duration.ofMillis(1));
  }

  @Test
  void anythingElseIsRefusedNotGuessed() {
    assertThatThrownBy(() -> Replies.claim(List.of(b("X"))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("unexpected claim reply");
    assertThatThrownBy(() -> Replies.claim(List.of())).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> Replies.claim(null)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> Replies.claim(List.of(b("A"))))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> Replies.claim(List.of(b("A"), b("12"))))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> Replies.claim(Arrays.asList(b("C"), null)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("without its outcome");
    assertThatThrownBy(() -> Replies.claim(List.of(b("C"), new byte[] {9, 9})))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("corrupt outcome");
  }

  @Test
  void doneRepliesAreOneOrZero() {
    assertThat(Replies.done(List.of(1L))).isTrue();
    assertThat(Replies.done(List.of(0L))).isFalse();
    assertThatThrownBy(() -> Replies.done(List.of(2L))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> Replies.done(List.of(b("1"))))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> Replies.done(List.of())).isInstanceOf(IllegalStateException.class);
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
