package dev.once.drill;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Tiny services on the JDK's HTTP server for the drill to judge. {@code POST /orders} takes an
 * order and counts its effect per {@code Idempotency-Key}; {@code GET /effects?key=K} answers that
 * count. {@link #naive()} executes every request; {@link #idempotent()} keeps each key's answer and
 * replays it, answers 409 while the key's first request runs and 422 for the key with another body;
 * {@link #hanging()} never answers until closed.
 */
final class TestService implements AutoCloseable {
  private enum Mode {
    NAIVE,
    IDEMPOTENT,
    HANGING
  }

  private record Stored(String body, int status, String answer, boolean done) {}

  private final Mode mode;
  private final HttpServer server;
  private final ExecutorService executor = Executors.newFixedThreadPool(16);
  private final Map<String, AtomicInteger> effects = new ConcurrentHashMap<>();
  private final Map<String, Stored> keys = new HashMap<>();
  private final AtomicInteger ids = new AtomicInteger();
  private final CountDownLatch closed = new CountDownLatch(1);

  private TestService(Mode mode) throws IOException {
    this.mode = mode;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(executor);
    server.createContext("/orders", this::order);
    server.createContext("/effects", this::effects);
    server.start();
  }

  static TestService naive() throws IOException {
    return new TestService(Mode.NAIVE);
  }

  static TestService idempotent() throws IOException {
    return new TestService(Mode.IDEMPOTENT);
  }

  static TestService hanging() throws IOException {
    return new TestService(Mode.HANGING);
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  int effects(String key) {
    return effects.getOrDefault(key, new AtomicInteger()).get();
  }

  private void order(HttpExchange ex) throws IOException {
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    String key = ex.getRequestHeaders().getFirst("Idempotency-Key");
    switch (mode) {
      case NAIVE -> respond(ex, 201, execute(key == null ? "" : key), false);
      case HANGING -> {
        try {
          closed.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        respond(ex, 503, "{}", false);
      }
      case IDEMPOTENT -> {
        if (key == null) {
          respond(ex, 400, "{\"error\":\"Idempotency-Key required\"}", false);
          return;
        }
        Stored stored;
        synchronized (keys) {
          stored = keys.get(key);
          if (stored == null) {
            keys.put(key, new Stored(body, 0, "", false));
          }
        }
        if (stored == null) {
          String answer = execute(key);
          synchronized (keys) {
            keys.put(key, new Stored(body, 201, answer, true));
          }
          respond(ex, 201, answer, false);
        } else if (!stored.body().equals(body)) {
          respond(ex, 422, "{\"error\":\"key reused\"}", false);
        } else if (!stored.done()) {
          respond(ex, 409, "{\"error\":\"in progress\"}", false);
        } else {
          respond(ex, stored.status(), stored.answer(), true);
        }
      }
    }
  }

  private String execute(String key) {
    effects.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
    return "{\"id\":" + ids.incrementAndGet() + "}";
  }

  private void effects(HttpExchange ex) throws IOException {
    String query = ex.getRequestURI().getQuery();
    String key = query != null && query.startsWith("key=") ? query.substring(4) : "";
    respond(ex, 200, String.valueOf(effects(key)), false);
  }

  private static void respond(HttpExchange ex, int status, String body, boolean replayed)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    if (replayed) {
      ex.getResponseHeaders().set("Idempotent-Replayed", "true");
    }
    try (OutputStream out = ex.getResponseBody()) {
      ex.sendResponseHeaders(status, bytes.length);
      out.write(bytes);
    } catch (IOException e) {
      // The client left (the drill's aborted try): the answer is kept all the same.
    }
  }

  @Override
  public void close() {
    closed.countDown();
    server.stop(0);
    executor.shutdownNow();
  }
}
