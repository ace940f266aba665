package dev.once.spring.boot;

import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.core.Ordered;
import org.springframework.util.unit.DataSize;

/**
 * {@code once.http.*}: the Idempotency-Key filter, and the defaults of its {@link Idempotent}
 * routes. Part of {@link OnceProperties}.
 */
public class OnceHttpProperties {
  /** Whether the Idempotency-Key filter is registered. */
  private boolean enabled = true;

  /** Request header carrying the key. */
  private String headerName = "Idempotency-Key";

  /** Response header set to "true" on a replayed response. */
  private String replayedHeaderName = "Idempotent-Replayed";

  /**
   * Accept only the draft's quoted sf-string form of the key; by default a bare token is accepted
   * too.
   */
  private boolean strictKeySyntax = false;

  /** Status of the answer to a key reused with another request: 422 (the draft) or 400 (Stripe). */
  private int mismatchStatus = 422;

  /**
   * Largest request body an idempotent route accepts (it is buffered to be fingerprinted); larger
   * gets 413.
   */
  private DataSize maxBodySize = DataSize.ofMegabytes(1);

  /**
   * Largest response that is captured and stored; a larger one goes straight to the client and
   * retries get 409 (response-not-replayable).
   */
  private DataSize maxResponseSize = DataSize.ofMegabytes(8);

  /** Default lease of an @Idempotent route: how long one execution owns its key. */
  private Duration lease = Duration.ofSeconds(90);

  /** Default retention of an @Idempotent route: how long a completed response is replayed. */
  private Duration retention = Duration.ofHours(24);

  /** Default time a request waits for an in-flight execution of its key before 409. */
  private Duration waitForInFlight = Duration.ZERO;

  /**
   * Atomic mode: run claim, handler and stored response in one Spring transaction on the JDBC
   * store's DataSource. Default: true when the store is JDBC and there is a
   * PlatformTransactionManager.
   */
  private @Nullable Boolean atomic;

  /**
   * Whether callers without an authenticated principal may use keys on every @Idempotent route
   * (they share one key space per route). Default: false when the application has Spring Security's
   * filter chain (such requests get 403 unless the route sets allowAnonymous), true otherwise (with
   * a start-up warning).
   */
  private @Nullable Boolean allowAnonymous;

  /**
   * Prefix of the "type" URI of the problem+json answers the filter writes. Default: the filter's
   * own.
   */
  private @Nullable String problemTypeBase;

  /** Order of the filter; the default runs it after Spring Security's filter chain (order -100). */
  private int filterOrder = Ordered.LOWEST_PRECEDENCE - 100;

  private final Key key = new Key();

  /**
   * {@return the {@code once.http.enabled} property} Whether the Idempotency-Key filter is
   * registered. Default {@code true}.
   */
  public boolean isEnabled() {
    return enabled;
  }

  /**
   * Sets the {@code once.http.enabled} property; see {@link #isEnabled()}.
   *
   * @param enabled the new value
   */
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /**
   * {@return the {@code once.http.header-name} property} Request header carrying the key. Default
   * {@code Idempotency-Key}.
   */
  public String getHeaderName() {
    return headerName;
  }

  /**
   * Sets the {@code once.http.header-name} property; see {@link #getHeaderName()}.
   *
   * @param headerName the new value
   */
  public void setHeaderName(String headerName) {
    this.headerName = headerName;
  }

  /**
   * {@return the {@code once.http.replayed-header-name} property} Response header set to "true" on
   * a replayed response. Default {@code Idempotent-Replayed}.
   */
  public String getReplayedHeaderName() {
    return replayedHeaderName;
  }

  /**
   * Sets the {@code once.http.replayed-header-name} property; see {@link #getReplayedHeaderName()}.
   *
   * @param replayedHeaderName the new value
   */
  public void setReplayedHeaderName(String replayedHeaderName) {
    this.replayedHeaderName = replayedHeaderName;
  }

  /**
   * {@return the {@code once.http.strict-key-syntax} property} Accept only the draft's quoted
   * sf-string form of the key; by default a bare token is accepted too.
   */
  public boolean isStrictKeySyntax() {
    return strictKeySyntax;
  }

