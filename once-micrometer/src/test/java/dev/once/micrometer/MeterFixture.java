package dev.once.micrometer;

import dev.once.ClaimResult;
import dev.once.IdempotencyKey;
import dev.once.LeaseLostException;
import dev.once.OnceListener;
import dev.once.Purger;
import dev.once.Scope;
import dev.once.StoreException;
import dev.once.StoreUnavailableException;
import java.time.Duration;

/** Calls every callback of the listener SPI, each with every outcome and reason it can carry. */
final class MeterFixture {

  static final Scope SCOPE = Scope.of("tenant-secret", "POST /payments");
  static final IdempotencyKey KEY = IdempotencyKey.of(SCOPE, "raw-key-secret");

  /** How many distinct callbacks {@link #callEveryCallback} calls. */
  static final int CALLBACKS = 17;

  /** How many distinct callbacks {@link #callEveryPurgeCallback} calls. */
  static final int PURGE_CALLBACKS = 3;

  private MeterFixture() {}

  static void callEveryCallback(OnceListener l) {
    StoreException unavailable = new StoreUnavailableException("refused", "jdbc", SCOPE, null);
    StoreException failed = new StoreException("bad sql", "jdbc", SCOPE, null);
    LeaseLostException lost = new LeaseLostException(SCOPE, "jdbc", 1, "renew");
    for (ClaimResult.Status status : ClaimResult.Status.values()) {
      l.claimed(KEY, "jdbc", status, Duration.ofMillis(2));
      l.claimed(SCOPE, "jdbc", status, Duration.ofMillis(2));
    }
    l.claiming(KEY, "jdbc");
    l.completed(KEY, "jdbc", Duration.ofMillis(5));
    l.completed(SCOPE, "jdbc", Duration.ofMillis(5));
    l.failed(KEY, "jdbc", new IllegalStateException(), true);
    l.failed(SCOPE, "jdbc", new IllegalStateException(), false);
    l.leaseLost(KEY, "jdbc");
    l.leaseLost(SCOPE, "jdbc");
    l.leaseTakenOver(KEY, "jdbc");
    l.leaseTakenOver(SCOPE, "jdbc");
    l.storeFailed(KEY, "jdbc", unavailable);
    l.storeFailed(SCOPE, "jdbc", failed);
    l.renewalFailed(KEY, "jdbc", unavailable);
    l.renewalFailed(SCOPE, "jdbc", lost);
    l.inboxDuplicates("payments", "kafka:g/orders", "jdbc", 1);
    l.deadLettered("payments", "kafka:orders", OnceListener.DEAD_LETTER_REJECTED);
    l.deadLettered("payments", "kafka:orders", OnceListener.DEAD_LETTER_FAILED);
  }

  static void callEveryPurgeCallback(Purger.Listener l) {
    l.onBatch("jdbc", 100);
    l.onPurge("jdbc", 2, 150);
    l.onFailure("jdbc", new StoreUnavailableException("refused", "jdbc", SCOPE, null));
  }
}
