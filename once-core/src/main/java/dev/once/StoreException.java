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

  /** Creates the exception; {@code scope} and {@code cause} may be {@code null}. */
  public StoreException(
      String message, String storeName, @Nullable Scope scope, @Nullable Throwable cause) {
    super("store '" + storeName + "': " + message, scope, cause);
    this.storeName = storeName;
  }

  /** The {@link IdempotencyStore#name() name} of the store that failed. */
  public String storeName() {
    return storeName;
  }
}
