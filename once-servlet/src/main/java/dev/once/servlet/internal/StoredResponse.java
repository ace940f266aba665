package dev.once.servlet.internal;

import dev.once.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * An HTTP response as an {@link Outcome}: the body, the content type, and attributes {@code kind}
 * ({@code response}, {@code error} for a {@code sendError}, or {@code tombstone} for a response
 * that went straight to the client and cannot be replayed), {@code status}, {@code message} (of a
 * {@code sendError}) and one {@code header.N} attribute {@code "Name: value"} per replay-safe
 * header line, in order.
 */
public record StoredResponse(
    Kind kind,
    int status,
    List<Map.Entry<String, String>> headers,
    @Nullable String contentType,
    byte[] body,
    @Nullable String errorMessage) {

  /** What was stored. */
  public enum Kind {
    RESPONSE("response"),
    ERROR("error"),
    TOMBSTONE("tombstone");

    private final String attribute;

    Kind(String attribute) {
      this.attribute = attribute;
    }

    static Kind of(String attribute) {
      for (Kind k : values()) {
        if (k.attribute.equals(attribute)) {
          return k;
        }
      }
      throw new IllegalArgumentException("not an HTTP response outcome (kind " + attribute + ")");
    }
  }

  static final String KIND = "kind";
  static final String STATUS = "status";
  static final String MESSAGE = "message";
  static final String HEADER_PREFIX = "header.";

  /** The replay-safe part of a captured response. */
  public static Outcome toOutcome(CapturingResponse.Captured captured, HeaderPolicy policy) {
    Outcome.Builder b =
        Outcome.builder()
            .attribute(KIND, (captured.errorSent() ? Kind.ERROR : Kind.RESPONSE).attribute)
            .attribute(STATUS, Integer.toString(captured.status()));
    if (captured.errorSent() && captured.errorMessage() != null) {
      b.attribute(MESSAGE, captured.errorMessage());
    }
    List<String> connection = new ArrayList<>();
    for (CapturingResponse.Header h : captured.headers()) {
      if (h.name().equalsIgnoreCase("Connection")) {
        connection.add(h.value());
      }
    }
    Set<String> tokens = HeaderPolicy.connectionTokens(connection);
    int n = 0;
    for (CapturingResponse.Header h : captured.headers()) {
      if (policy.replayable(h.name(), tokens)) {
        b.attribute(HEADER_PREFIX + n++, h.name() + ": " + h.value());
      }
    }
    if (captured.contentType() != null) {
      b.contentType(captured.contentType());
    }
    return b.body(captured.body()).build();
  }

  /**
   * The record of a response that went to the client as it was written and so cannot be replayed.
   */
  public static Outcome tombstone(int status) {
    return Outcome.builder()
        .attribute(KIND, Kind.TOMBSTONE.attribute)
        .attribute(STATUS, Integer.toString(status))
        .build();
  }

  /**
   * Reads an outcome written by {@link #toOutcome} or {@link #tombstone}.
   *
   * @throws IllegalArgumentException if it is not one (for example written by {@code Once} in the
   *     same scope)
   */
  public static StoredResponse fromOutcome(Outcome outcome) {
    String kind = outcome.attribute(KIND);
    String status = outcome.attribute(STATUS);
    if (kind == null || status == null) {
      throw new IllegalArgumentException("the stored outcome is not an HTTP response: " + outcome);
    }
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    for (Map.Entry<String, String> a : outcome.attributes().entrySet()) {
      if (a.getKey().startsWith(HEADER_PREFIX)) {
        String line = a.getValue();
        int colon = line.indexOf(": ");
        if (colon <= 0) {
          throw new IllegalArgumentException(
              "the stored outcome has a malformed header attribute " + a.getKey());
        }
        headers.add(Map.entry(line.substring(0, colon), line.substring(colon + 2)));
      }
    }
    int code;
    try {
      code = Integer.parseInt(status);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("the stored outcome has a malformed status", e);
    }
    return new StoredResponse(
        Kind.of(kind),
        code,
        List.copyOf(headers),
        outcome.contentType().isEmpty() ? null : outcome.contentType(),
        outcome.body(),
        outcome.attribute(MESSAGE));
  }
}
