package dev.once.servlet.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.Outcome;
import jakarta.servlet.http.Cookie;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StoredResponseTest {

  private static final HeaderPolicy POLICY =
      new HeaderPolicy(
          List.of("X-Request-Id", "Traceparent"), "Idempotency-Key", "Idempotent-Replayed");

  private static CapturingResponse.Header h(String name, String value) {
    return new CapturingResponse.Header(name, value, false);
  }

  @Test
  void h44_sensitiveHopByHopAndPerRequestHeadersAreNotStored() {
    for (String name :
        List.of(
            "Set-Cookie",
            "set-cookie2",
            "WWW-Authenticate",
            "Authorization",
            "Proxy-Authenticate",
            "Proxy-Authorization",
            "Proxy-Connection",
            "Connection",
            "Keep-Alive",
            "Transfer-Encoding",
            "TE",
            "Trailer",
            "Upgrade",
            "Date",
            "Content-Length",
            "Content-Type",
            "X-Request-Id",
            "x-request-id",
            "TRACEPARENT",
            "Idempotency-Key",
            "Idempotent-Replayed")) {
      assertThat(POLICY.replayable(name, Set.of())).as(name).isFalse();
    }
    for (String name :
        List.of(
            "Location",
            "ETag",
            "Vary",
            "Cache-Control",
            "Content-Disposition",
            "Content-Language",
            "Link",
            "X-Order",
            "Last-Modified")) {
      assertThat(POLICY.replayable(name, Set.of())).as(name).isTrue();
    }
    assertThat(POLICY.replayable("X-Hop", HeaderPolicy.connectionTokens(List.of("close, X-Hop"))))
        .isFalse();
  }

  @Test
  void aCapturedResponseRoundTripsWithItsSafeHeadersInOrder() {
    CapturingResponse.Captured captured =
        new CapturingResponse.Captured(
            201,
            List.of(
                h("Location", "/orders/1"),
                h("Set-Cookie", "a=b"),
                h("Vary", "Accept"),
                h("Vary", "Origin"),
                h("Connection", "X-Secret"),
                h("X-Secret", "hop"),
                h("X-Note", "with: colon")),
            List.of(new Cookie("session", "s")),
            "application/json;charset=UTF-8",
            "{\"a\":1}".getBytes(StandardCharsets.UTF_8),
            false,
            null,
            null);
    Outcome outcome = StoredResponse.toOutcome(captured, POLICY);
    StoredResponse back = StoredResponse.fromOutcome(Outcome.fromBytes(outcome.toBytes()));
    assertThat(back.kind()).isEqualTo(StoredResponse.Kind.RESPONSE);
    assertThat(back.status()).isEqualTo(201);
    assertThat(back.headers())
        .containsExactly(
            Map.entry("Location", "/orders/1"),
            Map.entry("Vary", "Accept"),
            Map.entry("Vary", "Origin"),
            Map.entry("X-Note", "with: colon"));
    assertThat(back.contentType()).isEqualTo("application/json;charset=UTF-8");
    assertThat(back.body()).isEqualTo("{\"a\":1}".getBytes(StandardCharsets.UTF_8));
    assertThat(new String(outcome.toBytes(), StandardCharsets.ISO_8859_1))
        .doesNotContain("session");
  }

  @Test
  void sendErrorsAndTombstonesAreRecognised() {
    CapturingResponse.Captured error =
        new CapturingResponse.Captured(
            402, List.of(), List.of(), null, new byte[0], true, "card declined", null);
    StoredResponse back = StoredResponse.fromOutcome(StoredResponse.toOutcome(error, POLICY));
    assertThat(back.kind()).isEqualTo(StoredResponse.Kind.ERROR);
    assertThat(back.errorMessage()).isEqualTo("card declined");
    assertThat(back.contentType()).isNull();
    assertThat(StoredResponse.fromOutcome(StoredResponse.tombstone(200)).kind())
        .isEqualTo(StoredResponse.Kind.TOMBSTONE);
  }

  @Test
  void foreignOutcomesAreRefused() {
    assertThatThrownBy(() -> StoredResponse.fromOutcome(Outcome.of("text/plain", new byte[] {1})))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                StoredResponse.fromOutcome(
                    Outcome.builder()
                        .attribute("kind", "other")
                        .attribute("status", "200")
                        .build()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
