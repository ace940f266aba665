package dev.once.testkit;

import static dev.once.testkit.ContractSupport.FP_A;
import static dev.once.testkit.ContractSupport.key;
import static dev.once.testkit.ContractSupport.newScope;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.once.Execution;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.InProgressException;
import dev.once.LeaseLostException;
import dev.once.Once;
import dev.once.OnceException;
import dev.once.OnceListener;
import dev.once.ResultCodec;
import dev.once.Scope;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * What {@link Once} does with an action slower than its lease, against a real store: its lease is
 * renewed in the background, so retries meanwhile find it in progress and it runs once; and a
 * renewal that finds the key taken over is reported, and the late action's result is not stored. A
 * store module extends it:
 *
 * <pre>{@code
 * class RedisSlowExecutionIT extends SlowExecutionContract {
 *   protected IdempotencyStore store() { return store; }
 *   protected IdempotencyStore storeAnHourAhead() { return storeWithClockOffsetOfOneHour; }
 * }
 * }</pre>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class SlowExecutionContract {

  /** Short, so an action can run three times its lease in a few seconds. */
  protected static final Duration LEASE = Duration.ofSeconds(1);

  private static final ResultCodec<String> CODEC = ResultCodec.utf8();

  private final ExecutorService background = Executors.newCachedThreadPool();

  /** {@return the store under test} Return the same instance every time. */
  protected abstract IdempotencyStore store();

  /**
   * {@return the same records as {@link #store()}, seen through the store's clock shifted one hour
   * ahead} (e.g. its {@code clockOffset}): to it every live lease of {@link #store()} looks
   * expired, so it takes them over.
   */
  protected abstract IdempotencyStore storeAnHourAhead();

  @AfterAll
  void stopBackground() {
    background.shutdownNow();
  }

  // A test (or its helper) throws whatever fails it; JUnit reports any exception, an interrupt too.
  @SuppressWarnings("InterruptedExceptionSwallowed")
  @Test
  @DisplayName(
      "an action running three times its lease runs once: retries meanwhile are in progress, then replay")
  void anActionSlowerThanItsLeaseRunsOnceWhileRetriesArrive() throws Exception {
    Once once = Once.builder(store()).lease(LEASE).build();
    IdempotencyKey key = key(newScope(), "slow");
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    Future<Execution<String>> slow =
        background.submit(
            () ->
                once.execute(
                    key,
                    FP_A,
                    CODEC,
                    () -> {
                      runs.incrementAndGet();
                      started.countDown();
                      awaitLatch(finish);
                      return "first";
                    }));
    assertThat(started.await(10, TimeUnit.SECONDS)).as("the slow action started").isTrue();

    AtomicInteger retries = new AtomicInteger();
    await("every retry during three leases finds the key in progress")
        .during(LEASE.multipliedBy(3))
        .atMost(LEASE.multipliedBy(3).plusSeconds(5))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              retries.incrementAndGet();
              return catchThrowable(
                      () -> once.execute(key, FP_A, CODEC, () -> "retry-" + runs.incrementAndGet()))
                  instanceof InProgressException;
            });
    finish.countDown();

    assertThat(slow.get(10, TimeUnit.SECONDS)).isEqualTo(new Execution<>("first", false));
    assertThat(once.execute(key, FP_A, CODEC, () -> "late-" + runs.incrementAndGet()))
        .isEqualTo(new Execution<>("first", true));
    assertThat(retries.get()).as("retries sent").isGreaterThan(10);
    assertThat(runs).as("executions").hasValue(1);
  }

  // A test (or its helper) throws whatever fails it; JUnit reports any exception, an interrupt too.
  @SuppressWarnings("InterruptedExceptionSwallowed")
  @Test
  @DisplayName(
      "a renewal refused after a takeover is reported, and the late action's result is not stored")
  void aRenewalAfterATakeoverIsReportedAndTheZombiesResultIsNotStored() throws Exception {
    Renewals renewals = new Renewals();
    Once zombie = Once.builder(store()).lease(LEASE).listener(renewals).build();
    Once taker = Once.builder(storeAnHourAhead()).lease(LEASE).build();
    IdempotencyKey key = key(newScope(), "taken-over");
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    Future<Execution<String>> late =
        background.submit(
            () ->
                zombie.execute(
                    key,
                    FP_A,
                    CODEC,
                    () -> {
                      started.countDown();
                      awaitLatch(finish);
                      return "zombie";
                    }));
    assertThat(started.await(10, TimeUnit.SECONDS)).as("the zombie's action started").isTrue();

    assertThat(taker.execute(key, FP_A, CODEC, () -> "taker"))
        .isEqualTo(new Execution<>("taker", false));
    await("the zombie's heartbeat reports its lease lost")
        .atMost(LEASE.multipliedBy(5))
        .until(() -> renewals.failures.stream().anyMatch(LeaseLostException.class::isInstance));
    finish.countDown();

    Throwable thrown = catchThrowable(() -> late.get(10, TimeUnit.SECONDS));
    assertThat(thrown)
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(LeaseLostException.class);
    assertThat(renewals.leasesLost).as("the refused completion is reported").hasValue(1);
    assertThat(Once.builder(store()).build().execute(key, FP_A, CODEC, () -> "third"))
        .as("the key keeps the taker's result")
        .isEqualTo(new Execution<>("taker", true));
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never let the action finish");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static final class Renewals implements OnceListener {
    final List<OnceException> failures = new CopyOnWriteArrayList<>();
    final AtomicInteger leasesLost = new AtomicInteger();

    @Override
    public void renewalFailed(Scope scope, String store, OnceException failure) {
      failures.add(failure);
    }

    @Override
    public void leaseLost(Scope scope, String store) {
      leasesLost.incrementAndGet();
    }
  }
}
