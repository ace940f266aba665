package dev.once.drill;

import org.jspecify.annotations.Nullable;

/**
 * One request the drill sent, as the report shows it.
 *
 * @param request the logical request's number, from 1 in input order
 * @param key its idempotency key
 * @param kind why it was sent
 * @param status the answer's status; 0 when no answer came ({@code error} says why)
 * @param replayed whether the answer carried the replay marker
 * @param atMillis when it was sent, in milliseconds from the start of the drill
 * @param latencyMillis how long the answer took (for {@link Kind#ABORTED}: until the status line)
 * @param error why no answer came, or null
 */
public record Attempt(
    int request,
    String key,
    Kind kind,
    int status,
    boolean replayed,
    double atMillis,
    double latencyMillis,
    @Nullable String error) {

  /** Why a request was sent. */
  public enum Kind {
    /** The first try of a request. */
    FIRST,
    /** One of the N tries sent at once with one key ({@link Injection#CONCURRENT}). */
    CONCURRENT,
    /** A first try whose connection the drill closed after the status line. */
    ABORTED,
    /** The retry after {@link #ABORTED}. */
    RETRY_AFTER_ABORT,
    /** An exact duplicate after the first answer. */
    DUPLICATE,
    /** The key with a changed body. */
    MISMATCH,
    /** A retry later in the slow-retry window. */
    SLOW_RETRY,
    /** A first try sent at once with other keys' first tries ({@link Injection#BURST}). */
    BURST;

    /** {@return whether this kind is a first try, not a repetition} */
    public boolean firstTry() {
      return this == FIRST || this == CONCURRENT || this == ABORTED || this == BURST;
    }
  }
}
