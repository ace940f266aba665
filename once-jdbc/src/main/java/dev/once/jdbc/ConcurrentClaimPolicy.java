package dev.once.jdbc;

/**
 * What a claim made inside the caller's transaction does when another open transaction has claimed
 * the same key and not yet committed. (Outside a caller's transaction claims commit at once, so the
 * question does not arise.)
 */
public enum ConcurrentClaimPolicy {
  /**
   * Answer {@link dev.once.ClaimResult.InProgress} at once. The default: an HTTP caller gets its
   * 409 now.
   */
  FAIL_FAST,
  /**
   * Block until the other transaction ends, then answer truthfully: {@link
   * dev.once.ClaimResult.Completed} if it committed, {@link dev.once.ClaimResult.Acquired} if it
   * rolled back. Right for consumers, whose redelivery would otherwise spin.
   */
  WAIT
}
