package dev.once.servlet.internal;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Writes a captured or stored response to the client. */
public final class ResponseWriter {

  private ResponseWriter() {}

  /** The handler's own response, as it wrote it: every header and cookie, trailers included. */
  public static void writeFresh(HttpServletResponse res, CapturingResponse.Captured c)
      throws IOException {
    res.setStatus(c.status());
    applyHeaders(res, c.headers());
    for (Cookie cookie : c.cookies()) {
      res.addCookie(cookie);
    }
    if (c.contentType() != null) {
      res.setContentType(c.contentType());
    }
    if (c.errorSent()) {
      res.sendError(c.status(), c.errorMessage());
      return;
    }
    boolean trailers = false;
    if (c.trailers() != null) {
      try {
        res.setTrailerFields(c.trailers());
        trailers = true;
      } catch (IllegalStateException e) {
        // the protocol cannot carry trailers (HTTP/1.0): the container would have refused them too
      }
    }
    writeBody(res, c.status(), c.body(), !trailers);
  }

  /** A stored response, marked with {@code replayedHeader: true}. */
  public static void writeReplay(
      HttpServletResponse res, StoredResponse stored, String replayedHeader) throws IOException {
    res.setStatus(stored.status());
    Set<String> seen = new HashSet<>();
    for (Map.Entry<String, String> h : stored.headers()) {
      if (seen.add(h.getKey().toLowerCase(Locale.ROOT))) {
        res.setHeader(h.getKey(), h.getValue());
      } else {
        res.addHeader(h.getKey(), h.getValue());
      }
    }
    res.setHeader(replayedHeader, "true");
    if (stored.contentType() != null) {
      res.setContentType(stored.contentType());
    }
    if (stored.kind() == StoredResponse.Kind.ERROR) {
      res.sendError(stored.status(), stored.errorMessage());
      return;
    }
    writeBody(res, stored.status(), stored.body(), true);
  }

  static void applyHeaders(HttpServletResponse res, List<CapturingResponse.Header> headers) {
    for (CapturingResponse.Header h : headers) {
      if (h.replace()) {
        res.setHeader(h.name(), h.value());
      } else {
        res.addHeader(h.name(), h.value());
      }
    }
  }

  private static void writeBody(
      HttpServletResponse res, int status, byte[] body, boolean contentLength) throws IOException {
    if (status == 204 || status == 304 || status < 200) {
      return; // no content, by definition
    }
    if (contentLength) {
      res.setContentLengthLong(body.length);
    }
    if (body.length > 0) {
      res.getOutputStream().write(body);
    }
  }
}
