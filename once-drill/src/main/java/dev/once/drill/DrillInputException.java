package dev.once.drill;

/**
 * Input the drill cannot use: an unreadable file, a line that is not a request (with its line
 * number), a missing option. The command line answers it with exit code 2.
 */
public final class DrillInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what is wrong and where
   */
  public DrillInputException(String message) {
    super(message);
  }

  /**
   * Creates the exception with its cause.
   *
   * @param message what is wrong and where
   * @param cause the underlying failure
   */
  public DrillInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
