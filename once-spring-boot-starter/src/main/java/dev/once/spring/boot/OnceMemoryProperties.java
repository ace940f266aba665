package dev.once.spring.boot;

/**
 * {@code once.memory.*}: the in-memory store ({@code dev.once.InMemoryIdempotencyStore}). Part of
 * {@link OnceProperties}.
 */
public class OnceMemoryProperties {
  /** Most records held; when full, new keys are refused (503) rather than live ones evicted. */
  private int maxRecords = 100_000;

  /**
   * {@return the {@code once.memory.max-records} property} Most records held; when full, new keys
   * are refused (503) rather than live ones evicted. Default {@code 100000}.
   */
  public int getMaxRecords() {
    return maxRecords;
  }

  /**
   * Sets the {@code once.memory.max-records} property; see {@link #getMaxRecords()}.
   *
   * @param maxRecords the new value
   */
  public void setMaxRecords(int maxRecords) {
    this.maxRecords = maxRecords;
  }
}