  /**
   * Sets the {@code once.http.strict-key-syntax} property; see {@link #isStrictKeySyntax()}.
   *
   * @param strictKeySyntax the new value
   */
  public void setStrictKeySyntax(boolean strictKeySyntax) {
    this.strictKeySyntax = strictKeySyntax;
  }

  /**
   * {@return the {@code once.http.mismatch-status} property} Status of the answer to a key reused
   * with another request: 422 (the draft) or 400 (Stripe). Default {@code 422}.
   */
  public int getMismatchStatus() {
    return mismatchStatus;
  }

  /**
   * Sets the {@code once.http.mismatch-status} property; see {@link #getMismatchStatus()}.
   *
   * @param mismatchStatus the new value
   */
  public void setMismatchStatus(int mismatchStatus) {
    this.mismatchStatus = mismatchStatus;
  }

  /**
   * {@return the {@code once.http.max-body-size} property} Largest request body an idempotent route
   * accepts (it is buffered to be fingerprinted); larger gets 413. Default {@code 1MB}.
   */
  public DataSize getMaxBodySize() {
    return maxBodySize;
  }

  /**
   * Sets the {@code once.http.max-body-size} property; see {@link #getMaxBodySize()}.
   *
   * @param maxBodySize the new value
   */
  public void setMaxBodySize(DataSize maxBodySize) {
    this.maxBodySize = maxBodySize;
  }

  /**
   * {@return the {@code once.http.max-response-size} property} Largest response that is captured
   * and stored; a larger one goes straight to the client and retries get 409
   * (response-not-replayable). Default {@code 8MB}.
   */
  public DataSize getMaxResponseSize() {
    return maxResponseSize;
  }

  /**
   * Sets the {@code once.http.max-response-size} property; see {@link #getMaxResponseSize()}.
   *
   * @param maxResponseSize the new value
   */
  public void setMaxResponseSize(DataSize maxResponseSize) {
    this.maxResponseSize = maxResponseSize;
  }

  /**
   * {@return the {@code once.http.lease} property} Default lease of an {@code @Idempotent} route:
   * how long one execution owns its key. Default {@code 90s}.
   */
  public Duration getLease() {
    return lease;
  }

  /**
   * Sets the {@code once.http.lease} property; see {@link #getLease()}.
   *
   * @param lease the new value
   */
  public void setLease(Duration lease) {
    this.lease = lease;
  }

  /**
   * {@return the {@code once.http.retention} property} Default retention of an {@code @Idempotent}
   * route: how long a completed response is replayed. Default {@code 24h}.
   */
  public Duration getRetention() {
    return retention;
  }

  /**
   * Sets the {@code once.http.retention} property; see {@link #getRetention()}.
   *
   * @param retention the new value
   */
  public void setRetention(Duration retention) {
    this.retention = retention;
  }

  /**
   * {@return the {@code once.http.wait-for-in-flight} property} Default time a request waits for an
   * in-flight execution of its key before 409. Default {@code 0}.
   */
  public Duration getWaitForInFlight() {
    return waitForInFlight;
  }

  /**
   * Sets the {@code once.http.wait-for-in-flight} property; see {@link #getWaitForInFlight()}.
   *
   * @param waitForInFlight the new value
   */
  public void setWaitForInFlight(Duration waitForInFlight) {
    this.waitForInFlight = waitForInFlight;
  }

  /**
   * {@return the {@code once.http.atomic} property} Atomic mode: run claim, handler and stored
   * response in one Spring transaction on the JDBC store's DataSource. Default: true when the store
   * is JDBC and there is a PlatformTransactionManager.
   */
  public @Nullable Boolean getAtomic() {
    return atomic;
  }

  /**
   * Sets the {@code once.http.atomic} property; see {@link #getAtomic()}.
   *
   * @param atomic the new value
   */
  public void setAtomic(@Nullable Boolean atomic) {
    this.atomic = atomic;
  }

