package dev.once.servlet;

import dev.once.IdempotencyStore;
import dev.once.servlet.internal.PathPattern;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One endpoint the {@link IdempotencyFilter} protects: an HTTP method and a path pattern, plus how
 * keys are treated there. Immutable; build one with {@link #builder(String, String)}.
 *
 * <pre>{@code
 * IdempotentRoute createOrder = IdempotentRoute.builder("POST", "/orders").build();
 * IdempotentRoute refund = IdempotentRoute.builder("POST", "/orders/{id}/refunds")
 *     .retention(Duration.ofDays(7))
 *     .lease(Duration.ofSeconds(30))
 *     .waitForInFlight(Duration.ofSeconds(2))
 *     .build();
 * }</pre>
 *
 * <p>The route's {@link #operation() operation}, {@code method + " " + pathPattern}, is the
 * operation of every key's {@link dev.once.Scope}: a key names one record per tenant and route. A
 * route protects only requests with its own method; every other method passes through the filter
 * untouched.
 *
 * <p>Path patterns are matched against the request's path inside the application (servlet path plus
 * path info, as the container decoded and normalised it) and consist of {@code /}-separated
 * segments: a literal segment matches itself, {@code {name}} or {@code *} matches exactly one
 * non-empty segment, and a final {@code **} matches any remainder, including none.
 */
public final class IdempotentRoute {

  private static final Pattern METHOD = Pattern.compile("[A-Z][A-Z0-9_-]*");

  private final String method;
  private final String pathPattern;
  private final boolean keyRequired;
  private final Duration retention;
  private final Duration lease;
  private final FingerprintMode fingerprint;
  private final boolean storeServerErrors;
  private final Duration waitForInFlight;
  private final @Nullable IdempotencyStore store;
  private final ExchangeBoundary boundary;
  private final boolean streaming;
  private final boolean allowAnonymous;

  private IdempotentRoute(Builder b) {
    this.method = b.method;
    this.pathPattern = b.pathPattern;
    this.keyRequired = b.keyRequired;
    this.retention = b.retention;
    this.lease = b.lease;
    this.fingerprint = b.fingerprint;
    this.storeServerErrors = b.storeServerErrors;
    this.waitForInFlight = b.waitForInFlight;
    this.store = b.store;
    this.boundary = b.boundary;
    this.streaming = b.streaming;
    this.allowAnonymous = b.allowAnonymous;
  }

  /**
   * Starts a route.
   *
   * @param method the HTTP method in upper case, such as {@code POST}
   * @param pathPattern a path starting with {@code /}, optionally with {@code {name}}, {@code *}
   *     and a final {@code **} segment
   * @return a new builder, with the defaults documented on its setters
   * @throws IllegalArgumentException if either is malformed; the message names the value
   */
  public static Builder builder(String method, String pathPattern) {
    return new Builder(method, pathPattern);
  }

  /** {@return a new builder holding this route's settings} */
  public Builder toBuilder() {
    Builder b = new Builder(method, pathPattern);
    b.keyRequired = keyRequired;
    b.retention = retention;
    b.lease = lease;
    b.fingerprint = fingerprint;
    b.storeServerErrors = storeServerErrors;
    b.waitForInFlight = waitForInFlight;
    b.store = store;
    b.boundary = boundary;
    b.streaming = streaming;
    b.allowAnonymous = allowAnonymous;
    return b;
  }

  /** {@return the HTTP method, in upper case} */
  public String method() {
    return method;
  }

  /** {@return the path pattern, as given to the builder} */
  public String pathPattern() {
    return pathPattern;
  }

  /**
   * {@return {@code method + " " + pathPattern}} It is the operation of every key's scope on this
   * route.
   */
  public String operation() {
    return method + " " + pathPattern;
  }

  /**
   * {@return whether a request without a key is refused with 400} See {@link Builder#keyRequired}.
   */
  public boolean keyRequired() {
    return keyRequired;
  }

  /** {@return how long a completed response is kept and replayed} See {@link Builder#retention}. */
  public Duration retention() {
    return retention;
  }

  /** {@return how long a request owns its key while the handler runs} See {@link Builder#lease}. */
  public Duration lease() {
    return lease;
  }

