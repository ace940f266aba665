package dev.once;

import org.jspecify.annotations.Nullable;

/** A key, tenant or operation name was rejected by {@link KeyPolicy} before any store was asked. */
public final class InvalidKeyException extends OnceException {
  private static final long serialVersionUID = 1L;

  /** Why the value was rejected. */
  public enum Reason {
    /** The value is {@code null}. */
    MISSING,
    /** The value is the empty string. */
    EMPTY,
    /** Shorter than {@link KeyPolicy#minLength()}. */
    TOO_SHORT,
    /** Longer than {@link KeyPolicy#maxLength()}. */
    TOO_LONG,
    /** Contains a control character. */
    CONTROL_CHARACTER,
    /** Contains a non-ASCII character and the policy allows ASCII only. */
    NON_ASCII,
    /** Contains an unpaired surrogate. */
    MALFORMED_UNICODE,
    /** Does not match the policy's pattern. */
    PATTERN_MISMATCH
  }

  /** Why the key was rejected. */
  private final Reason reason;

  /**
   * Creates the exception; {@code message} must not contain the raw key, which may be sensitive.
   *
   * @param reason which rule the value broke
   * @param message what was wrong, without the raw key
   * @param scope the scope the key was meant for
   */
  public InvalidKeyException(Reason reason, String message, @Nullable Scope scope) {
    super(message, scope);
    this.reason = reason;
  }

  /** {@return why the key was rejected} */
  public Reason reason() {
    return reason;
  }
}
