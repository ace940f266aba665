package dev.once.servlet.internal;

import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.json.JsonFactory;

/**
 * An RFC 9457 problem the filter itself answers with. Written with Jackson, so the body is always
 * valid JSON; never stored as a key's result.
 *
 * @param kind which problem
 * @param status the HTTP status (the kind's, or the configured mismatch status)
 * @param detail a sentence for this occurrence; never the key
 * @param retryAfter the {@code Retry-After} to send, or {@code null}
 */
public record Problem(Kind kind, int status, String detail, @Nullable Duration retryAfter) {

  private static final JsonFactory JSON = JsonFactory.builder().build();

  /** Every problem the filter produces; {@code slug} completes the configured type base URI. */
  public enum Kind {
    KEY_MISSING("key-missing", 400, "Idempotency-Key is missing"),
    KEY_INVALID("key-invalid", 400, "Idempotency-Key is invalid"),
    KEY_NOT_SUPPORTED("key-not-supported", 400, "This endpoint does not support idempotent replay"),
    AUTHENTICATION_REQUIRED(
        "authentication-required", 403, "Idempotency-Key needs an authenticated caller"),
    REQUEST_TOO_LARGE(
        "request-too-large", 413, "Request body is too large for an idempotent request"),
    MEDIA_TYPE_NOT_SUPPORTED(
        "media-type-not-supported",
        415,
        "This media type is not supported for an idempotent request"),
    KEY_REUSED("key-reused", 422, "Idempotency-Key is already used"),
    IN_PROGRESS("request-in-progress", 409, "A request is outstanding for this Idempotency-Key"),
    LEASE_LOST("lease-lost", 409, "Another request took over this Idempotency-Key"),
    NOT_REPLAYABLE(
        "response-not-replayable", 409, "The response for this Idempotency-Key cannot be replayed"),
    STORE_UNAVAILABLE("store-unavailable", 503, "Idempotency store is unavailable"),
    ROUTE_UNRESOLVED("route-unresolved", 500, "Cannot tell whether this request is idempotent"),
    RESPONSE_NOT_HOLDABLE(
        "response-not-holdable", 500, "The response cannot be held until the transaction commits"),
    TOO_MANY_KEYS("too-many-keys", 429, "Too many idempotent requests");

    private final String slug;
    private final int status;
    private final String title;

    Kind(String slug, int status, String title) {
      this.slug = slug;
      this.status = status;
      this.title = title;
    }

    public String slug() {
      return slug;
    }

    public int status() {
      return status;
    }

    public String title() {
      return title;
    }
  }

  public static Problem of(Kind kind, String detail) {
    return new Problem(kind, kind.status(), detail, null);
  }

  /** {@code Retry-After} in whole seconds, rounded up, at least 1. */
  public static long retryAfterSeconds(Duration d) {
    long ms = Math.max(1, d.toMillis());
    return (ms + 999) / 1000;
  }

  /** The problem+json body. */
  public byte[] body(String typeBase, String instance) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = JSON.createGenerator(ObjectWriteContext.empty(), out)) {
      g.writeStartObject();
      g.writeStringProperty("type", typeBase + kind.slug());
      g.writeStringProperty("title", kind.title());
      g.writeNumberProperty("status", status);
      g.writeStringProperty("detail", detail);
      if (instance != null) {
        g.writeStringProperty("instance", instance);
      }
      g.writeEndObject();
    }
    return out.toByteArray();
  }

  /** Writes the problem as the whole response. */
  public void write(HttpServletResponse res, String typeBase, String instance) throws IOException {
    byte[] body = body(typeBase, instance);
    res.setStatus(status);
    res.setContentType("application/problem+json");
    res.setHeader("Cache-Control", "no-store");
    if (retryAfter != null) {
      res.setHeader("Retry-After", Long.toString(retryAfterSeconds(retryAfter)));
    }
    res.setContentLength(body.length);
    res.getOutputStream().write(body);
  }
}
