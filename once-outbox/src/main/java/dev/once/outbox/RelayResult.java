package dev.once.outbox;

/**
 * What one batch of the relay came to.
 *
 * @param claimed rows the claim locked
 * @param published rows handed to the publisher
 * @param sent rows marked sent (the broker acknowledged them)
 * @param refused rows the broker refused, to be tried again after a backoff
 * @param parked refused rows that reached {@code maxAttempts} and were parked
 * @param deferred rows left pending as they were: claimed behind an earlier unsent row of their key
 *     that another relay holds, or published after an earlier row of their key was refused
 */
public record RelayResult(
    int claimed, int published, int sent, int refused, int parked, int deferred) {

  /** Nothing was pending. */
  public static final RelayResult EMPTY = new RelayResult(0, 0, 0, 0, 0, 0);
}
