package dev.once;

/**
 * The caller no longer holds the key: its fencing token is not the record's current one, because
 * the lease expired and another worker took over, or the record was released or purged. The write
 * was refused, so a newer owner's result is never overwritten.
 */
public final class LeaseLostException extends OnceException {
  private static final long serialVersionUID = 1L;

  /** The stale fencing token. */
  private final long token;

  /**
   * Creates the exception for {@code operation} (e.g. "complete") refused by store {@code
   * storeName} because {@code token} is no longer current.
   *
   * @param scope the key's scope, shown in the message
   * @param storeName the store's {@link IdempotencyStore#name() name}
   * @param token the stale fencing token the caller presented
   * @param operation the refused write, such as {@code "complete"} or {@code "renew"}
   */
  public LeaseLostException(Scope scope, String storeName, long token, String operation) {
    super(
        operation
            + " refused for a key in "
            + scope
            + " by store '"
            + storeName
            + "': fencing token "
            + token
            + " is no longer current (lease taken over, released or expired)",
        scope);
    this.token = token;
  }

  /** {@return the stale token the caller presented} */
  public long token() {
    return token;
  }
}