  /** {@return how the body enters the fingerprint} See {@link Builder#fingerprint}. */
  public FingerprintMode fingerprint() {
    return fingerprint;
  }

  /**
   * {@return whether 5xx responses are stored and replayed} See {@link Builder#storeServerErrors}.
   */
  public boolean storeServerErrors() {
    return storeServerErrors;
  }

  /**
   * {@return how long a request waits for an in-flight one with its key} Zero: it answers 409 at
   * once. See {@link Builder#waitForInFlight}.
   */
  public Duration waitForInFlight() {
    return waitForInFlight;
  }

  /** {@return the route's own store, or empty for the filter's default store} */
  public Optional<IdempotencyStore> store() {
    return Optional.ofNullable(store);
  }

  /** {@return the unit of work each exchange runs in} See {@link Builder#boundary}. */
  public ExchangeBoundary boundary() {
    return boundary;
  }

  /** {@return whether the route's responses cannot be replayed} See {@link Builder#streaming}. */
  public boolean streaming() {
    return streaming;
  }

  /**
   * {@return whether a request whose tenant is empty (no authenticated caller) may use a key here}
   * See {@link Builder#allowAnonymous}.
   */
  public boolean allowAnonymous() {
    return allowAnonymous;
  }

  @Override
  public String toString() {
    return "IdempotentRoute["
        + operation()
        + (keyRequired ? ", key required" : ", key optional")
        + (streaming ? ", streaming" : "")
        + (allowAnonymous ? "" : ", callers must be authenticated")
        + ", retention "
        + retention
        + ", lease "
        + lease
        + ", "
        + fingerprint
        + (storeServerErrors ? ", stores 5xx" : "")
        + (waitForInFlight.isZero() ? "" : ", waits " + waitForInFlight)
        + (store == null ? "" : ", store " + store.name())
        + "]";
  }

  /** Builds an {@link IdempotentRoute}; every setter rejects a bad value at once, naming it. */
  public static final class Builder {
    private final String method;
    private final String pathPattern;
    private boolean keyRequired = true;
    private Duration retention = Duration.ofHours(24);
    private Duration lease = Duration.ofSeconds(90);
    private FingerprintMode fingerprint = FingerprintMode.CANONICAL_JSON;
    private boolean storeServerErrors;
    private Duration waitForInFlight = Duration.ZERO;
    private @Nullable IdempotencyStore store;
    private ExchangeBoundary boundary = ExchangeBoundary.none();
    private boolean streaming;
    private boolean allowAnonymous = true;

    private Builder(String method, String pathPattern) {
      if (method == null || !METHOD.matcher(method).matches()) {
        throw new IllegalArgumentException(
            "method must be an upper-case HTTP method such as POST, but was "
                + (method == null ? "null" : "'" + method + "'"));
      }
      PathPattern.compile(pathPattern); // validates, naming the pattern
      if (method.length() + 1 + pathPattern.length() > dev.once.Scope.MAX_PART_LENGTH) {
        throw new IllegalArgumentException(
            "method and pathPattern together must have at most "
                + (dev.once.Scope.MAX_PART_LENGTH - 1)
                + " characters, but have "
                + (method.length() + pathPattern.length()));
      }
      this.method = method;
      this.pathPattern = pathPattern;
    }

    /**
     * Whether a request without an {@code Idempotency-Key} is refused with 400. When false, such a
     * request is processed normally, unprotected, every time. Default true.
     *
     * @param keyRequired whether to refuse requests without a key
     * @return this builder
     */
    public Builder keyRequired(boolean keyRequired) {
      this.keyRequired = keyRequired;
      return this;
    }

    /**
     * How long a completed response is kept and replayed, by the store's clock. Default 24 h.
     *
     * @param retention at least 1 ms
     * @return this builder
     * @throws IllegalArgumentException if it is shorter than 1 ms
     */
    public Builder retention(Duration retention) {
      this.retention = positive("retention", retention);
      return this;
    }

    /**
     * How long a request owns its key while the handler runs, before a retry may take the key over
     * and run the handler again. Choose it longer than the handler's worst case. Default 90 s.
     *
     * @param lease at least 1 ms
     * @return this builder
     * @throws IllegalArgumentException if it is shorter than 1 ms
     */
    public Builder lease(Duration lease) {
      this.lease = positive("lease", lease);
      return this;
    }

