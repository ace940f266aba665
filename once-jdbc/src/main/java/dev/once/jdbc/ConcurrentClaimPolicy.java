package dev.once.jdbc;

/**
 * What a claim made inside the caller's transaction does when another open transaction has claimed
 * the same key and not yet committed. (Outside a caller's transaction claims commit at once, so the
 * question does not arise.)
 *
 * <p>On SQLite the lock is the whole database's, not the key's: one transaction writes at a time,
 * and any open transaction that has written (claimed any key, replayed a completed one, or written
 * business rows) holds it. SQLite cannot say which keys that transaction claimed, so "another open
 * transaction holds the key" there means "another open transaction has written anything".
 */
public enum ConcurrentClaimPolicy {
  /**
   * Answer {@link dev.once.ClaimResult.InProgress} at once. The default: an HTTP caller gets its
   * 409 now. On SQLite: while any other open transaction holds the write lock, a claim answers from
   * the committed records: a completed key replays, another fingerprint mismatches, and anything
   * else (a key no one holds, too) is in progress. Under {@code transaction_mode=IMMEDIATE} no
   * other transaction is ever open beside the caller's, so this never happens: the caller waited at
   * {@code BEGIN} instead.
   */
  FAIL_FAST,
  /**
   * Block until the other transaction ends, then answer truthfully: {@link
   * dev.once.ClaimResult.Completed} if it committed, {@link dev.once.ClaimResult.Acquired} if it
   * rolled back. Right for consumers, whose redelivery would otherwise spin. On SQLite the claim
   * waits for the database's write lock (up to {@code busy_timeout}, then it answers in progress),
   * also when the key is long completed: SQLite cannot read it before waiting without giving up the
   * wait. A deferred transaction that read before its claim cannot wait at all: its claim answers
   * in progress while the lock is taken, and fails with a serialization failure (SQLState {@code
   * 40001}: roll back and retry) once another connection has committed.
   */
  WAIT
}
