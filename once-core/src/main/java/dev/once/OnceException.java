package dev.once;

import org.jspecify.annotations.Nullable;

/**
 * Base of every exception Once throws. Unchecked, so that it passes through user lambdas.
 *
 * <p>Subclasses say exactly what happened: {@link InvalidKeyException}, {@link
 * InProgressException}, {@link FingerprintMismatchException}, {@link LeaseLostException}, {@link
 * StoreException} and its {@link StoreUnavailableException}, and {@link ReplayedFailureException}.
 * Messages name the scope and the store but never the raw idempotency key, which may be sensitive.
 */
public class OnceException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The scope of the key involved, or {@code null}. */
  private final @Nullable Scope scope;

  /**
   * Creates the exception.
   *
   * @param message what happened, without the raw key
   * @param scope the scope of the key involved, or {@code null}
   * @param cause the underlying failure, or {@code null}
   */
  public OnceException(String message, @Nullable Scope scope, @Nullable Throwable cause) {
    super(message, cause);
    this.scope = scope;
  }

  /**
   * Creates the exception without a cause.
   *
   * @param message what happened, without the raw key
   * @param scope the scope of the key involved, or {@code null}
   */
  public OnceException(String message, @Nullable Scope scope) {
    this(message, scope, null);
  }

  /** {@return the scope of the key involved} {@code null} when the failure is not about one key. */
  public @Nullable Scope scope() {
    return scope;
  }
}
