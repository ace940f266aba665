package dev.once.servlet.internal;

/**
 * What {@link dev.once.OnceListener#failed} hears when the handler answered with a status that is
 * not stored (a 5xx, or a transient 408, 409, 425 or 429) instead of throwing. Carries no stack
 * trace.
 */
public final class ServerErrorResponse extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;

  public ServerErrorResponse(int status) {
    super("the handler answered " + status, null, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }
}
