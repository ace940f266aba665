package dev.once.spring.boot;

import java.time.Duration;

/**
 * {@code once.purge.*}: the purger that deletes expired idempotency records and inbox markers from
 * every {@code IdempotencyStore} bean ({@link OncePurgers}). Part of {@link OnceProperties}.
 */
public class OncePurgeProperties {
  /** Whether this application purges expired records in the background. */
  private boolean enabled = true;

  /** The wait between the end of one purge and the start of the next. */
  private Duration interval = Duration.ofMinutes(1);

  /** The most records one batch (one statement) deletes. */
  private int batchSize = 1000;

  /** The wait between two batches of one purge, so that claims get the table in between. */
  private Duration pause = Duration.ofMillis(50);

  /**
   * {@return the {@code once.purge.enabled} property} Whether this application purges expired
   * records in the background. Default {@code true}; safe on every instance at once.
   */
  public boolean isEnabled() {
    return enabled;
  }

  /**
   * Sets the {@code once.purge.enabled} property; see {@link #isEnabled()}.
   *
   * @param enabled the new value
   */
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /**
   * {@return the {@code once.purge.interval} property} The wait between the end of one purge and
   * the start of the next. Default 1 minute; positive.
   */
  public Duration getInterval() {
    return interval;
  }

  /**
   * Sets the {@code once.purge.interval} property; see {@link #getInterval()}.
   *
   * @param interval the new value
   */
  public void setInterval(Duration interval) {
    this.interval = interval;
  }

  /**
   * {@return the {@code once.purge.batch-size} property} The most records one batch deletes.
   * Default {@code 1000}; positive.
   */
  public int getBatchSize() {
    return batchSize;
  }

  /**
   * Sets the {@code once.purge.batch-size} property; see {@link #getBatchSize()}.
   *
   * @param batchSize the new value
   */
  public void setBatchSize(int batchSize) {
    this.batchSize = batchSize;
  }

  /**
   * {@return the {@code once.purge.pause} property} The wait between two batches of one purge.
   * Default 50 ms; zero or positive.
   */
  public Duration getPause() {
    return pause;
  }

  /**
   * Sets the {@code once.purge.pause} property; see {@link #getPause()}.
   *
   * @param pause the new value
   */
  public void setPause(Duration pause) {
    this.pause = pause;
  }
}
