package dev.once;

import java.time.Duration;

/** Another execution holds a live lease on the key; retry after {@link #retryAfter()}. */
public final class InProgressException extends OnceException {
  private static final long serialVersionUID = 1L;

  /** Time left on the holder's lease. */
  private final Duration retryAfter;

  /**
   * Creates the exception for a key in {@code scope} whose lease in store {@code storeName} has
   * {@code retryAfter} left.
   *
   * @param scope the key's scope, shown in the message
   * @param storeName the store's {@link IdempotencyStore#name() name}
   * @param retryAfter time left on the holder's lease, by the store's clock
   */
  public InProgressException(Scope scope, String storeName, Duration retryAfter) {
    super(
        "an execution for this key in "
            + scope
            + " is still in progress in store '"
            + storeName
            + "'; retry after "
            + retryAfter,
        scope);
    this.retryAfter = retryAfter;
  }

  /** {@return how long until the current lease expires, as measured by the store's clock} */
  public Duration retryAfter() {
    return retryAfter;
  }
}
