package dev.once.spring.boot;

import java.time.Duration;

/**
 * {@code once.sqs.*}: the SQS inbox consumers built by {@link OnceSqsConsumers}. Part of {@link
 * OnceProperties}.
 */
public class OnceSqsProperties {
  /** Whether the starter registers OnceSqsConsumers. */
  private boolean enabled = true;

  /**
   * How long an applied message id is remembered; longer than any redelivery or replay you expect.
   */
  private Duration retention = Duration.ofDays(7);

  /**
   * {@return the {@code once.sqs.enabled} property} Whether the starter registers OnceSqsConsumers.
   * Default {@code true}.
   */
  public boolean isEnabled() {
    return enabled;
  }

  /**
   * Sets the {@code once.sqs.enabled} property; see {@link #isEnabled()}.
   *
   * @param enabled the new value
   */
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /**
   * {@return the {@code once.sqs.retention} property} How long an applied message id is remembered;
   * longer than any redelivery or replay you expect. Default 7 days.
   */
  public Duration getRetention() {
    return retention;
  }

  /**
   * Sets the {@code once.sqs.retention} property; see {@link #getRetention()}.
   *
   * @param retention the new value, positive
   */
  public void setRetention(Duration retention) {
    this.retention = retention;
  }
}
