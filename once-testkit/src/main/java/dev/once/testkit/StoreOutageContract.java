package dev.once.testkit;

import static dev.once.testkit.ContractSupport.FP_A;
import static dev.once.testkit.ContractSupport.LONG_LEASE;
import static dev.once.testkit.ContractSupport.RETENTION;
import static dev.once.testkit.ContractSupport.acquired;
import static dev.once.testkit.ContractSupport.assertInProgress;
import static dev.once.testkit.ContractSupport.assertReplays;
import static dev.once.testkit.ContractSupport.awaitClaimsServed;
import static dev.once.testkit.ContractSupport.key;
import static dev.once.testkit.ContractSupport.newScope;
import static dev.once.testkit.ContractSupport.outcome;
import static dev.once.testkit.ContractSupport.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.StoreException;
import dev.once.StoreUnavailableException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * What a store does when its server cannot be reached: every operation fails closed with {@link
 * StoreUnavailableException} (never "absent", never "acquired", never a hang), and once the server
 * is back the store answers truthfully again without being rebuilt. A store module extends it with
 * a TCP proxy between the store and the server:
 *
 * <pre>{@code
 * class PostgresOutageIT extends StoreOutageContract {
 *   protected IdempotencyStore store() { return storeThroughProxy; }
 *   protected void cutConnection() { proxy.cut(); }
 *   protected void restoreConnection() { proxy.restore(); }
 * }
 * }</pre>
 *
 * <p>The suite always restores the connection, in a {@code finally} block and again after each
 * test, so {@link #restoreConnection()} must be idempotent. Each store call made during the outage
 * must fail within {@value #CALL_TIMEOUT_SECONDS} s (configure connect and socket timeouts
 * accordingly), and the store must serve again within {@value #RECOVERY_SECONDS} s of the restore.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
public abstract class StoreOutageContract {

  /** How long one store call may take to fail while the server is unreachable, in seconds. */
  public static final int CALL_TIMEOUT_SECONDS = 60;

  /** How long the store may take to serve again after the connection is restored, in seconds. */
  public static final int RECOVERY_SECONDS = 30;

  private final AtomicInteger probes = new AtomicInteger();

  /**
   * {@return the store under test, reaching its server through the connection {@link
   * #cutConnection()} cuts} Called often; return the same instance for the whole test class: the
   * suite checks that it recovers by itself.
   */
  protected abstract IdempotencyStore store();

  /** Makes the server unreachable (e.g. cuts a TCP proxy). */
  protected abstract void cutConnection();

  /** Makes it reachable again. */
  protected abstract void restoreConnection();

  @AfterEach
  void alwaysRestore() {
    restoreConnection();
  }

  @Test
  @DisplayName(
      "claim, complete and claimAll fail as unavailable while cut; the store recovers with its records")
  void claimCompleteAndClaimAllFailClosedAndTheStoreRecovers() {
    Scope scope = newScope();
    IdempotencyKey held = key(scope, "held-across-outage");
    IdempotencyKey done = key(scope, "completed-before-outage");
    IdempotencyKey refused = key(scope, "claimed-during-outage");
    long heldToken = acquired(store().claim(request(held, FP_A, LONG_LEASE))).token();
    Outcome doneOutcome = outcome("before the outage");
    store()
        .complete(
            done, acquired(store().claim(request(done, FP_A))).token(), doneOutcome, RETENTION);

    cutConnection();
    try {
      assertUnavailable("claim", () -> store().claim(request(refused, FP_A, LONG_LEASE)));
      assertUnavailable(
          "complete", () -> store().complete(held, heldToken, outcome("during"), RETENTION));
      assertUnavailable(
          "claimAll",
          () ->
              store()
                  .claimAll(
                      List.of(
                          request(refused, FP_A, LONG_LEASE),
                          request(done, FP_A),
                          request(held, FP_A, LONG_LEASE))));
    } finally {
      restoreConnection();
    }

    awaitRecovery(scope);
    assertInProgress(store().claim(request(held, FP_A, LONG_LEASE)), LONG_LEASE);
    assertReplays(store().claim(request(done, FP_A)), doneOutcome);
    acquired(store().claim(request(refused, FP_A, LONG_LEASE)));
    // The owner whose complete failed during the outage still owns the key and can finish.
    Outcome heldOutcome = outcome("after the outage");
    store().complete(held, heldToken, heldOutcome, RETENTION);
    assertReplays(store().claim(request(held, FP_A)), heldOutcome);
  }

  @Test
  @DisplayName("renew, release and purgeExpired fail as unavailable while cut and change nothing")
  void renewReleaseAndPurgeFailClosed() {
    Scope scope = newScope();
    IdempotencyKey held = key(scope, "held-across-outage");
    long token = acquired(store().claim(request(held, FP_A, LONG_LEASE))).token();

    cutConnection();
    try {
      assertUnavailable("renew", () -> store().renew(held, token, LONG_LEASE));
      assertUnavailable("release", () -> store().release(held, token));
      assertUnavailable("purgeExpired", () -> store().purgeExpired(100));
    } finally {
      restoreConnection();
    }

    awaitRecovery(scope);
    assertInProgress(store().claim(request(held, FP_A, LONG_LEASE)), LONG_LEASE);
    store().renew(held, token, LONG_LEASE);
    store().release(held, token);
    acquired(store().claim(request(held, FP_A, LONG_LEASE)));
  }

  @Test
  @DisplayName(
      "the admin operations fail as unavailable while cut, change nothing, and check passes after")
  void adminOperationsFailClosed() {
    Scope scope = newScope();
    IdempotencyKey held = key(scope, "held-across-outage");
    acquired(store().claim(request(held, FP_A, LONG_LEASE)));

    cutConnection();
    try {
      assertUnavailable("check", () -> store().admin().check());
      assertUnavailable("inspect", () -> store().admin().inspect(held));
      assertUnavailable("forceRelease", () -> store().admin().forceRelease(held));
      assertUnavailable("count", () -> store().admin().count());
    } finally {
      restoreConnection();
    }

    awaitRecovery(scope);
    store().admin().check();
    assertInProgress(store().claim(request(held, FP_A, LONG_LEASE)), LONG_LEASE);
  }

  @Test
  @DisplayName("repeated outages: each is reported as unavailable and each is recovered from")
  void repeatedOutagesAreEachRecovered() {
    Scope scope = newScope();
    for (int outage = 0; outage < 3; outage++) {
      IdempotencyKey key = key(scope, "outage-" + outage);
      cutConnection();
      try {
        assertUnavailable("claim", () -> store().claim(request(key, FP_A, LONG_LEASE)));
      } finally {
        restoreConnection();
      }
      awaitRecovery(scope);
      acquired(store().claim(request(key, FP_A, LONG_LEASE)));
    }
  }

  private void assertUnavailable(String operation, Executable call) {
    Throwable thrown =
        Assertions.assertTimeoutPreemptively(
            Duration.ofSeconds(CALL_TIMEOUT_SECONDS),
            () -> catchThrowable(call::execute),
            () ->
                operation
                    + " did not fail within "
                    + CALL_TIMEOUT_SECONDS
                    + " s while the server was unreachable");
    assertThat(thrown)
        .as("what %s threw while the server was unreachable", operation)
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("'" + store().name() + "'");
    assertThat(((StoreException) thrown).storeName())
        .as("storeName() of the exception")
        .isEqualTo(store().name());
  }

  private void awaitRecovery(Scope scope) {
    awaitClaimsServed(store(), scope, probes, Duration.ofSeconds(RECOVERY_SECONDS));
  }
}
