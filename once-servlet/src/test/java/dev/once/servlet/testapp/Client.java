package dev.once.servlet.testapp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import tools.jackson.databind.JsonNode;

/**
 * Sends real HTTP to a {@link Node}: {@link HttpClient} for ordinary requests, a raw socket for odd
 * bytes.
 */
public final class Client {

  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private Client() {}

  /** A response: status, headers (lower-case names), body. */
  public record Reply(int status, Map<String, List<String>> headers, byte[] body) {

    public String header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null || values.isEmpty() ? null : values.get(0);
    }

    public List<String> headers(String name) {
      return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
    }

    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    public JsonNode json() {
      return TestApp.JSON.readTree(body);
    }

    public boolean replayed() {
      return "true".equals(header("Idempotent-Replayed"));
    }

    @Override
    public String toString() {
      return status + " " + headers + " " + text();
    }
  }

  /** Builds one request. */
  public static final class Request {
    private final String url;
    private String method = "POST";
    private byte[] body = new byte[0];
    private final List<String[]> headers = new ArrayList<>();

    private Request(String url) {
      this.url = url;
    }

    public Request method(String method) {
      this.method = method;
      return this;
    }

    public Request json(String json) {
      this.body = json.getBytes(StandardCharsets.UTF_8);
      return header("Content-Type", "application/json");
    }

    public Request body(String contentType, byte[] body) {
      this.body = body;
      return header("Content-Type", contentType);
    }

    /** An {@code Idempotency-Key} sent as written (quote it yourself for the sf-string form). */
    public Request key(String value) {
      return header("Idempotency-Key", value);
    }

    public Request test(String testId) {
      return header("X-Test", testId);
    }

    public Request header(String name, String value) {
      headers.add(new String[] {name, value});
      return this;
    }

    public Reply send() {
      try {
        return sendAsync().join();
      } catch (java.util.concurrent.CompletionException e) {
        throw new IllegalStateException("request to " + url + " failed", e.getCause());
      }
    }

    public CompletableFuture<Reply> sendAsync() {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create(url))
              .timeout(Duration.ofSeconds(90))
              .method(
                  method,
                  body.length == 0 && !"POST".equals(method)
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofByteArray(body));
      for (String[] h : headers) {
        b.header(h[0], h[1]);
      }
      return HTTP.sendAsync(b.build(), HttpResponse.BodyHandlers.ofByteArray())
          .thenApply(r -> new Reply(r.statusCode(), lower(r.headers()), r.body()));
    }

    /**
     * Sends the request over a plain socket with exactly these header bytes (ISO-8859-1), so field
     * values that {@link HttpClient} would refuse or re-encode (a TAB, raw non-ASCII, a repeated
     * field) reach the server as written.
     */
    public Reply sendRaw() {
      URI uri = URI.create(url);
      StringBuilder head = new StringBuilder();
      head.append(method)
          .append(' ')
          .append(uri.getRawPath())
          .append(uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery())
          .append(" HTTP/1.1\r\n");
      head.append("Host: ").append(uri.getHost()).append(':').append(uri.getPort()).append("\r\n");
      head.append("Connection: close\r\n");
      head.append("Content-Length: ").append(body.length).append("\r\n");
      for (String[] h : headers) {
        head.append(h[0]).append(": ").append(h[1]).append("\r\n");
      }
      head.append("\r\n");
      try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
        socket.setSoTimeout(60_000);
        OutputStream out = socket.getOutputStream();
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
        return parse(socket.getInputStream().readAllBytes());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  public static Request post(String url) {
    return new Request(url);
  }

  public static Request request(String method, String url) {
    return new Request(url).method(method);
  }

  private static Map<String, List<String>> lower(HttpHeaders headers) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    headers.map().forEach((k, v) -> out.put(k.toLowerCase(Locale.ROOT), v));
    return out;
  }

  static Reply parse(byte[] raw) throws IOException {
    int end = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
    if (end < 0) {
      throw new IOException("no complete response head in " + raw.length + " bytes");
    }
    String[] lines = new String(raw, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers
          .computeIfAbsent(
              lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(lines[i].substring(colon + 1).strip());
    }
    byte[] rest = java.util.Arrays.copyOfRange(raw, end + 4, raw.length);
    List<String> te = headers.get("transfer-encoding");
    if (te != null && te.get(0).equalsIgnoreCase("chunked")) {
      rest = dechunk(rest);
    }
    return new Reply(status, headers, rest);
  }

  private static byte[] dechunk(byte[] in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int i = 0;
    while (true) {
      int lineEnd =
          indexOf(
              java.util.Arrays.copyOfRange(in, i, in.length),
              "\r\n".getBytes(StandardCharsets.ISO_8859_1));
      if (lineEnd < 0) {
        throw new IOException("truncated chunk size");
      }
      String sizeLine = new String(in, i, lineEnd, StandardCharsets.ISO_8859_1);
      int size = Integer.parseInt(sizeLine.split(";")[0].strip(), 16);
      i += lineEnd + 2;
      if (size == 0) {
        return out.toByteArray();
      }
      out.write(in, i, size);
      i += size + 2;
    }
  }

  private static int indexOf(byte[] data, byte[] pattern) {
    outer:
    for (int i = 0; i + pattern.length <= data.length; i++) {
      for (int j = 0; j < pattern.length; j++) {
        if (data[i + j] != pattern[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** Reads a stream fully; here so tests need not. */
  static byte[] readAll(InputStream in) throws IOException {
    return in.readAllBytes();
  }
}
