package dev.once.testkit;

import static dev.once.testkit.ContractSupport.FP_A;
import static dev.once.testkit.ContractSupport.LONG_LEASE;
import static dev.once.testkit.ContractSupport.RETENTION;
import static dev.once.testkit.ContractSupport.acquired;
import static dev.once.testkit.ContractSupport.assertReplays;
import static dev.once.testkit.ContractSupport.awaitClaimsServed;
import static dev.once.testkit.ContractSupport.key;
import static dev.once.testkit.ContractSupport.newScope;
import static dev.once.testkit.ContractSupport.outcome;
import static dev.once.testkit.ContractSupport.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.once.ClaimResult;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.StoreUnavailableException;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
 * A completion that ran on the server but whose answer was lost with the connection: the caller
 * gets {@link StoreUnavailableException}, cannot know it ran, sends it again, and must be told it
 * succeeded. A store module extends it with a TCP proxy between the store and the server, and a
 * second store that reaches the server directly (through which the suite sees what the server did):
 *
 * <pre>{@code
 * class PostgresLostReplyIT extends LostReplyContract {
 *   protected IdempotencyStore store() { return storeThroughProxy; }
 *   protected IdempotencyStore directStore() { return storeWithoutTheProxy; }
 *   protected void loseReplies() { proxy.loseReplies(); }
 *   protected void cutConnection() { proxy.cut(); }
 *   protected void restoreConnection() { proxy.restore(); }
 * }
 * }</pre>
 *
 * <p>A {@code complete} must be one request and one answer on the wire once the connection is up
 * (true of PostgreSQL, MariaDB and Redis; not of H2's TCP protocol, whose prepare is a round trip
 * of its own, so the statement would never reach the server while answers are lost). That is also
 * why {@code completeAll} is not run here: the JDBC drivers describe or prepare a batch in a round
 * trip of its own. The contract suite covers its repeats.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
public abstract class LostReplyContract {

  /** How long one store call may take to fail once its connection is cut, in seconds. */
  public static final int CALL_TIMEOUT_SECONDS = 60;

  /** How long the store may take to serve again after the connection is restored, in seconds. */
  public static final int RECOVERY_SECONDS = 30;

  private final AtomicInteger probes = new AtomicInteger();

  /**
   * {@return the store under test} It reaches its server through the connection the suite cuts.
   * Return the same instance.
   */
  protected abstract IdempotencyStore store();

  /**
   * {@return a store on the same records as {@link #store()}} It does not go through that
   * connection.
   */
  protected abstract IdempotencyStore directStore();

  /**
   * Makes the server's answers to {@link #store()} get lost on the way while its requests still
   * reach the server (e.g. {@link dev.once.testkit.servers.TcpProxy#loseReplies()}), until {@link
   * #restoreConnection()}.
   */
  protected abstract void loseReplies();

  /**
   * Resets the store's connections and refuses new ones (e.g. {@link
   * dev.once.testkit.servers.TcpProxy#cut()}).
   */
  protected abstract void cutConnection();

  /** Lets answers and new connections through again. Idempotent. */
  protected abstract void restoreConnection();

  @AfterEach
  void alwaysRestore() {
    restoreConnection();
  }

  @Test
  @DisplayName(
      "a completion that ran but whose answer was lost with the connection succeeds when sent again")
  void completionWhoseAnswerWasLostSucceedsWhenSentAgain() throws Exception {
    Scope scope = newScope();
    IdempotencyKey key = key(scope, "answer-lost");
    long token = acquired(store().claim(request(key, FP_A, LONG_LEASE))).token();
    Outcome outcome = outcome("charged once");

    loseAnswerOf(key, "complete", () -> store().complete(key, token, outcome, RETENTION));

    awaitRecovery(scope);
    // The caller cannot know the completion ran, so it sends it again: that is a success, not a
    // lost lease.
    store().complete(key, token, outcome, RETENTION);
    assertReplays(store().claim(request(key, FP_A)), outcome);
    assertReplays(directStore().claim(request(key, FP_A)), outcome);
  }

  /**
   * Runs {@code call} with the answers lost, cuts the connection once the direct store shows {@code
   * key} completed (the call ran on the server), and checks that the call failed as unavailable.
   */
  // A test (or its helper) throws whatever fails it; JUnit reports any exception, an interrupt too.
  @SuppressWarnings("InterruptedExceptionSwallowed")
  private void loseAnswerOf(IdempotencyKey key, String operation, Executable call)
      throws Exception {
    ExecutorService cutter = Executors.newSingleThreadExecutor();
    try {
      loseReplies();
      Future<?> cut =
          cutter.submit(
              () -> {
                await("the " + operation + " reached the server and ran")
                    .atMost(Duration.ofSeconds(CALL_TIMEOUT_SECONDS))
                    .pollInterval(Duration.ofMillis(20))
                    .until(
                        () ->
                            directStore().claim(request(key, FP_A, LONG_LEASE))
                                instanceof ClaimResult.Completed);
                cutConnection();
              });
      Throwable thrown =
          Assertions.assertTimeoutPreemptively(
              Duration.ofSeconds(CALL_TIMEOUT_SECONDS),
              () -> catchThrowable(call::execute),
              () ->
                  operation
                      + " did not fail within "
                      + CALL_TIMEOUT_SECONDS
                      + " s after its connection was cut");
      assertThat(thrown)
          .as("what %s threw when its answer was lost", operation)
          .isInstanceOf(StoreUnavailableException.class);
      cut.get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } finally {
      restoreConnection();
      cutter.shutdownNow();
    }
  }

  private void awaitRecovery(Scope scope) {
    awaitClaimsServed(store(), scope, probes, Duration.ofSeconds(RECOVERY_SECONDS));
  }
}
