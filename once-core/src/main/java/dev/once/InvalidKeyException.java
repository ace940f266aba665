package dev.once;

/** A key, tenant or operation name was rejected by {@link KeyPolicy} before any store was asked. */
public final class InvalidKeyException extends OnceException {
  private static final long serialVersionUID = 1L;

  /** Why the value was rejected. */
  public enum Reason {
    MISSING,
    EMPTY,
    TOO_SHORT,
    TOO_LONG,
    CONTROL_CHARACTER,
    NON_ASCII,
    MALFORMED_UNICODE,
    PATTERN_MISMATCH
  }

  private final Reason reason;

  public InvalidKeyException(Reason reason, String message, Scope scope) {
    super(message, scope);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
