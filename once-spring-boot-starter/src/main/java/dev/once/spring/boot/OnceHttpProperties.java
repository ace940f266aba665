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

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public String getHeaderName() {
    return headerName;
  }

  public void setHeaderName(String headerName) {
    this.headerName = headerName;
  }

  public String getReplayedHeaderName() {
    return replayedHeaderName;
  }

  public void setReplayedHeaderName(String replayedHeaderName) {
    this.replayedHeaderName = replayedHeaderName;
  }

  public boolean isStrictKeySyntax() {
    return strictKeySyntax;
  }

  public void setStrictKeySyntax(boolean strictKeySyntax) {
    this.strictKeySyntax = strictKeySyntax;
  }

  public int getMismatchStatus() {
    return mismatchStatus;
  }

  public void setMismatchStatus(int mismatchStatus) {
    this.mismatchStatus = mismatchStatus;
  }

  public DataSize getMaxBodySize() {
    return maxBodySize;
  }

  public void setMaxBodySize(DataSize maxBodySize) {
    this.maxBodySize = maxBodySize;
  }

  public DataSize getMaxResponseSize() {
    return maxResponseSize;
  }

  public void setMaxResponseSize(DataSize maxResponseSize) {
    this.maxResponseSize = maxResponseSize;
  }

  public Duration getLease() {
    return lease;
  }

  public void setLease(Duration lease) {
    this.lease = lease;
  }

  public Duration getRetention() {
    return retention;
  }

  public void setRetention(Duration retention) {
    this.retention = retention;
  }

  public Duration getWaitForInFlight() {
    return waitForInFlight;
  }

  public void setWaitForInFlight(Duration waitForInFlight) {
    this.waitForInFlight = waitForInFlight;
  }

  public @Nullable Boolean getAtomic() {
    return atomic;
  }

  public void setAtomic(@Nullable Boolean atomic) {
    this.atomic = atomic;
  }

  public @Nullable Boolean getAllowAnonymous() {
    return allowAnonymous;
  }

  public void setAllowAnonymous(@Nullable Boolean allowAnonymous) {
    this.allowAnonymous = allowAnonymous;
  }

  public @Nullable String getProblemTypeBase() {
    return problemTypeBase;
  }

  public void setProblemTypeBase(@Nullable String problemTypeBase) {
    this.problemTypeBase = problemTypeBase;
  }

  public int getFilterOrder() {
    return filterOrder;
  }

  public void setFilterOrder(int filterOrder) {
    this.filterOrder = filterOrder;
  }

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

    public int getMinLength() {
      return minLength;
    }

    public void setMinLength(int minLength) {
      this.minLength = minLength;
    }

    public int getMaxLength() {
      return maxLength;
    }

    public void setMaxLength(int maxLength) {
      this.maxLength = maxLength;
    }

    public @Nullable String getPattern() {
      return pattern;
    }

    public void setPattern(@Nullable String pattern) {
      this.pattern = pattern;
    }

    public boolean isAllowNonAscii() {
      return allowNonAscii;
    }

    public void setAllowNonAscii(boolean allowNonAscii) {
      this.allowNonAscii = allowNonAscii;
    }
  }
}
