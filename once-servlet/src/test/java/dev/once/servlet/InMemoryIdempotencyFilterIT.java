package dev.once.servlet;

import dev.once.IdempotencyStore;
import dev.once.InMemoryIdempotencyStore;
import dev.once.servlet.testapp.Stores;
import dev.once.testkit.MutableClock;
import java.time.Duration;
import java.util.Optional;

/**
 * The checklist against {@link InMemoryIdempotencyStore}; both nodes share one instance, as one JVM
 * can.
 */
class InMemoryIdempotencyFilterIT extends AbstractIdempotencyFilterIT {

  private MutableClock clock;
  private InMemoryIdempotencyStore store;
  private Stores.Switchable outage;

  @Override
  protected void startBackend() {
    clock = MutableClock.startingNow();
    store = InMemoryIdempotencyStore.builder().clock(clock).build();
    outage = new Stores.Switchable(store);
  }

  @Override
  protected void stopBackend() {}

  @Override
  protected IdempotencyStore store() {
    return store;
  }

  @Override
  protected IdempotencyStore secondNodeStore() {
    return store;
  }

  @Override
  protected void advanceClock(Duration amount) {
    clock.advance(amount);
  }

  @Override
  protected IdempotencyStore outageStore() {
    return outage;
  }

  @Override
  protected void cutStore() {
    outage.cut();
  }

  @Override
  protected void restoreStore() {
    outage.restore();
  }

  @Override
  protected Optional<String> storeDump() {
    return Optional.empty(); // it keeps nothing at rest
  }
}