    /**
     * How the body enters the fingerprint. Default {@link FingerprintMode#CANONICAL_JSON}.
     *
     * @param fingerprint not {@code null}
     * @return this builder
     */
    public Builder fingerprint(FingerprintMode fingerprint) {
      this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
      return this;
    }

    /**
     * Whether 5xx responses are final. False (default): a 5xx response releases the key, so a retry
     * runs the handler again. True (Stripe's behaviour): a 5xx response is stored and replayed like
     * any other. An exception that escapes the handler is never a response, so it always releases
     * the key.
     *
     * @param storeServerErrors whether 5xx responses are final
     * @return this builder
     */
    public Builder storeServerErrors(boolean storeServerErrors) {
      this.storeServerErrors = storeServerErrors;
      return this;
    }

    /**
     * How long a request whose key is held by a request in flight waits for it, polling the store,
     * before it answers 409. Zero (default): 409 at once. When the first request completes within
     * the wait, the waiting one gets its response, replayed.
     *
     * @param maxWait zero or positive
     * @return this builder
     * @throws IllegalArgumentException if it is negative
     */
    public Builder waitForInFlight(Duration maxWait) {
      Objects.requireNonNull(maxWait, "waitForInFlight");
      if (maxWait.isNegative()) {
        throw new IllegalArgumentException(
            "waitForInFlight must not be negative, but was " + maxWait);
      }
      this.waitForInFlight = maxWait;
      return this;
    }

    /**
     * The store for this route. Default: the filter's default store.
     *
     * @param store the route's store, or {@code null} for the filter's default store
     * @return this builder
     */
    public Builder store(@Nullable IdempotencyStore store) {
      this.store = store;
      return this;
    }

    /**
     * The unit of work each exchange runs in, e.g. a database transaction that also holds the
     * handler's writes. Default {@link ExchangeBoundary#none()}.
     *
     * @param boundary not {@code null}
     * @return this builder
     */
    public Builder boundary(ExchangeBoundary boundary) {
      this.boundary = Objects.requireNonNull(boundary, "boundary");
      return this;
    }

    /**
     * Declares a route whose responses cannot be captured and replayed (server-sent events, long
     * downloads). A request to it that carries a key gets 400 ({@code key-not-supported}) before
     * the handler runs; a request without a key passes through. Cannot be combined with {@link
     * #keyRequired(boolean) keyRequired(true)}, so declaring a route streaming also makes its key
     * optional. Default false.
     *
     * @param streaming whether the route streams
     * @return this builder
     */
    public Builder streaming(boolean streaming) {
      this.streaming = streaming;
      if (streaming) {
        this.keyRequired = false;
      }
      return this;
    }

    /**
     * Whether a request with a key whose {@link TenantResolver tenant} is empty, i.e. that has no
     * authenticated caller, is served. All such requests share one key space per route: any of them
     * that knows a key and its request gets that key's stored response. When {@code false} such a
     * request is answered 403 ({@code authentication-required}) before anything is claimed or
     * stored. Default {@code true}.
     *
     * @param allowAnonymous whether to serve keyed requests without an authenticated caller
     * @return this builder
     */
    public Builder allowAnonymous(boolean allowAnonymous) {
      this.allowAnonymous = allowAnonymous;
      return this;
    }

    /**
     * Builds the route.
     *
     * @return the route; immutable
     * @throws IllegalStateException if the route is streaming and a key is required
     */
    public IdempotentRoute build() {
      if (streaming && keyRequired) {
        throw new IllegalStateException(
            "route "
                + method
                + " "
                + pathPattern
                + " is streaming, so it cannot require an Idempotency-Key: set keyRequired(false)");
      }
      return new IdempotentRoute(this);
    }

    private static Duration positive(String name, Duration value) {
      Objects.requireNonNull(value, name);
      if (value.isNegative() || value.toMillis() < 1) {
        throw new IllegalArgumentException(name + " must be at least 1 ms, but was " + value);
      }
      return value;
    }
  }
}
