package dev.once;

import org.jspecify.annotations.Nullable;

/**
 * The store failed to answer truthfully (an unexpected SQL error, a serialization failure that
 * requires the caller's transaction to be retried, a corrupt record). Never means "key not found".
 */
public class StoreException extends OnceException {
  private static final long serialVersionUID = 1L;

  /** The name of the store that failed. */
  private final String storeName;

  /**
   * Creates the exception.
   *
   * @param message what failed
   * @param storeName the failing store's {@link IdempotencyStore#name() name}
   * @param scope the scope of the key involved, or {@code null}
   * @param cause the underlying failure, or {@code null}
   */
  public StoreException(
      String message, String storeName, @Nullable Scope scope, @Nullable Throwable cause) {
    super("store '" + storeName + "': " + message, scope, cause);
    this.storeName = storeName;
  }

  /** {@return the {@link IdempotencyStore#name() name} of the store that failed} */
  public String storeName() {
    return storeName;
  }
}
