package dev.once.outbox;

import dev.once.OnceException;
import org.jspecify.annotations.Nullable;

/**
 * The outbox could not do its work: the database failed (the cause is its {@link
 * java.sql.SQLException}) or the publisher threw. Nothing was lost: a relay's batch rolled back and
 * is claimed again.
 */
public class OutboxException extends OnceException {

  private static final long serialVersionUID = 1L;

  /**
   * @param message what was being done
   * @param cause why it failed
   */
  public OutboxException(String message, @Nullable Throwable cause) {
    super(message, null, cause);
  }
}
