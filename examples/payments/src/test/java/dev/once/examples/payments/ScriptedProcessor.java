package dev.once.examples.payments;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A card processor the tests steer per customer: count its calls (the handler count), hold a charge
 * on a latch while it is in flight, or fail the next calls. Thread-safe; one instance may serve
 * several application contexts.
 */
final class ScriptedProcessor implements CardProcessor {

  /**
   * A charge held in flight: {@link #entered} opens when it reaches the processor, {@link #release}
   * lets it go.
   */
  record Gate(CountDownLatch entered, CountDownLatch release) {
    boolean awaitEntered() throws InterruptedException {
      return entered.await(20, TimeUnit.SECONDS);
    }

    void open() {
      release.countDown();
    }
  }

  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private final Map<String, Gate> gates = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();

  /** Holds every charge for {@code customerId} until the gate is opened. */
  Gate hold(String customerId) {
    Gate gate = new Gate(new CountDownLatch(1), new CountDownLatch(1));
    gates.put(customerId, gate);
    return gate;
  }

  /**
   * Makes the next {@code times} charges for {@code customerId} throw, after the payment row was
   * inserted.
   */
  void failNext(String customerId, int times) {
    failures.put(customerId, new AtomicInteger(times));
  }

  /** How many charges for {@code customerId} reached the processor. */
  int calls(String customerId) {
    AtomicInteger n = calls.get(customerId);
    return n == null ? 0 : n.get();
  }

  @Override
  public Authorization charge(
      String paymentId, String customerId, long amountCents, String currency) {
    calls.computeIfAbsent(customerId, c -> new AtomicInteger()).incrementAndGet();
    Gate gate = gates.get(customerId);
    if (gate != null) {
      gate.entered().countDown();
      try {
        if (!gate.release().await(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the test never opened the gate for " + customerId);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    AtomicInteger fail = failures.get(customerId);
    if (fail != null && fail.getAndDecrement() > 0) {
      throw new IllegalStateException("injected card processor failure");
    }
    return amountCents > FakeCardProcessor.LIMIT_CENTS
        ? Authorization.declined(
            "amount exceeds the card's limit of " + FakeCardProcessor.LIMIT_CENTS + " cents")
        : Authorization.approved("auth_test_" + paymentId);
  }
}
