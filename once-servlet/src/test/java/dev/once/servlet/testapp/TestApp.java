package dev.once.servlet.testapp;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import tools.jackson.databind.json.JsonMapper;

/**
 * The application behind the filter in the integration tests: a plain servlet that binds its JSON
 * body with Jackson and counts its invocations per test, and the filters a real service puts in
 * front of the idempotency layer (request ids, authentication, authorization, a rate limiter, a
 * size limit).
 *
 * <p>Tests steer the handler with headers, which are not part of the fingerprint: {@code X-Test}
 * names the counter, {@code X-Gate} makes the handler wait at a {@link Gate}, {@code X-Status}
 * picks the status, {@code X-Fail} makes it throw, {@code X-Send-Error} makes it call {@code
 * sendError}. Inside a test boundary's transaction it inserts an order, and with {@code
 * X-Violate-At-Commit} also breaks a deferred constraint, so that the handler succeeds and the
 * commit fails.
 */
public final class TestApp {

  public static final JsonMapper JSON = JsonMapper.builder().build();

  private static final Map<String, AtomicInteger> COUNTS = new ConcurrentHashMap<>();
  private static final Map<String, Gate> GATES = new ConcurrentHashMap<>();

  /** Principals whose permission was revoked: the authorization filter answers 403. */
  public static final Set<String> REVOKED = ConcurrentHashMap.newKeySet();

  /** The connection of the current exchange's transaction, when a test boundary opened one. */
  public static final ThreadLocal<Connection> TRANSACTION = new ThreadLocal<>();

  private TestApp() {}

  /** How many times the handler ran for {@code testId}, over every node. */
  public static int count(String testId) {
    AtomicInteger n = COUNTS.get(testId);
    return n == null ? 0 : n.get();
  }

  public static Gate gate() {
    Gate gate = new Gate(UUID.randomUUID().toString());
    GATES.put(gate.id(), gate);
    return gate;
  }

  /** Opens every gate, so no handler thread stays blocked after a test. */
  public static void openAllGates() {
    GATES.values().forEach(Gate::open);
    GATES.clear();
  }

  /**
   * A handler waits here until the test opens it; the test can wait until handlers have arrived.
   */
  public static final class Gate {
    private final String id;
    private final CountDownLatch open = new CountDownLatch(1);
    private final AtomicInteger arrived = new AtomicInteger();
    private final AtomicInteger passed = new AtomicInteger();

    Gate(String id) {
      this.id = id;
    }

    public String id() {
      return id;
    }

    public int arrived() {
      return arrived.get();
    }

    /** How many handlers have left the gate and returned from its wait. */
    public int passed() {
      return passed.get();
    }

    public void open() {
      open.countDown();
    }

    void pass() throws ServletException {
      arrived.incrementAndGet();
      try {
        if (!open.await(60, TimeUnit.SECONDS)) {
          throw new ServletException("gate " + id + " was never opened");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ServletException(e);
      } finally {
        passed.incrementAndGet();
      }
    }
  }

  /** The handler. */
  public static final class Handler extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse res)
        throws ServletException, IOException {
      String testId = req.getHeader("X-Test");
      int n =
          COUNTS
              .computeIfAbsent(testId == null ? "" : testId, k -> new AtomicInteger())
              .incrementAndGet();
      String gate = req.getHeader("X-Gate");
      if (gate != null && GATES.containsKey(gate)) {
        GATES.get(gate).pass();
      }
      String path = req.getServletPath() + (req.getPathInfo() == null ? "" : req.getPathInfo());
      if (!"POST".equals(req.getMethod())) {
        res.setContentType("text/plain");
        res.getWriter().write(req.getMethod() + " " + n);
        return;
      }
      switch (path) {
        case "/pdf" -> pdf(res);
        case "/empty" -> res.setStatus(204);
        case "/sse", "/events" -> {
          insertOrderInTransaction(req, n);
          events(res, n);
        }
        case "/big" -> {
          insertOrderInTransaction(req, n);
          big(res);
        }
        case "/async" -> async(req, n);
        case "/async-wrapped" -> {
          insertOrderInTransaction(req, n);
          asyncWrapped(req, res, n);
        }
        case "/form" -> form(req, res, n);
        default -> json(req, res, n, path);
      }
    }

