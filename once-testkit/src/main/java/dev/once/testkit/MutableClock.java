package dev.once.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link Clock} that stands still until a test moves it, so lease and retention tests never
 * sleep. Thread-safe: any thread may read it while another advances it.
 *
 * <pre>{@code
 * MutableClock clock = MutableClock.startingAt(Instant.parse("2030-01-01T00:00:00Z"));
 * InMemoryIdempotencyStore store = InMemoryIdempotencyStore.builder().clock(clock).build();
 * clock.advance(Duration.ofSeconds(11));   // every lease of 10 s has now expired
 * }</pre>
 */
public final class MutableClock extends Clock {

  private final AtomicReference<Instant> now;
  private final ZoneId zone;

  private MutableClock(AtomicReference<Instant> now, ZoneId zone) {
    this.now = now;
    this.zone = zone;
  }

  /**
   * {@return a clock in UTC that reads {@code start} until moved}
   *
   * @param start the first reading; not {@code null}
   */
  public static MutableClock startingAt(Instant start) {
    return new MutableClock(
        new AtomicReference<>(Objects.requireNonNull(start, "start")), ZoneOffset.UTC);
  }

  /** {@return a clock in UTC that reads the current system time until moved} */
  public static MutableClock startingNow() {
    return startingAt(Instant.now());
  }

  /**
   * Moves the clock forward.
   *
   * @param amount how far; zero or positive
   * @throws IllegalArgumentException if {@code amount} is negative: time used for leases never goes
   *     back
   */
  public void advance(Duration amount) {
    Objects.requireNonNull(amount, "amount");
    if (amount.isNegative()) {
      throw new IllegalArgumentException(
          "a clock only moves forward, but the amount was " + amount);
    }
    now.updateAndGet(t -> t.plus(amount));
  }

  /**
   * Sets the clock to {@code instant}, forward or back (for tests of clock skew).
   *
   * @param instant the new reading; not {@code null}
   */
  public void set(Instant instant) {
    now.set(Objects.requireNonNull(instant, "instant"));
  }

  @Override
  public Instant instant() {
    return Objects.requireNonNull(now.get(), "every write checks for null");
  }

  @Override
  public ZoneId getZone() {
    return zone;
  }

  /** A view in another zone that shares this clock's time: moving either moves both. */
  @Override
  public Clock withZone(ZoneId zone) {
    return new MutableClock(now, Objects.requireNonNull(zone, "zone"));
  }

  @Override
  public String toString() {
    return "MutableClock[" + now.get() + ", " + zone + "]";
  }
}
