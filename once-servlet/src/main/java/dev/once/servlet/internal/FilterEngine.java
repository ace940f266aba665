package dev.once.servlet.internal;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.InvalidKeyException;
import dev.once.LeaseLostException;
import dev.once.OnceEngine;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.StoreException;
import dev.once.servlet.ExchangeBoundary;
import dev.once.servlet.IdempotentRoute;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.Collections;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * What {@link dev.once.servlet.IdempotencyFilter} does with each request. Immutable and
 * thread-safe.
 */
public final class FilterEngine {

  static final String LOGGER_NAME = "dev.once.servlet.IdempotencyFilter";
  private static final System.Logger LOG = System.getLogger(LOGGER_NAME);
  private static final String FILTERED = FilterEngine.class.getName() + ".FILTERED";
  private static final long MAX_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final FilterSettings s;
  private final HeaderPolicy headerPolicy;
  private final OnceEngine engine;

  public FilterEngine(FilterSettings settings) {
    this.s = settings;
    this.headerPolicy =
        new HeaderPolicy(
            settings.perRequestHeaders(), settings.headerName(), settings.replayedHeaderName());
    this.engine = OnceEngine.of(settings.listener());
  }

  public void doFilter(HttpServletRequest req, HttpServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    if (req.getDispatcherType() != DispatcherType.REQUEST || req.getAttribute(FILTERED) != null) {
      chain.doFilter(req, res);
      return;
    }
    Optional<IdempotentRoute> resolved;
    try {
      resolved = s.routes().resolve(req);
    } catch (RuntimeException e) {
      // Fail closed: this request may be one that must not run twice, and nothing can protect it
      // now.
      LOG.log(
          System.Logger.Level.ERROR,
          "the RouteResolver "
              + s.routes()
              + " failed for "
              + req.getMethod()
              + " "
              + req.getRequestURI()
              + "; answered 500 without running the request",
          e);
      problem(
          req,
          res,
          Problem.of(
              Problem.Kind.ROUTE_UNRESOLVED,
              "The server could not tell whether this request"
                  + " must be protected against running twice, so it was not processed; retry later."));
      return;
    }
    if (resolved.isEmpty() || !resolved.get().method().equals(req.getMethod())) {
      chain.doFilter(req, res);
      return;
    }
    req.setAttribute(FILTERED, Boolean.TRUE);
    IdempotentRoute route = resolved.get();

    KeyHeaderParser.Result header =
        KeyHeaderParser.parse(
            Collections.list(req.getHeaders(s.headerName())), s.headerName(), s.strictKeySyntax());
    if (header instanceof KeyHeaderParser.Absent) {
      if (route.keyRequired()) {
        problem(
            req,
            res,
            Problem.of(
                Problem.Kind.KEY_MISSING,
                "This endpoint requires an "
                    + s.headerName()
                    + " header: send a new unique key with each request and the same key with its retries."));
      } else {
        chain.doFilter(req, res);
      }
      return;
    }
    if (header instanceof KeyHeaderParser.Invalid invalid) {
      problem(req, res, Problem.of(Problem.Kind.KEY_INVALID, invalid.detail()));
      return;
    }
    if (MediaTypes.isMultipart(req.getContentType())) {
      // The container parses parts from its own input stream, which the fingerprint must consume
      // first: a
      // handler would see no parts. Refused before the claim, so nothing is stored and the key
      // stays new.
      problem(
          req,
          res,
          Problem.of(
              Problem.Kind.MEDIA_TYPE_NOT_SUPPORTED,
              "This endpoint does not accept"
                  + " multipart bodies with an "
                  + s.headerName()
                  + " header; send the content in another media type"
                  + " (such as JSON), or upload it to an endpoint that is not idempotent and refer to it here."));
      return;
    }
    if (route.streaming()) {
      problem(
          req,
          res,
          Problem.of(
              Problem.Kind.KEY_NOT_SUPPORTED,
              "This endpoint streams its response, so a"
                  + " retry cannot be answered with it; send the request without an "
                  + s.headerName()
                  + " header."));
      return;
    }
    Scope scope = scope(req, route);
    if (scope.tenant().isEmpty() && !route.allowAnonymous()) {
      // Anonymous callers would share one key space: one could read another's response or burn its
      // key.
      problem(
          req,
          res,
          Problem.of(
              Problem.Kind.AUTHENTICATION_REQUIRED,
              "Keys on this endpoint belong to an"
                  + " authenticated caller, and this request has none; send it authenticated. Nothing was processed or"
                  + " stored."));
      return;
    }
    IdempotencyKey key;
    try {
      key = s.keyPolicy().key(scope, ((KeyHeaderParser.Valid) header).key());
    } catch (InvalidKeyException e) {
      problem(req, res, Problem.of(Problem.Kind.KEY_INVALID, detail(e.reason())));
      return;
    }

    long declared = req.getContentLengthLong();
    byte[] body =
        declared > s.maxBodyBytes()
            ? null
            : CachedBodyRequest.readBody(req.getInputStream(), declared, s.maxBodyBytes());
    if (body == null) {
      problem(
          req,
          res,
          Problem.of(
              Problem.Kind.REQUEST_TOO_LARGE,
              "An idempotent request body may have at most "
                  + s.maxBodyBytes()
                  + " bytes, so that it can be fingerprinted; nothing was processed."));
      return;
    }
    boolean form = MediaTypes.isForm(req.getContentType());
    boolean formReadUpstream = form && body.length == 0 && declared > 0;
    CachedBodyRequest wrapped =
        new CachedBodyRequest(
            req, body, form && !formReadUpstream && "POST".equals(req.getMethod()));
    Fingerprint fingerprint =
        RequestFingerprinter.fingerprint(
            new RequestFingerprinter.Parts(
                req.getMethod(),
                route.operation(),
                RouteTable.pathWithinApplication(req),
                req.getQueryString(),
                req.getContentType(),
                body,
                formReadUpstream ? FormData.fromMap(req.getParameterMap()) : null),
            route.fingerprint());

    if (s.keyRateLimiter() != null) {
      java.time.Duration wait = s.keyRateLimiter().acquire(key.scope().tenant());
      if (wait != null) {
        problem(
            req,
            res,
            new Problem(
                Problem.Kind.TOO_MANY_KEYS,
                Problem.Kind.TOO_MANY_KEYS.status(),
                "This caller sent more idempotent requests than allowed in the current window; nothing was processed"
                    + " or stored. Retry later.",
                wait));
        return;
      }
    }
    new Exchange(
            route,
            key,
            new ClaimRequest(key, fingerprint, route.lease(), route.retention()),
            wrapped,
            res,
            chain)
        .run();
  }

