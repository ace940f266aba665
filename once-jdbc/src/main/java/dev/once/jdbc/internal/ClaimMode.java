package dev.once.jdbc.internal;

/**
 * How a claim runs: on its own connection, or in a caller's transaction (failing fast or waiting
 * for holders).
 */
public enum ClaimMode {
  STANDALONE,
  TRANSACTION_FAIL_FAST,
  TRANSACTION_WAIT,
  /**
   * {@link #TRANSACTION_WAIT} for an inbox, whose effect commits with the claim: where the dialect
   * can, an acquired record is written completed at once (see {@link
   * SqlOperations#claimsCompleted}), saving a second write per row.
   */
  TRANSACTION_WAIT_COMPLETED;

  boolean inCallerTransaction() {
    return this != STANDALONE;
  }

  boolean waits() {
    return this == TRANSACTION_WAIT || this == TRANSACTION_WAIT_COMPLETED;
  }
}