  /**
   * {@return the {@code once.http.allow-anonymous} property} Whether callers without an
   * authenticated principal may use keys on every {@code @Idempotent} route (they share one key
   * space per route). Default: false when the application has Spring Security's filter chain (such
   * requests get 403 unless the route sets allowAnonymous), true otherwise (with a start-up
   * warning).
   */
  public @Nullable Boolean getAllowAnonymous() {
    return allowAnonymous;
  }

  /**
   * Sets the {@code once.http.allow-anonymous} property; see {@link #getAllowAnonymous()}.
   *
   * @param allowAnonymous the new value
   */
  public void setAllowAnonymous(@Nullable Boolean allowAnonymous) {
    this.allowAnonymous = allowAnonymous;
  }

  /**
   * {@return the {@code once.http.problem-type-base} property} Prefix of the "type" URI of the
   * problem+json answers the filter writes. Default: the filter's own.
   */
  public @Nullable String getProblemTypeBase() {
    return problemTypeBase;
  }

  /**
   * Sets the {@code once.http.problem-type-base} property; see {@link #getProblemTypeBase()}.
   *
   * @param problemTypeBase the new value
   */
  public void setProblemTypeBase(@Nullable String problemTypeBase) {
    this.problemTypeBase = problemTypeBase;
  }

  /**
   * {@return the {@code once.http.filter-order} property} Order of the filter; the default runs it
   * after Spring Security's filter chain (order -100). Default {@code Ordered.LOWEST_PRECEDENCE -
   * 100}.
   */
  public int getFilterOrder() {
    return filterOrder;
  }

  /**
   * Sets the {@code once.http.filter-order} property; see {@link #getFilterOrder()}.
   *
   * @param filterOrder the new value
   */
  public void setFilterOrder(int filterOrder) {
    this.filterOrder = filterOrder;
  }

  /** {@return the {@code once.http.key.*} settings} */
  public Key getKey() {
    return key;
  }

  /** {@code once.http.key.*}: which key strings are accepted (else 400 before any store access). */
  public static class Key {
    /** Shortest accepted key, in characters. */
    private int minLength = 1;

    /** Longest accepted key, in characters (at most 4096). */
    private int maxLength = 255;

    /** A regular expression the whole key must match; none by default. */
    private @Nullable String pattern;

    /** Accept characters above U+007E (control characters never). */
    private boolean allowNonAscii = false;

    /**
     * {@return the {@code once.http.key.min-length} property} Shortest accepted key, in characters.
     * Default {@code 1}.
     */
    public int getMinLength() {
      return minLength;
    }

    /**
     * Sets the {@code once.http.key.min-length} property; see {@link #getMinLength()}.
     *
     * @param minLength the new value
     */
    public void setMinLength(int minLength) {
      this.minLength = minLength;
    }

    /**
     * {@return the {@code once.http.key.max-length} property} Longest accepted key, in characters
     * (at most 4096). Default {@code 255}.
     */
    public int getMaxLength() {
      return maxLength;
    }

    /**
     * Sets the {@code once.http.key.max-length} property; see {@link #getMaxLength()}.
     *
     * @param maxLength the new value
     */
    public void setMaxLength(int maxLength) {
      this.maxLength = maxLength;
    }

    /**
     * {@return the {@code once.http.key.pattern} property} A regular expression the whole key must
     * match; none by default.
     */
    public @Nullable String getPattern() {
      return pattern;
    }

    /**
     * Sets the {@code once.http.key.pattern} property; see {@link #getPattern()}.
     *
     * @param pattern the new value
     */
    public void setPattern(@Nullable String pattern) {
      this.pattern = pattern;
    }

    /**
     * {@return the {@code once.http.key.allow-non-ascii} property} Accept characters above U+007E
     * (control characters never). Default {@code false}.
     */
    public boolean isAllowNonAscii() {
      return allowNonAscii;
    }

    /**
     * Sets the {@code once.http.key.allow-non-ascii} property; see {@link #isAllowNonAscii()}.
     *
     * @param allowNonAscii the new value
     */
    public void setAllowNonAscii(boolean allowNonAscii) {
      this.allowNonAscii = allowNonAscii;
    }
  }
}
