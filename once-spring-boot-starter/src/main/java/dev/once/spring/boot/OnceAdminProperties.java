package dev.once.spring.boot;

/** {@code once.admin.*}: the {@code once} Actuator endpoint ({@link OnceEndpoint}). */
public class OnceAdminProperties {
  /** Whether the endpoint shows a key's stored body and attributes, not only its size. */
  private boolean showOutcomes;

  /**
   * {@return the {@code once.admin.show-outcomes} property} Whether the endpoint shows a key's
   * stored body and attributes, not only its content type and size. Default {@code false}: stored
   * responses may hold personal data.
   */
  public boolean isShowOutcomes() {
    return showOutcomes;
  }

  /**
   * Sets the {@code once.admin.show-outcomes} property; see {@link #isShowOutcomes()}.
   *
   * @param showOutcomes the new value
   */
  public void setShowOutcomes(boolean showOutcomes) {
    this.showOutcomes = showOutcomes;
  }
}
