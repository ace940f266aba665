package dev.once.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.IdempotencyStore;
import jakarta.servlet.http.HttpServletRequest;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The public builders: defaults, and a bad value rejected at once with the value in the message.
 */
class BuildersTest {

  private static final IdempotencyStore STORE = IdempotencyStore.inMemory();

  @Test
  void routeDefaults() {
    IdempotentRoute r = IdempotentRoute.builder("POST", "/orders").build();
    assertThat(r.operation()).isEqualTo("POST /orders");
    assertThat(r.keyRequired()).isTrue();
    assertThat(r.retention()).isEqualTo(Duration.ofHours(24));
    assertThat(r.lease()).isEqualTo(Duration.ofSeconds(90));
    assertThat(r.fingerprint()).isEqualTo(FingerprintMode.CANONICAL_JSON);
    assertThat(r.storeServerErrors()).isFalse();
    assertThat(r.waitForInFlight()).isZero();
    assertThat(r.store()).isEmpty();
    assertThat(r.boundary()).isSameAs(ExchangeBoundary.none());
    assertThat(r.streaming()).isFalse();
    assertThat(r.toBuilder().lease(Duration.ofSeconds(5)).build().lease())
        .isEqualTo(Duration.ofSeconds(5));
    assertThat(r.lease()).isEqualTo(Duration.ofSeconds(90));
  }

  @Test
  void routeRejectsBadValues() {
    assertThatThrownBy(() -> IdempotentRoute.builder("post", "/orders"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'post'");
    assertThatThrownBy(() -> IdempotentRoute.builder("POST", "orders"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'orders'");
    IdempotentRoute.Builder b = IdempotentRoute.builder("POST", "/orders");
    assertThatThrownBy(() -> b.lease(Duration.ZERO))
        .hasMessageContaining("lease")
        .hasMessageContaining("PT0S");
    assertThatThrownBy(() -> b.retention(Duration.ofSeconds(-1))).hasMessageContaining("retention");
    assertThatThrownBy(() -> b.waitForInFlight(Duration.ofSeconds(-1)))
        .hasMessageContaining("waitForInFlight");
    assertThatThrownBy(() -> IdempotentRoute.builder("POST", "/" + "x".repeat(1100)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> IdempotentRoute.builder("POST", "/e").streaming(true).keyRequired(true).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("streaming");
    assertThat(IdempotentRoute.builder("POST", "/e").streaming(true).build().keyRequired())
        .isFalse();
  }

  @Test
  void filterRejectsBadValues() {
    IdempotencyFilter.Builder b = IdempotencyFilter.builder(STORE);
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("routes");
    assertThatThrownBy(() -> b.headerName("Idempotency Key"))
        .hasMessageContaining("'Idempotency Key'");
    assertThatThrownBy(() -> b.mismatchStatus(500)).hasMessageContaining("500");
    assertThatThrownBy(() -> b.maxBodyBytes(0)).hasMessageContaining("maxBodyBytes");
    assertThatThrownBy(() -> b.maxResponseBytes(Long.MAX_VALUE))
        .hasMessageContaining("maxResponseBytes");
    assertThatThrownBy(() -> b.problemTypeBase("problems/")).hasMessageContaining("'problems/'");
    assertThatThrownBy(() -> b.problemTypeBase("https://x.dev/problems"))
        .hasMessageContaining("ending");
    assertThatThrownBy(() -> b.perRequestHeaders(List.of("ok", "not ok")))
        .hasMessageContaining("'not ok'");
    assertThatThrownBy(() -> IdempotencyFilter.builder(null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(
            () ->
                IdempotencyFilter.builder(STORE)
                    .routes(RouteResolver.of())
                    .replayedHeaderName("idempotency-key")
                    .build())
        .hasMessageContaining("differ");
    assertThat(
            IdempotencyFilter.builder(STORE)
                .routes(RouteResolver.of())
                .problemTypeBase("urn:example:problem:")
                .mismatchStatus(400)
                .build())
        .isNotNull();
  }

  @Test
  void routeResolverMatchesMethodAndPathAndRefusesDuplicates() {
    IdempotentRoute orders = IdempotentRoute.builder("POST", "/orders").build();
    IdempotentRoute refunds = IdempotentRoute.builder("POST", "/orders/{id}/refunds").build();
    RouteResolver routes = RouteResolver.of(orders, refunds);
    assertThat(routes.resolve(request("POST", "/orders", null))).contains(orders);
    assertThat(routes.resolve(request("POST", "", "/orders/7/refunds"))).contains(refunds);
    assertThat(routes.resolve(request("PUT", "/orders", null))).isEmpty();
    assertThat(routes.resolve(request("POST", "/orders/7", null))).isEmpty();
    assertThatThrownBy(
            () -> RouteResolver.of(orders, IdempotentRoute.builder("POST", "/orders").build()))
        .hasMessageContaining("POST /orders");
  }

  private static HttpServletRequest request(String method, String servletPath, String pathInfo) {
    return (HttpServletRequest)
        Proxy.newProxyInstance(
            BuildersTest.class.getClassLoader(),
            new Class<?>[] {HttpServletRequest.class},
            (p, m, args) ->
                switch (m.getName()) {
                  case "getMethod" -> method;
                  case "getServletPath" -> servletPath;
                  case "getPathInfo" -> pathInfo;
                  default -> null;
                });
  }
}
