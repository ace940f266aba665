package dev.once.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.KeyPolicy;
import dev.once.Scope;
import dev.once.StoreException;
import java.net.SocketException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The decisions the Kafka, RabbitMQ and Spring listener inboxes share (pure logic). */
class InboxDecisionsTest {

  private final InboxDecisions decisions =
      new InboxDecisions(
          3,
          new InboxDecisions.Backoff(Duration.ofMillis(10), Duration.ofMillis(40)),
          new InboxDecisions.Backoff(Duration.ofMillis(100), Duration.ofSeconds(1)));

  @Test
  void aLostConnectionInTheHandlerIsAnOutageAndSpendsNoAttempt() {
    for (Throwable lost :
        new Throwable[] {
          new SQLException("I/O error", "08006"),
          new IllegalStateException(new SQLException("terminating connection", "57P01")),
          new RuntimeException(new SQLTransientConnectionException("pool timed out")),
          new RuntimeException(new SQLException("I/O error", new SocketException("reset")))
        }) {
      InboxDecisions.Decision d = decisions.afterHandlerFailure(lost, 2);
      assertThat(d.action()).as(lost.toString()).isEqualTo(InboxDecisions.Action.WAIT_OUT_OUTAGE);
      assertThat(d.attempts()).as("attempts unchanged").isEqualTo(2);
    }
  }

  @Test
  void aHandlersOwnFailureIsRetriedThenDeadLetteredAtTheLimit() {
    Throwable poison = new SQLException("duplicate key", "23505");
    InboxDecisions.Decision first = decisions.afterHandlerFailure(poison, 0);
    assertThat(first.action()).isEqualTo(InboxDecisions.Action.RETRY);
    assertThat(first.attempts()).isEqualTo(1);
    assertThat(first.waitNanos())
        .isBetween(Duration.ofMillis(5).toNanos(), Duration.ofMillis(10).toNanos());
    assertThat(decisions.afterHandlerFailure(poison, 1).action())
        .isEqualTo(InboxDecisions.Action.RETRY);
    InboxDecisions.Decision last = decisions.afterHandlerFailure(poison, 2);
    assertThat(last.action()).isEqualTo(InboxDecisions.Action.DEAD_LETTER);
    assertThat(last.attempts()).isEqualTo(3);
  }

  @Test
  void theInboxsOwnStoreFailuresAreOutagesAHandlersAreNotUnlessTheConnectionIsLost() {
    StoreException store = new StoreException("claim failed", "jdbc", Scope.global("k"), null);
    assertThat(InboxDecisions.isOutage(store, false)).isTrue();
    assertThat(
            InboxDecisions.isOutage(
                new IllegalStateException(new SQLException("offsets", "42P01")), false))
        .isTrue();
    assertThat(InboxDecisions.isOutage(new IllegalStateException("could not dead-letter"), false))
        .isFalse();
    assertThat(InboxDecisions.isOutage(new SQLException("duplicate key", "23505"), true)).isFalse();
    assertThat(InboxDecisions.isOutage(new SQLException("I/O error", "08006"), true)).isTrue();
    assertThat(
            InboxDecisions.isOutage(
                new IllegalStateException(new SocketException("payment API reset")), true))
        .as("a socket error of the handler's own HTTP call is the message's, not a database outage")
        .isFalse();
  }

  @Test
  void anIdIsTheFunctionsOrTheFallbackAndIsRejectedWhenMissingRefusedOrTheFunctionThrows() {
    KeyPolicy policy = KeyPolicy.builder().maxLength(5).build();
    Scope scope = Scope.global("t");
    assertThat(InboxDecisions.resolveId(() -> "m-1", null, policy, scope).id()).isEqualTo("m-1");
    assertThat(InboxDecisions.resolveId(() -> " ", null, policy, scope).rejection())
        .isEqualTo("no message id");
    assertThat(InboxDecisions.resolveId(() -> null, () -> "t-0-1", policy, scope).id())
        .isEqualTo("t-0-1");
    assertThat(InboxDecisions.resolveId(() -> "too-long", () -> "t-0-1", policy, scope).rejection())
        .as("a refused id is not replaced by the fallback")
        .isEqualTo("invalid message id");
    InboxDecisions.ResolvedId thrown =
        InboxDecisions.resolveId(
            () -> {
              throw new IllegalArgumentException("no key in payload");
            },
            null,
            policy,
            scope);
    assertThat(thrown.rejection()).isEqualTo("message id function failed");
    assertThat(thrown.cause()).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theBackoffDoublesWithJitterUpToItsCap() {
    InboxDecisions.Backoff b =
        new InboxDecisions.Backoff(Duration.ofMillis(10), Duration.ofMillis(40));
    assertThat(b.nanos(1))
        .isBetween(Duration.ofMillis(5).toNanos(), Duration.ofMillis(10).toNanos());
    assertThat(b.nanos(2))
        .isBetween(Duration.ofMillis(10).toNanos(), Duration.ofMillis(20).toNanos());
    assertThat(b.nanos(30))
        .isBetween(Duration.ofMillis(20).toNanos(), Duration.ofMillis(40).toNanos());
  }
}
