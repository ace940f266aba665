package dev.once.servlet;

import dev.once.IdempotencyStore;
import dev.once.KeyPolicy;
import dev.once.OnceListener;
import dev.once.servlet.internal.FilterEngine;
import dev.once.servlet.internal.FilterSettings;
import dev.once.servlet.internal.KeyRateLimiter;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.security.Principal;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A servlet filter that makes retries of a request safe: the first request with an {@code
 * Idempotency-Key} runs the handler and its response is stored; a retry with the same key and the
 * same request gets that response again, byte for byte, marked {@code Idempotent-Replayed: true},
 * without running the handler. Immutable and thread-safe; build one with {@link
 * #builder(IdempotencyStore)}.
 *
 * <pre>{@code
 * IdempotencyFilter filter = IdempotencyFilter.builder(store)
 *     .routes(RouteResolver.of(
 *         IdempotentRoute.builder("POST", "/orders").build(),
 *         IdempotentRoute.builder("POST", "/payments").storeServerErrors(true).build()))
 *     .build();
 * servletContext.addFilter("idempotency", filter).addMappingForUrlPatterns(null, true, "/*");
 * }</pre>
 *
 * <h2>Where it goes</h2>
 *
 * After authentication, authorization, rate limiting and request-size limits, and before the
 * handler: the {@link TenantResolver} needs the principal, a request refused earlier (401, 403,
 * 429, 413) must never create a record, and a replay must be authorized again like any request.
 * Register it for the {@code REQUEST} dispatcher (other dispatches pass through), and as
 * async-supported if handlers start async processing.
 *
 * <h2>What a request gets</h2>
 *
 * A request is protected when the {@link RouteResolver} returns a route whose method is the
 * request's; every other request passes through untouched, even with a key. A resolver that throws
 * gets the request answered <b>500</b>, nothing run. For a protected request:
 *
 * <ol>
 *   <li>The key header is parsed: an RFC 9651 string ({@code "abc"}, escapes {@code \"} and {@code
 *       \\}) or, unless {@link Builder#strictKeySyntax strict}, a bare token of visible ASCII. Then
 *       the {@link KeyPolicy} checks it. Missing on a route that requires it, malformed, repeated,
 *       empty or refused: <b>400</b>. Missing on an optional route: processed normally,
 *       unprotected. Any key on a {@link IdempotentRoute.Builder#streaming streaming} route:
 *       <b>400</b>. A key on a {@code multipart/*} request: <b>415</b> (its parts could not be
 *       parsed once the body is read).
 *   <li>The body is read, at most {@link Builder#maxBodyBytes} bytes (else <b>413</b>), and
 *       fingerprinted with the method, the route, the path and the canonical query ({@link
 *       FingerprintMode}), as text in the charset its {@code Content-Type} declares. The handler
 *       reads the same bytes again through {@code getInputStream()}, {@code getReader()} or, for a
 *       form, the parameter methods.
 *   <li>The key is claimed in the store, in the scope (tenant, route operation):
 *       <ul>
 *         <li><em>new</em>: the handler runs with its response captured. A response below 500 (and
 *             a 5xx when {@link IdempotentRoute.Builder#storeServerErrors stored}) is stored with
 *             its replay-safe headers and sent. A 5xx response, a transient 408, 409, 425 or 429,
 *             or an exception releases the key, so a retry runs again.
 *         <li><em>completed</em>: the stored response is replayed.
 *         <li><em>in flight</em>: <b>409</b> with {@code Retry-After}, or a wait of up to {@link
 *             IdempotentRoute.Builder#waitForInFlight}.
 *         <li><em>used for another request</em>: {@link Builder#mismatchStatus} (<b>422</b>).
 *         <li><em>store failed</em>: <b>503</b>; the handler does not run.
 *       </ul>
 * </ol>
 *
 * Errors the filter produces are {@code application/problem+json} (RFC 9457) with a {@code type}
 * per kind under {@link Builder#problemTypeBase}, and are never stored. The raw key never appears
 * in a log line or a problem body.
 *
 * <p>A handler whose lease ran out while it ran and whose key another request took over cannot
 * store its result; its client gets the newer request's stored response (replayed) if there is one,
 * else 409 {@code lease-lost}. A response that cannot be captured (a {@code text/event-stream}, a
 * body beyond {@link Builder#maxResponseBytes}, async or non-blocking output) goes straight to the
 * client and a tombstone is stored: retries get 409 {@code response-not-replayable} and do not run
 * the handler again. On a route with an {@link ExchangeBoundary} nothing reaches the client before
 * the commit: an event stream is held, and any other such response is rolled back and answered
 * <b>500</b> {@code response-not-holdable}.
 */
public final class IdempotencyFilter implements Filter {

  /** Default name of the key header: {@value}. */
  public static final String DEFAULT_HEADER_NAME = "Idempotency-Key";

  /** Default name of the replay marker: {@value}. */
  public static final String DEFAULT_REPLAYED_HEADER_NAME = "Idempotent-Replayed";

  /** Default largest request body on a protected route: {@value} bytes (1 MiB). */
  public static final long DEFAULT_MAX_BODY_BYTES = 1L << 20;

  /** Default largest captured response body: {@value} bytes (8 MiB). */
  public static final long DEFAULT_MAX_RESPONSE_BYTES = 8L << 20;

  /** Default base of problem {@code type} URIs: {@value}. */
  public static final String DEFAULT_PROBLEM_TYPE_BASE = "https://once.dev/problems/";

  /** Default status for a key reused with another request: {@value} (Stripe answers 400). */
  public static final int DEFAULT_MISMATCH_STATUS = 422;

  /** Response headers that describe one exchange, so are never stored or replayed, by default. */
  public static final List<String> DEFAULT_PER_REQUEST_HEADERS =
      List.of(
          "X-Request-Id",
          "X-Correlation-Id",
          "Request-Id",
          "Traceparent",
          "Tracestate",
          "Traceresponse",
          "Server-Timing");

  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
  private static final int MAX_BUFFER = Integer.MAX_VALUE - 16;

  private final FilterSettings settings;
  private final FilterEngine engine;

  private IdempotencyFilter(FilterSettings settings) {
    this.settings = settings;
    this.engine = new FilterEngine(settings);
  }

  /**
   * Starts a filter whose routes use {@code defaultStore} unless they name their own.
   *
   * @param defaultStore the store of every route that names none
   * @return a new builder
   * @throws NullPointerException if {@code defaultStore} is null
   */
  public static Builder builder(IdempotencyStore defaultStore) {
    return new Builder(defaultStore);
  }

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    if (request instanceof HttpServletRequest req && response instanceof HttpServletResponse res) {
      engine.doFilter(req, res, chain);
    } else {
      chain.doFilter(request, response);
    }
  }

  @Override
  public String toString() {
    return "IdempotencyFilter["
        + settings.routes()
        + ", store "
        + settings.defaultStore().name()
        + ", header "
        + settings.headerName()
        + "]";
  }

  /** Builds an {@link IdempotencyFilter}; every setter rejects a bad value at once, naming it. */
  public static final class Builder {
    private final IdempotencyStore defaultStore;
    private @Nullable RouteResolver routes;
    private TenantResolver tenantResolver = Builder::principalName;
    private String headerName = DEFAULT_HEADER_NAME;
    private String replayedHeaderName = DEFAULT_REPLAYED_HEADER_NAME;
    private boolean strictKeySyntax;
    private KeyPolicy keyPolicy = KeyPolicy.defaults();
    private int mismatchStatus = DEFAULT_MISMATCH_STATUS;
    private long maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
    private long maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES;
    private OnceListener listener = OnceListener.NOOP;
    private String problemTypeBase = DEFAULT_PROBLEM_TYPE_BASE;
    private List<String> perRequestHeaders = DEFAULT_PER_REQUEST_HEADERS;
    private @Nullable KeyRateLimiter keyRateLimiter;

    private Builder(IdempotencyStore defaultStore) {
      this.defaultStore = Objects.requireNonNull(defaultStore, "defaultStore");
    }

    private static String principalName(HttpServletRequest request) {
      Principal p = request.getUserPrincipal();
      return p == null || p.getName() == null ? "" : p.getName();
    }

    /**
     * Which requests are protected, and how. Required.
     *
     * @param routes not {@code null}
     * @return this builder
     */
    public Builder routes(RouteResolver routes) {
      this.routes = Objects.requireNonNull(routes, "routes");
      return this;
    }

    /**
     * The tenant of a request: keys of different tenants never meet. Default: the name of {@code
     * request.getUserPrincipal()}, or {@code ""} (one shared key space) when there is none.
     *
     * @param tenantResolver not {@code null}
     * @return this builder
     */
    public Builder tenantResolver(TenantResolver tenantResolver) {
      this.tenantResolver = Objects.requireNonNull(tenantResolver, "tenantResolver");
      return this;
    }

    /**
     * The request header carrying the key. Default {@value #DEFAULT_HEADER_NAME}.
     *
     * @param headerName an HTTP header name
     * @return this builder
     * @throws IllegalArgumentException if it is not a header name
     */
    public Builder headerName(String headerName) {
      this.headerName = token("headerName", headerName);
      return this;
    }

    /**
     * The response header set to {@code true} on replays. Default {@value
     * #DEFAULT_REPLAYED_HEADER_NAME}.
     *
     * @param replayedHeaderName an HTTP header name
     * @return this builder
     * @throws IllegalArgumentException if it is not a header name
     */
    public Builder replayedHeaderName(String replayedHeaderName) {
      this.replayedHeaderName = token("replayedHeaderName", replayedHeaderName);
      return this;
    }

    /**
     * Whether only the draft's quoted RFC 9651 string is accepted. Default false: a bare token of
     * visible ASCII ({@code 8e03978e-40d5}, as Stripe's clients send) is accepted too.
     *
     * @param strictKeySyntax whether to accept the quoted form only
     * @return this builder
     */
    public Builder strictKeySyntax(boolean strictKeySyntax) {
      this.strictKeySyntax = strictKeySyntax;
      return this;
    }

    /**
     * Which keys are accepted (length, characters, pattern). Default {@link KeyPolicy#defaults()}:
     * 1-255 ASCII.
     *
     * @param keyPolicy not {@code null}
     * @return this builder
     */
    public Builder keyPolicy(KeyPolicy keyPolicy) {
      this.keyPolicy = Objects.requireNonNull(keyPolicy, "keyPolicy");
      return this;
    }

    /**
     * The status for a key reused with a different request: 400 to 499. Default 422; Stripe uses
     * 400.
     *
     * @param mismatchStatus 400 to 499
     * @return this builder
     * @throws IllegalArgumentException if it is not a 4xx status
     */
    public Builder mismatchStatus(int mismatchStatus) {
      if (mismatchStatus < 400 || mismatchStatus > 499) {
        throw new IllegalArgumentException(
            "mismatchStatus must be a 4xx status, but was " + mismatchStatus);
      }
      this.mismatchStatus = mismatchStatus;
      return this;
    }

    /**
     * The largest request body on a protected route, in bytes; a larger one gets 413 before
     * anything is claimed. The body is held in memory to fingerprint it and hand it to the handler.
     * Default 1 MiB.
     *
     * @param maxBodyBytes 1 to {@code Integer.MAX_VALUE - 16}
     * @return this builder
     * @throws IllegalArgumentException if it is out of that range
     */
    public Builder maxBodyBytes(long maxBodyBytes) {
      this.maxBodyBytes = size("maxBodyBytes", maxBodyBytes);
      return this;
    }

    /**
     * The largest response body captured for replay, in bytes. A larger response goes straight to
     * the client as it is written and is not replayable (a tombstone is stored); on a route with an
     * {@link ExchangeBoundary} it is rolled back and answered 500 instead. Default 8 MiB.
     *
     * @param maxResponseBytes 1 to {@code Integer.MAX_VALUE - 16}
     * @return this builder
     * @throws IllegalArgumentException if it is out of that range
     */
    public Builder maxResponseBytes(long maxResponseBytes) {
      this.maxResponseBytes = size("maxResponseBytes", maxResponseBytes);
      return this;
    }

    /**
     * Hears claims, completions, releases, lost leases and store failures. Default {@link
     * OnceListener#NOOP}.
     *
     * @param listener not {@code null}
     * @return this builder
     */
    public Builder listener(OnceListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * The absolute URI that each problem's {@code type} extends with its kind, such as {@code
     * key-missing}; ends with {@code /}, {@code #} or {@code :}. Default {@value
     * #DEFAULT_PROBLEM_TYPE_BASE}.
     *
     * @param problemTypeBase an absolute URI ending with {@code /}, {@code #} or {@code :}
     * @return this builder
     * @throws IllegalArgumentException if it is not such a URI
     */
    public Builder problemTypeBase(String problemTypeBase) {
      Objects.requireNonNull(problemTypeBase, "problemTypeBase");
      boolean ok;
      try {
        ok = URI.create(problemTypeBase + "key-missing").isAbsolute();
      } catch (IllegalArgumentException e) {
        ok = false;
      }
      if (!ok
          || problemTypeBase.isEmpty()
          || "/#:".indexOf(problemTypeBase.charAt(problemTypeBase.length() - 1)) < 0) {
        throw new IllegalArgumentException(
            "problemTypeBase must be an absolute URI ending with '/', '#' or ':',"
                + " such as https://example.com/problems/, but was '"
                + problemTypeBase
                + "'");
      }
      this.problemTypeBase = problemTypeBase;
      return this;
    }

    /**
     * Response headers that describe one exchange (request ids, trace context), which are never
     * stored, so a replay carries the ones its own exchange produces. Replaces the default, {@link
     * #DEFAULT_PER_REQUEST_HEADERS}. Credentials, cookies, hop-by-hop headers and {@code Date} are
     * never stored whatever this says.
     *
     * @param names HTTP header names
     * @return this builder
     * @throws IllegalArgumentException if a name is not a header name
     */
    public Builder perRequestHeaders(Collection<String> names) {
      Objects.requireNonNull(names, "perRequestHeaders");
      for (String name : names) {
        token("perRequestHeaders entry", name);
      }
      this.perRequestHeaders = List.copyOf(names);
      return this;
    }

    /**
     * Bounds key flooding (checklist I49): at most {@code maxKeyedRequests} keyed requests per
     * tenant in each {@code window}, counted in this JVM before the claim. Request {@code
     * maxKeyedRequests + 1} gets 429 {@code too-many-keys} with {@code Retry-After} and creates no
     * record. Replays count too: the limit guards the store, whatever the key. Each instance counts
     * for itself; put a shared rate limiter in front for a cluster-wide bound. Default: no limit.
     *
     * @param maxKeyedRequests positive
     * @param window positive
     * @return this builder
     * @throws IllegalArgumentException if either is not positive
     */
    public Builder keyRateLimit(int maxKeyedRequests, java.time.Duration window) {
      if (maxKeyedRequests < 1) {
        throw new IllegalArgumentException(
            "maxKeyedRequests must be positive, but was " + maxKeyedRequests);
      }
      if (window == null || window.isNegative() || window.isZero()) {
        throw new IllegalArgumentException("window must be positive, but was " + window);
      }
      this.keyRateLimiter = new KeyRateLimiter(maxKeyedRequests, window, System::nanoTime);
      return this;
    }

    /**
     * Builds the filter.
     *
     * @return the filter; thread-safe
     * @throws IllegalStateException if no routes were set, or the two header names are the same
     */
    public IdempotencyFilter build() {
      if (routes == null) {
        throw new IllegalStateException(
            "routes(...) is required: say which endpoints are idempotent");
      }
      if (headerName.equalsIgnoreCase(replayedHeaderName)) {
        throw new IllegalStateException(
            "headerName and replayedHeaderName must differ, but both are " + headerName);
      }
      return new IdempotencyFilter(
          new FilterSettings(
              defaultStore,
              routes,
              tenantResolver,
              headerName,
              replayedHeaderName,
              strictKeySyntax,
              keyPolicy,
              mismatchStatus,
              maxBodyBytes,
              maxResponseBytes,
              listener,
              problemTypeBase,
              perRequestHeaders,
              keyRateLimiter));
    }

    private static String token(String name, String value) {
      if (value == null || !TOKEN.matcher(value).matches()) {
        throw new IllegalArgumentException(
            name
                + " must be an HTTP header name, but was "
                + (value == null ? "null" : "'" + value + "'"));
      }
      return value;
    }

    private static long size(String name, long value) {
      if (value < 1 || value > MAX_BUFFER) {
        throw new IllegalArgumentException(
            name + " must be between 1 and " + MAX_BUFFER + " bytes, but was " + value);
      }
      return value;
    }
  }
}
