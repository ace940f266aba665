package dev.once;

/**
 * The key was already used with a different request (another {@link Fingerprint}). Nothing was
 * executed and the stored record is unchanged.
 */
public final class FingerprintMismatchException extends OnceException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception for a key in {@code scope} that store {@code storeName} holds for another
   * fingerprint.
   *
   * @param scope the key's scope, shown in the message (the raw key never is)
   * @param storeName the store's {@link IdempotencyStore#name() name}
   */
  public FingerprintMismatchException(Scope scope, String storeName) {
    super(
        "this key in "
            + scope
            + " was already used with a different request fingerprint (store '"
            + storeName
            + "')",
        scope);
  }
}