  private Scope scope(HttpServletRequest req, IdempotentRoute route) throws ServletException {
    String tenant = s.tenantResolver().tenant(req);
    if (tenant == null) {
      throw new ServletException(
          "the TenantResolver "
              + s.tenantResolver()
              + " returned null for "
              + req.getMethod()
              + " "
              + req.getRequestURI()
              + "; return \"\" for \"no tenant\"");
    }
    try {
      return Scope.of(tenant, route.operation());
    } catch (InvalidKeyException e) {
      throw new ServletException(
          "the TenantResolver returned an unusable tenant for "
              + route.operation()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private String detail(InvalidKeyException.Reason reason) {
    String h = "The " + s.headerName();
    switch (reason) {
      case EMPTY:
        return h + " is empty; send a non-empty key.";
      case TOO_LONG:
        return h + " is longer than " + s.keyPolicy().maxLength() + " characters.";
      case TOO_SHORT:
        return h + " is shorter than " + s.keyPolicy().minLength() + " characters.";
      case CONTROL_CHARACTER:
        return h + " contains a control character.";
      case NON_ASCII:
      case MALFORMED_UNICODE:
        return h + " contains a character that is not ASCII.";
      case PATTERN_MISMATCH:
        return h + " does not have the format this service requires.";
      default:
        return h + " is missing.";
    }
  }

  private void problem(HttpServletRequest req, HttpServletResponse res, Problem problem)
      throws IOException {
    problem.write(res, s.problemTypeBase(), req.getRequestURI());
  }

  // ------------------------------------------------------------------------------------------------ one exchange

  /** What the client gets. */
  private sealed interface Reply {}

  private record Fresh(CapturingResponse.Captured captured) implements Reply {}

  private record Replay(StoredResponse stored) implements Reply {}

  private record Failure(Problem problem) implements Reply {}

  private record Busy(Duration retryAfter) implements Reply {}

  private record AlreadySent() implements Reply {}

  /**
   * Thrown through the boundary to roll it back; caught by {@link Exchange#run()}, never escapes
   * the filter.
   */
  private abstract static class Signal extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Signal(@Nullable Throwable cause) {
      super(null, cause, false, false);
    }
  }

  /** The handler threw: the key was released; rethrow the cause. */
  private static final class HandlerFailed extends Signal {
    private static final long serialVersionUID = 1L;

    HandlerFailed(Throwable cause) {
      super(cause);
    }
  }

  /**
   * The handler answered with a response that is not stored (5xx, a transient 4xx): the key was
   * released.
   */
  private static final class Unstored extends Signal {
    private static final long serialVersionUID = 1L;
    private final transient Reply reply;

    Unstored(Reply reply) {
      super(null);
      this.reply = reply;
    }
  }

  /** The handler's result could not be stored: another request took the key over. */
  private static final class LeaseLost extends Signal {
    private static final long serialVersionUID = 1L;
    private final transient CapturingResponse.Captured captured;

    LeaseLost(CapturingResponse.Captured captured, LeaseLostException cause) {
      super(cause);
      this.captured = captured;
    }
  }

  private final class Exchange {
    private final IdempotentRoute route;
    private final IdempotencyKey key;
    private final ClaimRequest claim;
    private final CachedBodyRequest request;
    private final HttpServletResponse response;
    private final FilterChain chain;
    private final IdempotencyStore routeStore;
    private final ExchangeBoundary boundary;
    private final boolean leaseMode;

    Exchange(
        IdempotentRoute route,
        IdempotencyKey key,
        ClaimRequest claim,
        CachedBodyRequest request,
        HttpServletResponse response,
        FilterChain chain) {
      this.route = route;
      this.key = key;
      this.claim = claim;
      this.request = request;
      this.response = response;
      this.chain = chain;
      this.routeStore = route.store().orElse(s.defaultStore());
      this.boundary = route.boundary();
      this.leaseMode = boundary == NoBoundary.INSTANCE;
    }

    void run() throws IOException, ServletException {
      long deadline = System.nanoTime() + route.waitForInFlight().toNanos();
      while (true) {
        Reply reply = attempt();
        if (reply instanceof Busy busy) {
          long left = deadline - System.nanoTime();
          if (left > 0 && !Thread.currentThread().isInterrupted()) {
            // Poll: stores share no notification channel, and waiting is opt-in and short.
            LockSupport.parkNanos(
                Math.min(left, Math.min(busy.retryAfter().toNanos(), MAX_POLL_NANOS)));
            continue;
          }
          reply =
              new Failure(
                  new Problem(
                      Problem.Kind.IN_PROGRESS,
                      Problem.Kind.IN_PROGRESS.status(),
                      "A request with this key is still being processed; retry after it has finished to get its response.",
                      busy.retryAfter()));
        }
        write(reply);
        return;
      }
    }

    private Reply attempt() throws IOException, ServletException {
      try {
        return boundary.run(routeStore, this::exchange);
      } catch (StoreException e) {
        // The claim failed before the handler ran, or (atomic mode) the completion or commit failed
        // and the
        // unit of work rolled back: either way nothing happened under protection.
        return unavailable();
      } catch (RuntimeException | IOException | ServletException e) {
        Signal signal = signal(e);
        if (signal == null) {
          throw e;
        }
        if (signal instanceof HandlerFailed failed) {
          throw rethrow(failed.getCause());
        }
        if (signal instanceof Unstored unstored) {
          return unstored.reply;
        }
        return afterLeaseLost(((LeaseLost) signal).captured);
      }
    }

    /** Runs inside the boundary. */
    private Reply exchange(IdempotencyStore store) throws IOException, ServletException {
      ClaimResult result = claim(store, claim);
      switch (result.status()) {
        case COMPLETED:
          return replay(((ClaimResult.Completed) result).outcome());
        case MISMATCH:
          return mismatch();
        case IN_PROGRESS:
          return new Busy(((ClaimResult.InProgress) result).retryAfter());
        default:
          return execute(store, ((ClaimResult.Acquired) result).token());
      }
    }

    private ClaimResult claim(IdempotencyStore store, ClaimRequest request) {
      try {
        return engine.claim(store, request);
      } catch (StoreException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            "claim of {0} failed; answering 503: {1}",
            key,
            e.getMessage());
        throw e;
      }
    }

    private Reply execute(IdempotencyStore store, long token) throws IOException {
      // In lease mode the lease is renewed while the handler runs; in atomic mode the open
      // transaction holds the key.
      OnceEngine.Held held = engine.hold(store, key, token, route.lease());
      try {
        return execute(held);
      } finally {
        held.stop();
      }
    }

    private Reply execute(OnceEngine.Held held) throws IOException {
      // With a boundary nothing may reach the client before the commit, so nothing passes through.
      CapturingResponse capture = new CapturingResponse(response, s.maxResponseBytes(), leaseMode);
      try {
        chain.doFilter(request, capture);
        capture.finish();
      } catch (Throwable t) {
        release(held, t);
        throw new HandlerFailed(t);
      }
      if (request.isAsyncStarted()) {
        String async = "the handler started asynchronous processing";
        if (leaseMode) {
          capture.startPassThrough(async);
        } else {
          capture.abandon(async);
        }
      }
      String unholdable = capture.unholdable();
      if (unholdable != null) {
        LOG.log(
            System.Logger.Level.WARNING,
            "{0} runs in a transaction, so its response must be held until the"
                + " commit, but {1}: rolled back and answered 500. Raise the response size limit, or run the route in"
                + " lease mode",
            route,
            unholdable);
        release(held, new IllegalStateException("the response could not be held: " + unholdable));
        throw new Unstored(
            new Failure(
                Problem.of(
                    Problem.Kind.RESPONSE_NOT_HOLDABLE,
                    "This endpoint's response"
                        + " could not be held until its transaction committed, so its work was rolled back and nothing was"
                        + " stored; a retry runs it again.")));
      }
      String streamed = capture.passThrough();
      if (streamed != null) {
        return tombstone(held, capture.getStatus(), streamed);
      }
      CapturingResponse.Captured captured = capture.captured();
      if (isTransient(captured.status())
          || (captured.status() >= 500 && !route.storeServerErrors())) {
        release(held, new ServerErrorResponse(captured.status()));
        throw new Unstored(new Fresh(captured));
      }
      try {
        Outcome outcome = StoredResponse.toOutcome(captured, headerPolicy);
        if (captured.status() >= 500) {
          held.completeFailure(
              outcome, route.retention(), new ServerErrorResponse(captured.status()));
        } else {
          held.complete(outcome, route.retention());
        }
      } catch (LeaseLostException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            "the response for {0} was not stored: its lease was taken over"
                + " (fencing token {1} is stale)",
            key,
            held.token());
        throw new LeaseLost(captured, e);
      } catch (StoreException e) {
        if (!leaseMode) {
          throw e; // the boundary rolls the handler's work back; the client gets 503
        }
        LOG.log(
            System.Logger.Level.WARNING,
            "the response for {0} could not be stored, so it is sent but not"
                + " replayable; the key stays in progress until its lease ends: {1}",
            key,
            e.getMessage());
      }
      return new Fresh(captured);
    }

    /**
     * The response went to the client while it was written: store a tombstone so the key is not run
     * again.
     */
    private Reply tombstone(OnceEngine.Held held, int status, String why) {
      try {
        held.complete(StoredResponse.tombstone(status), route.retention());
        LOG.log(
            System.Logger.Level.DEBUG,
            "the response for {0} was streamed ({1}); stored a tombstone",
            key,
            why);
      } catch (LeaseLostException e) {
        // reported by the engine; the response is already on its way
      } catch (StoreException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            "the tombstone for {0} could not be stored; the key stays in"
                + " progress until its lease ends: {1}",
            key,
            e.getMessage());
        if (!leaseMode) {
          throw e;
        }
      }
      return new AlreadySent();
    }

