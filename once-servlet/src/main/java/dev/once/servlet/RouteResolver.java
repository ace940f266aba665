package dev.once.servlet;

import dev.once.servlet.internal.RouteTable;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Optional;

/**
 * Finds the {@link IdempotentRoute} that protects a request, if any. A request without a route
 * passes through the filter untouched, even when it carries an {@code Idempotency-Key}; so does a
 * request whose method differs from its route's method.
 *
 * <pre>{@code
 * RouteResolver routes = RouteResolver.of(
 *     IdempotentRoute.builder("POST", "/orders").build(),
 *     IdempotentRoute.builder("POST", "/orders/{id}/refunds").build());
 * }</pre>
 *
 * <p>Implementations are called once per request, on the request's thread, and must be thread-safe.
 */
@FunctionalInterface
public interface RouteResolver {

  /**
   * {@return the route protecting {@code request}, or empty when it is not protected}
   *
   * @param request the incoming request
   */
  Optional<IdempotentRoute> resolve(HttpServletRequest request);

  /**
   * A resolver over a fixed list of routes: the first route whose method equals the request's and
   * whose path pattern matches the request's path inside the application (servlet path plus path
   * info) wins.
   *
   * @param routes the protected routes
   * @return the resolver
   * @throws IllegalArgumentException if two routes have the same method and path pattern
   */
  static RouteResolver of(IdempotentRoute... routes) {
    return RouteTable.of(routes);
  }
}