    private static void json(HttpServletRequest req, HttpServletResponse res, int n, String path)
        throws ServletException, IOException {
      Map<String, Object> body = bind(req);
      if (req.getHeader("X-Fail") != null) {
        throw new ServletException("the handler failed on purpose");
      }
      insertOrderInTransaction(req, n);
      String sendError = req.getHeader("X-Send-Error");
      if (sendError != null) {
        res.sendError(Integer.parseInt(sendError), "card declined");
        return;
      }
      int status =
          req.getHeader("X-Status") == null ? 201 : Integer.parseInt(req.getHeader("X-Status"));
      res.setStatus(status);
      res.setHeader("Location", path + "/" + n);
      res.setHeader("ETag", "\"v" + n + "\"");
      res.setHeader("X-Request-Id", "handler-" + UUID.randomUUID());
      res.addHeader("Vary", "Accept");
      res.setHeader("WWW-Authenticate", "Bearer realm=\"orders\"");
      res.setHeader("Proxy-Authenticate", "Basic");
      res.setHeader("Keep-Alive", "timeout=5");
      res.setHeader("X-Order", Integer.toString(n));
      Cookie cookie = new Cookie("session", "s" + n);
      cookie.setPath("/");
      res.addCookie(cookie);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("order", n);
      out.put("user", req.getUserPrincipal() == null ? null : req.getUserPrincipal().getName());
      out.put("echo", body);
      out.put("query", req.getQueryString());
      res.setContentType("application/json");
      if (req.getHeader("X-Use-Writer") != null) {
        res.setCharacterEncoding("UTF-8");
        PrintWriter w = res.getWriter();
        w.write(JSON.writeValueAsString(out));
        w.flush(); // as Spring's message converters do
      } else {
        ServletOutputStream o = res.getOutputStream();
        o.write(JSON.writeValueAsBytes(out));
        o.flush();
      }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> bind(HttpServletRequest req) throws IOException {
      String type = req.getContentType();
      if (type == null || !type.startsWith("application/json")) {
        byte[] raw = req.getInputStream().readAllBytes();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("raw", new String(raw, StandardCharsets.UTF_8));
        return m;
      }
      if (req.getHeader("X-Use-Reader") != null) {
        return JSON.readValue(req.getReader(), Map.class);
      }
      return JSON.readValue(req.getInputStream(), Map.class);
    }

    private static void insertOrderInTransaction(HttpServletRequest req, int n)
        throws ServletException {
      Connection c = TRANSACTION.get();
      if (c == null) {
        return;
      }
      String testId = req.getHeader("X-Test");
      try (PreparedStatement s =
          c.prepareStatement("INSERT INTO once_servlet_orders (test_id, n) VALUES (?, ?)")) {
        s.setString(1, testId);
        s.setInt(2, n);
        s.executeUpdate();
      } catch (SQLException e) {
        throw new ServletException(e);
      }
      if (req.getHeader("X-Violate-At-Commit") != null) {
        // once_servlet_deferred's unique constraint is checked only at commit: the handler runs on
        // unaware.
        try (PreparedStatement s =
            c.prepareStatement("INSERT INTO once_servlet_deferred (test_id) VALUES (?), (?)")) {
          s.setString(1, testId);
          s.setString(2, testId);
          s.executeUpdate();
        } catch (SQLException e) {
          throw new ServletException(e);
        }
      }
    }

    /** Bytes 0..255 repeated: every byte value, so a charset conversion anywhere would show. */
    public static byte[] pdfBytes() {
      byte[] b = new byte[100_000];
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) (i * 31 + 7);
      }
      return b;
    }

    private static void pdf(HttpServletResponse res) throws IOException {
      res.setStatus(200);
      res.setContentType("application/pdf");
      res.setHeader("Content-Disposition", "attachment; filename=\"invoice.pdf\"");
      res.getOutputStream().write(pdfBytes());
    }

    private static void events(HttpServletResponse res, int n) throws IOException {
      res.setContentType("text/event-stream");
      res.setCharacterEncoding("UTF-8");
      PrintWriter w = res.getWriter();
      w.write("data: first " + n + "\n\n");
      w.flush();
      w.write("data: second " + n + "\n\n");
      w.flush();
    }

    /**
     * Answers from another thread, through the container's own response: nothing the filter can
     * capture.
     */
    private static void async(HttpServletRequest req, int n) {
      AsyncContext ctx = req.startAsync();
      ctx.start(
          () -> {
            try {
              ServletResponse response = ctx.getResponse();
              response.setContentType("text/plain");
              response.getWriter().write("async " + n);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            } finally {
              ctx.complete();
            }
          });
    }

    /**
     * Answers from another thread through the wrappers it was given, as Spring MVC does, once the
     * test opens {@code X-Async-Gate} gate (so after the filter has seen the asynchronous start).
     */
    private static void asyncWrapped(HttpServletRequest req, HttpServletResponse res, int n) {
      Gate gate = GATES.get(req.getHeader("X-Async-Gate"));
      AsyncContext ctx = req.startAsync(req, res);
      ctx.start(
          () -> {
            try {
              gate.pass();
              res.setContentType("text/plain");
              res.getWriter().write("async " + n);
              ctx.complete();
            } catch (IOException | ServletException | IllegalStateException e) {
              // The filter may have ended the exchange already: there is nobody left to answer.
            }
          });
    }

    private static void big(HttpServletResponse res) throws IOException {
      res.setContentType("application/octet-stream");
      byte[] chunk = new byte[16 * 1024];
      for (int i = 0; i < 16; i++) {
        res.getOutputStream().write(chunk);
      }
    }

    private static void form(HttpServletRequest req, HttpServletResponse res, int n)
        throws IOException {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("order", n);
      out.put("item", req.getParameter("item"));
      out.put("qty", req.getParameterValues("qty"));
      out.put("q", req.getParameter("q"));
      res.setStatus(201);
      res.setContentType("application/json");
      res.getOutputStream().write(JSON.writeValueAsBytes(out));
    }
  }

  /** Sets a fresh {@code X-Request-Id} on every response, as a gateway or logging filter does. */
  public static final class RequestIdFilter implements Filter {
    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
        throws IOException, ServletException {
      ((HttpServletResponse) response).setHeader("X-Request-Id", "edge-" + UUID.randomUUID());
      chain.doFilter(request, response);
    }
  }

  /**
   * Authentication from {@code X-User}; under {@code /secure/} a principal is required (401), a
   * revoked one is refused (403), {@code X-Rate-Limit: exceeded} is refused (429) and bodies above
   * 64 KiB are refused (413).
   */
  public static final class SecurityFilter implements Filter {
    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
        throws IOException, ServletException {
      HttpServletRequest req = (HttpServletRequest) request;
      HttpServletResponse res = (HttpServletResponse) response;
      String user = req.getHeader("X-User");
      if (req.getRequestURI().startsWith("/secure/")) {
        if (user == null) {
          res.sendError(401);
          return;
        }
        if (REVOKED.contains(user)) {
          res.sendError(403);
          return;
        }
        if ("exceeded".equals(req.getHeader("X-Rate-Limit"))) {
          res.sendError(429);
          return;
        }
        if (req.getContentLengthLong() > 64 * 1024) {
          res.sendError(413);
          return;
        }
      }
      if (user == null) {
        chain.doFilter(request, response);
        return;
      }
      Principal principal = () -> user;
      chain.doFilter(
          new HttpServletRequestWrapper(req) {
            @Override
            public Principal getUserPrincipal() {
              return principal;
            }

            @Override
            public String getRemoteUser() {
              return user;
            }
          },
          response);
    }
  }
}
