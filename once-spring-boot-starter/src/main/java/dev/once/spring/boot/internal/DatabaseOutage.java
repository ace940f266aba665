package dev.once.spring.boot.internal;

import org.jspecify.annotations.Nullable;

/**
 * What an idempotent Kafka listener throws when its database failed (see {@link
 * ListenerInbox#isOutage}): the records are not at fault, so {@link KafkaOutageErrorHandler} gives
 * them back to the consumer after {@link #waitNanos()} instead of letting the application's error
 * handler count an attempt. Not public API.
 */
final class DatabaseOutage extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int consecutive;
  private final long waitNanos;

  DatabaseOutage(Throwable cause, int consecutive, long waitNanos) {
    super(
        "the database failed for an idempotent listener ("
            + consecutive
            + " in a row on this consumer); "
            + "no delivery attempt is spent",
        cause);
    this.consecutive = consecutive;
    this.waitNanos = waitNanos;
  }

  int consecutive() {
    return consecutive;
  }

  long waitNanos() {
    return waitNanos;
  }

  /** The outage in {@code failure}'s cause chain (the container may have wrapped it), or null. */
  static @Nullable DatabaseOutage in(Throwable failure) {
    int depth = 0;
    for (Throwable t = failure; t != null && depth < 20; t = t.getCause(), depth++) {
      if (t instanceof DatabaseOutage outage) {
        return outage;
      }
    }
    return null;
  }
}
