package dev.once;

import org.jspecify.annotations.Nullable;

/**
 * The store cannot be reached (connection refused or lost, pool exhausted, server restarting).
 * Callers must fail closed: the operation was not executed under protection. It is safe to retry
 * later.
 */
public final class StoreUnavailableException extends StoreException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what could not be reached, and how
   * @param storeName the store's {@link IdempotencyStore#name() name}
   * @param scope the scope of the key involved, or {@code null}
   * @param cause the underlying failure, or {@code null}
   */
  public StoreUnavailableException(
      String message, String storeName, @Nullable Scope scope, @Nullable Throwable cause) {
    super("unavailable: " + message, storeName, scope, cause);
  }
}
