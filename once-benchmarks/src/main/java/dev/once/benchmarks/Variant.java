package dev.once.benchmarks;

import dev.once.IdempotencyKey;
import java.util.List;

/**
 * One way of recording that keys were seen: Once on some store, the store's raw ceiling, or a peer
 * library. Called from two threads at once.
 */
interface Variant extends AutoCloseable {

  /** Before each repetition: starts from an empty table (or a fresh store). */
  void reset() throws Exception;

  /**
   * Records {@code keys} in one call (a batch where the variant has one) and counts each key's
   * answer in {@code answers}.
   */
  void process(List<IdempotencyKey> keys, Answers answers) throws Exception;

  /** Rows in the table now, or -1 when not tracked. */
  default long existingRows() {
    return -1;
  }

  /**
   * Transactions retried after a deadlock or serialization failure, since the variant was created.
   */
  default long retries() {
    return 0;
  }

  @Override
  default void close() throws Exception {}
}
