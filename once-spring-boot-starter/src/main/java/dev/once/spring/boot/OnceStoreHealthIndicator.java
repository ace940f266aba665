package dev.once.spring.boot;

import dev.once.IdempotencyStore;
import java.util.Objects;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * A store's health: {@code UP} when {@link dev.once.StoreAdmin#check()} passes (the store answers
 * and its table is there), {@code DOWN} with the store's message otherwise, {@code UNKNOWN} for a
 * store that cannot check itself. Details: {@code store} (its name), and {@code error} when down.
 */
public final class OnceStoreHealthIndicator implements HealthIndicator {

  private final IdempotencyStore store;

  /**
   * The health of one store.
   *
   * @param store the store to check on every health request
   */
  public OnceStoreHealthIndicator(IdempotencyStore store) {
    this.store = Objects.requireNonNull(store, "store");
  }

  @Override
  public Health health() {
    try {
      store.admin().check();
      return Health.up().withDetail("store", store.name()).build();
    } catch (UnsupportedOperationException e) {
      return Health.unknown()
          .withDetail("store", store.name())
          .withDetail("error", String.valueOf(e.getMessage()))
          .build();
    } catch (RuntimeException e) {
      return Health.down()
          .withDetail("store", store.name())
          .withDetail("error", String.valueOf(e.getMessage()))
          .build();
    }
  }
}
