package dev.once.internal;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A count per message id, for the most recently touched ids only (least recently used dropped
 * first), so a consumer that sees endless distinct failing ids keeps bounded memory. What an inbox
 * remembers between deliveries that its broker does not count: attempts spent, outage requeues.
 * Thread-safe. Not public API.
 */
public final class RecentCounts {

  private final Map<String, Integer> counts;

  /**
   * @param capacity the most ids remembered
   */
  public RecentCounts(int capacity) {
    this.counts =
        new LinkedHashMap<>(16, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
            return size() > capacity;
          }
        };
  }

  /** {@return the id's count, 0 if it is not remembered} */
  public synchronized int get(String id) {
    return counts.getOrDefault(id, 0);
  }

  /** Sets the id's count. */
  public synchronized void set(String id, int count) {
    counts.put(id, count);
  }

  /** Adds one to the id's count. */
  public synchronized void increment(String id) {
    counts.merge(id, 1, Integer::sum);
  }

  /** Forgets the id. */
  public synchronized void forget(String id) {
    counts.remove(id);
  }
}
