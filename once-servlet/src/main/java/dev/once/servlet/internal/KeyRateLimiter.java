package dev.once.servlet.internal;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * At most {@code limit} keyed requests per tenant in each fixed window, counted in this JVM before
 * any claim, so a flood of fresh keys creates no records. Windows of idle tenants are dropped as
 * the next window opens, which keeps the map as small as the set of recently active tenants.
 */
public final class KeyRateLimiter {

  private record Window(long start, AtomicInteger used) {}

  private final int limit;
  private final long windowNanos;
  private final LongSupplier nanoTime;
  private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();
  private volatile long lastSweep;

  public KeyRateLimiter(int limit, Duration window, LongSupplier nanoTime) {
    this.limit = limit;
    this.windowNanos = window.toNanos();
    this.nanoTime = nanoTime;
    this.lastSweep = nanoTime.getAsLong();
  }

  /**
   * Counts one keyed request; answers {@code null} if allowed, else how long until the tenant's
   * window ends.
   */
  public @Nullable Duration acquire(String tenant) {
    long now = nanoTime.getAsLong();
    sweep(now);
    Window w =
        windows.compute(
            tenant,
            (t, current) ->
                current == null || now - current.start() >= windowNanos
                    ? new Window(now, new AtomicInteger())
                    : current);
    if (w.used().incrementAndGet() <= limit) {
      return null;
    }
    return Duration.ofNanos(Math.max(1, windowNanos - (now - w.start())));
  }

  private void sweep(long now) {
    if (now - lastSweep < windowNanos) {
      return;
    }
    lastSweep = now;
    windows.values().removeIf(w -> now - w.start() >= windowNanos);
  }
}
