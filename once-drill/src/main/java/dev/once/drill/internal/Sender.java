package dev.once.drill.internal;

import dev.once.drill.Attempt;
import dev.once.drill.DrillRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import javax.net.ssl.SSLSocketFactory;

/**
 * Sends requests to the target, and only there: over {@link HttpClient}, or over a raw socket for
 * the client that hangs up after the status line.
 */
public final class Sender {

  /** Headers the HTTP client sets itself (or refuses), and HTTP/2 pseudo-headers from a HAR. */
  private static final Set<String> NOT_FORWARDED =
      Set.of(
          "connection",
          "content-length",
          "expect",
          "host",
          "upgrade",
          "keep-alive",
          "proxy-connection",
          "te",
          "trailer",
          "transfer-encoding");

  private final HttpClient client;
  private final URI target;
  private final Duration timeout;
  private final long startNanos;
  private final String replayHeader;
  private final String replayValue;

  /** A sender to {@code target}, timing attempts from {@code startNanos}. */
  public Sender(
      HttpClient client,
      URI target,
      Duration timeout,
      long startNanos,
      String replayHeader,
      String replayValue) {
    this.client = client;
    this.target = target;
    this.timeout = timeout;
    this.startNanos = startNanos;
    this.replayHeader = replayHeader;
    this.replayValue = replayValue;
  }

  /** Sends and waits for the whole answer; a failure to get one is an answer with status 0. */
  public Answer send(int index, String key, Attempt.Kind kind, DrillRequest request) {
    return sendAsync(index, key, kind, request).join();
  }

  /** Sends without waiting; the future never completes exceptionally. */
  public CompletableFuture<Answer> sendAsync(
      int index, String key, Attempt.Kind kind, DrillRequest request) {
    long sent = System.nanoTime();
    HttpRequest http;
    try {
      http = httpRequest(request);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(failed(index, key, kind, sent, e));
    }
    return client
        .sendAsync(http, HttpResponse.BodyHandlers.ofByteArray())
        .handle(
            (r, e) -> {
              if (e != null) {
                return failed(index, key, kind, sent, e);
              }
              boolean replayed =
                  r.headers()
                      .firstValue(replayHeader)
                      .map(replayValue::equalsIgnoreCase)
                      .orElse(false);
              return new Answer(
                  new Attempt(
                      index,
                      key,
                      kind,
                      r.statusCode(),
                      replayed,
                      millis(sent - startNanos),
                      millis(System.nanoTime() - sent),
                      null),
                  r.body());
            });
  }

  /**
   * Sends over a socket of its own, reads the status line and closes the connection before the
   * headers and the body: a client that gave up mid-response.
   */
  public Answer sendAborting(int index, String key, DrillRequest request) {
    long sent = System.nanoTime();
    String host = target.getHost();
    int port = Target.port(target);
    try (Socket socket =
        "https".equalsIgnoreCase(target.getScheme())
            ? SSLSocketFactory.getDefault().createSocket(host, port)
            : new Socket(host, port)) {
      socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
      byte[] body = request.body().getBytes(StandardCharsets.UTF_8);
      StringBuilder head = new StringBuilder();
      head.append(request.method()).append(' ').append(request.path()).append(" HTTP/1.1\r\n");
      head.append("Host: ").append(target.getRawAuthority()).append("\r\n");
      for (DrillRequest.Header h : request.headers()) {
        if (forwarded(h.name())) {
          head.append(h.name()).append(": ").append(h.value()).append("\r\n");
        }
      }
      head.append("Content-Length: ").append(body.length).append("\r\n");
      head.append("Connection: close\r\n\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.write(body);
      out.flush();
      String statusLine = readLine(socket.getInputStream());
      String[] parts = statusLine.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/") || !parts[1].matches("\\d{3}")) {
        throw new IOException("not an HTTP status line: '" + statusLine + "'");
      }
      return new Answer(
          new Attempt(
              index,
              key,
              Attempt.Kind.ABORTED,
              Integer.parseInt(parts[1]),
              false,
              millis(sent - startNanos),
              millis(System.nanoTime() - sent),
              null),
          new byte[0]);
    } catch (IOException e) {
      return failed(index, key, Attempt.Kind.ABORTED, sent, e);
    }
  }

  private HttpRequest httpRequest(DrillRequest request) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(Target.resolve(target, request.path()))
            .timeout(timeout)
            .method(
                request.method(),
                request.body().isEmpty()
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(request.body(), StandardCharsets.UTF_8));
    for (DrillRequest.Header h : request.headers()) {
      if (forwarded(h.name())) {
        b.header(h.name(), h.value());
      }
    }
    return b.build();
  }

  private static boolean forwarded(String name) {
    return !name.startsWith(":") && !NOT_FORWARDED.contains(name.toLowerCase(Locale.ROOT));
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1 && b != '\n') {
      if (line.size() > 8192) {
        throw new IOException("status line longer than 8 KiB");
      }
      line.write(b);
    }
    if (b == -1 && line.size() == 0) {
      throw new IOException("the connection closed before a status line");
    }
    return line.toString(StandardCharsets.ISO_8859_1).strip();
  }

  private Answer failed(int index, String key, Attempt.Kind kind, long sent, Throwable e) {
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    return new Answer(
        new Attempt(
            index,
            key,
            kind,
            0,
            false,
            millis(sent - startNanos),
            millis(System.nanoTime() - sent),
            String.valueOf(cause)),
        new byte[0]);
  }

  private static double millis(long nanos) {
    return nanos / 1_000_000.0;
  }
}
