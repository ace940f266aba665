package dev.once.spring.boot;

import java.time.Duration;

/**
 * {@code once.nats.*}: the NATS JetStream inbox consumers built by {@link OnceNatsConsumers}. Part
 * of {@link OnceProperties}.
 */
public class OnceNatsProperties {
  /** Whether the starter registers OnceNatsConsumers. */
  private boolean enabled = true;

  /**
   * How long an applied message id is remembered; longer than any redelivery or replay you expect.
   */
  private Duration retention = Duration.ofDays(7);

  /**
   * {@return the {@code once.nats.enabled} property} Whether the starter registers
   * OnceNatsConsumers. Default {@code true}.
   */
  public boolean isEnabled() {
    return enabled;
  }

  /**
   * Sets the {@code once.nats.enabled} property; see {@link #isEnabled()}.
   *
   * @param enabled the new value
   */
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /**
   * {@return the {@code once.nats.retention} property} How long an applied message id is
   * remembered; longer than any redelivery or replay you expect. Default 7 days.
   */
  public Duration getRetention() {
    return retention;
  }

  /**
   * Sets the {@code once.nats.retention} property; see {@link #getRetention()}.
   *
   * @param retention the new value, positive
   */
  public void setRetention(Duration retention) {
    this.retention = retention;
  }
}
