package dev.once.testkit;

import dev.once.IdempotencyStore;
import dev.once.InMemoryIdempotencyStore;
import java.time.Duration;
import java.time.Instant;

/** The in-memory store passes the store contract. */
class InMemoryStoreContractTest extends IdempotencyStoreContract {

  private final MutableClock clock = MutableClock.startingAt(Instant.parse("2030-01-01T00:00:00Z"));
  private final InMemoryIdempotencyStore store =
      InMemoryIdempotencyStore.builder().clock(clock).build();

  @Override
  protected IdempotencyStore store() {
    return store;
  }

  @Override
  protected void advanceClock(Duration amount) {
    clock.advance(amount);
  }
}
