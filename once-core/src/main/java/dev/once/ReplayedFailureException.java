package dev.once;

/**
 * Replay of a failure that a {@link FailurePolicy} declared final: the first execution threw, the
 * failure was stored as the key's outcome, and every retry gets it again instead of executing a
 * second time.
 */
public final class ReplayedFailureException extends OnceException {
  private static final long serialVersionUID = 1L;

  /** Class name of the original exception. */
  private final String originalType;

  /** Message of the original exception. */
  private final String originalMessage;

  /**
   * Creates the exception from the stored failure of a key in {@code scope}.
   *
   * @param scope the key's scope
   * @param originalType class name of the exception the first execution threw
   * @param originalMessage its message; empty if it had none
   */
  public ReplayedFailureException(Scope scope, String originalType, String originalMessage) {
    super("replayed final failure " + originalType + ": " + originalMessage, scope);
    this.originalType = originalType;
    this.originalMessage = originalMessage;
  }

  /** {@return the class name of the exception the first execution threw} */
  public String originalType() {
    return originalType;
  }

  /** {@return the message of the exception the first execution threw} It may be empty. */
  public String originalMessage() {
    return originalMessage;
  }
}
