package dev.once.jdbc.internal;

/** Where a claim runs: on the store's own autocommit connection, or inside the caller's transaction. */
public enum ClaimMode {
  STANDALONE,
  TRANSACTION_FAIL_FAST,
  TRANSACTION_WAIT;

  boolean inCallerTransaction() {
    return this != STANDALONE;
  }
}
