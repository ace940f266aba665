package dev.once.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FailpointsTest {

  @AfterEach
  void clear() {
    System.clearProperty(Failpoints.PROPERTY);
  }

  @Test
  void offUnlessThePropertyNamesThePoint() {
    assertThatCode(() -> Failpoints.hit(Failpoints.AFTER_CLAIM)).doesNotThrowAnyException();
    System.setProperty(Failpoints.PROPERTY, Failpoints.AFTER_EFFECT_BEFORE_COMMIT + ":throw");
    assertThatCode(() -> Failpoints.hit(Failpoints.AFTER_CLAIM)).doesNotThrowAnyException();
  }

  @Test
  void throwFiresAndTheListIsReadAtEveryHit() {
    System.setProperty(Failpoints.PROPERTY, "x:halt, " + Failpoints.AFTER_CLAIM + ":throw");
    assertThatThrownBy(() -> Failpoints.hit(Failpoints.AFTER_CLAIM))
        .isInstanceOf(Failpoints.FailpointException.class)
        .hasMessageContaining(Failpoints.AFTER_CLAIM);
    System.setProperty(Failpoints.PROPERTY, "");
    assertThatCode(() -> Failpoints.hit(Failpoints.AFTER_CLAIM)).doesNotThrowAnyException();
  }

  @Test
  void anUnknownActionOrAMissingOneIsRefusedWithTheSpec() {
    System.setProperty(Failpoints.PROPERTY, Failpoints.AFTER_CLAIM + ":explode");
    assertThatThrownBy(() -> Failpoints.hit(Failpoints.AFTER_CLAIM))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("explode");
    System.setProperty(Failpoints.PROPERTY, Failpoints.AFTER_CLAIM);
    assertThatThrownBy(() -> Failpoints.hit(Failpoints.AFTER_CLAIM))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no action");
  }

  @Test
  void pauseBlocksUntilThePropertyNoLongerNamesThePoint() throws Exception {
    System.setProperty(Failpoints.PROPERTY, Failpoints.AFTER_POLL + ":pause");
    CompletableFuture<Void> hit =
        CompletableFuture.runAsync(() -> Failpoints.hit(Failpoints.AFTER_POLL));
    assertThatThrownBy(() -> hit.get(200, TimeUnit.MILLISECONDS))
        .isInstanceOf(java.util.concurrent.TimeoutException.class);
    System.setProperty(
        Failpoints.PROPERTY, Failpoints.AFTER_CLAIM + ":throw"); // another point: the pause ends
    hit.get(5, TimeUnit.SECONDS);
    assertThat(hit).isCompleted();
  }
}
