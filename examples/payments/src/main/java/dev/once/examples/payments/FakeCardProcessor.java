package dev.once.examples.payments;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A stand-in card processor: approves up to {@value #LIMIT_CENTS} cents, declines above, and takes
 * {@code payments.processor-latency} to answer (default 0), so that a request still in flight is
 * easy to see.
 */
public final class FakeCardProcessor implements CardProcessor {

  /** The largest amount the fake processor approves, in cents. */
  public static final long LIMIT_CENTS = 100_000;

  private final Duration latency;

  public FakeCardProcessor(Duration latency) {
    if (latency.isNegative()) {
      throw new IllegalArgumentException(
          "payments.processor-latency must not be negative, but was " + latency);
    }
    this.latency = latency;
  }

  @Override
  public Authorization charge(
      String paymentId, String customerId, long amountCents, String currency) {
    if (!latency.isZero()) {
      try {
        Thread.sleep(latency.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the card processor", e);
      }
    }
    if (amountCents > LIMIT_CENTS) {
      return Authorization.declined("amount exceeds the card's limit of " + LIMIT_CENTS + " cents");
    }
    return Authorization.approved(
        "auth_" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
  }
}