    private void release(OnceEngine.Held held, Throwable cause) {
      RuntimeException unreleased = held.fail(cause, null, route.retention());
      if (unreleased instanceof StoreException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            "could not release {0}; it stays in progress until its lease ends: {1}",
            key,
            e.getMessage());
      }
    }

    /**
     * The handler ran, but a newer owner took the key over before its result was stored. Answer
     * with the newer owner's response when there is one; otherwise 409.
     */
    private Reply afterLeaseLost(CapturingResponse.Captured ours) throws IOException {
      ClaimResult again;
      try {
        again = claim(routeStore, claim);
      } catch (StoreException e) {
        return unavailable();
      }
      switch (again.status()) {
        case COMPLETED:
          return replay(((ClaimResult.Completed) again).outcome());
        case IN_PROGRESS:
          return leaseLost(
              "another request with this key took it over while this one ran, and is still"
                  + " running; retry to get its response.",
              ((ClaimResult.InProgress) again).retryAfter());
        case MISMATCH:
          return leaseLost(
              "another request took this key over while this one ran, and the key now belongs to a"
                  + " different request.",
              null);
        default:
          long token = ((ClaimResult.Acquired) again).token();
          if (leaseMode) {
            // Nobody holds the key now, and this request's effects happened: store its response
            // after all.
            try {
              engine
                  .settle(routeStore, key, token)
                  .complete(StoredResponse.toOutcome(ours, headerPolicy), route.retention());
              return new Fresh(ours);
            } catch (LeaseLostException | StoreException e) {
              return leaseLost(
                  "this request's lease expired before its response could be stored.", null);
            }
          }
          release(engine.settle(routeStore, key, token), new IllegalStateException("lease lost"));
          return leaseLost(
              "this request's lease expired before it finished, so its work was rolled back; retry.",
              null);
      }
    }

    private Reply replay(Outcome outcome) throws IOException {
      StoredResponse stored;
      try {
        stored = StoredResponse.fromOutcome(outcome);
      } catch (IllegalArgumentException e) {
        throw new IOException(
            "the record for " + key + " does not hold an HTTP response: " + e.getMessage(), e);
      }
      if (stored.kind() == StoredResponse.Kind.TOMBSTONE) {
        return new Failure(
            Problem.of(
                Problem.Kind.NOT_REPLAYABLE,
                "The first request with this key was answered"
                    + " while its response was being written (it was streamed), so it cannot be replayed and is not run"
                    + " again; use a new key for a new request."));
      }
      return new Replay(stored);
    }

    private Reply mismatch() {
      return new Failure(
          new Problem(
              Problem.Kind.KEY_REUSED,
              s.mismatchStatus(),
              "This "
                  + s.headerName()
                  + " was already used for a different request (another method, path, query or body); use a new key"
                  + " for a new request.",
              null));
    }

    private Reply leaseLost(String detail, @Nullable Duration retryAfter) {
      return new Failure(
          new Problem(
              Problem.Kind.LEASE_LOST,
              Problem.Kind.LEASE_LOST.status(),
              "This request was processed, but " + detail,
              retryAfter));
    }

    private Reply unavailable() {
      return new Failure(
          Problem.of(
              Problem.Kind.STORE_UNAVAILABLE,
              "The idempotency store cannot be reached, so"
                  + " the request was not processed; retry later with the same key."));
    }

    private void write(Reply reply) throws IOException {
      if (reply instanceof Fresh fresh) {
        ResponseWriter.writeFresh(response, fresh.captured());
      } else if (reply instanceof Replay replay) {
        ResponseWriter.writeReplay(response, replay.stored(), s.replayedHeaderName());
      } else if (reply instanceof Failure failure) {
        problem(request, response, failure.problem());
        if (request.isAsyncStarted()) {
          request.getAsyncContext().complete(); // the handler's asynchronous answer was abandoned
        }
      }
    }
  }

  /**
   * A 4xx that tells the client "not now" rather than "no": 408 Request Timeout, 409 Conflict, 425
   * Too Early and 429 Too Many Requests. Storing one would answer every retry with it until the
   * retention ends, so the key is released (and, with a boundary, the handler's work rolled back)
   * and a retry runs again.
   */
  static boolean isTransient(int status) {
    return status == 408 || status == 409 || status == 425 || status == 429;
  }

  /** Finds a signal that a boundary may have wrapped despite its contract. */
  private static @Nullable Signal signal(Throwable t) {
    for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) {
      if (t instanceof Signal signal) {
        return signal;
      }
    }
    return null;
  }

  private static RuntimeException rethrow(@Nullable Throwable t)
      throws IOException, ServletException {
    if (t instanceof IOException e) {
      throw e;
    }
    if (t instanceof ServletException e) {
      throw e;
    }
    if (t instanceof RuntimeException e) {
      throw e;
    }
    if (t instanceof Error e) {
      throw e;
    }
    throw new ServletException(t);
  }
}
