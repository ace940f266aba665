package dev.once.spring.boot;

/**
 * {@code once.memory.*}: the in-memory store ({@code dev.once.InMemoryIdempotencyStore}). Part of
 * {@link OnceProperties}.
 */
public class OnceMemoryProperties {
  /** Most records held; when full, new keys are refused (503) rather than live ones evicted. */
  private int maxRecords = 100_000;

  public int getMaxRecords() {
    return maxRecords;
  }

  public void setMaxRecords(int maxRecords) {
    this.maxRecords = maxRecords;
  }
}
