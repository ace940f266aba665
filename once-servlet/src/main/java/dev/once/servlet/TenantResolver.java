package dev.once.servlet;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Names the tenant or principal a request belongs to. Keys live in a {@link dev.once.Scope} of
 * (tenant, route operation), so two principals using the same key string never see each other's
 * records or responses.
 *
 * <p>The filter must run after authentication, so that the principal is known when this is called.
 * The default, {@link IdempotencyFilter.Builder#tenantResolver}, uses {@code
 * request.getUserPrincipal().getName()} and the empty tenant for anonymous requests (which then
 * share one key space per route).
 */
@FunctionalInterface
public interface TenantResolver {

  /**
   * The tenant of {@code request}.
   *
   * @param request the incoming request, authenticated if its caller is
   * @return never {@code null}; empty for "no tenant"; at most {@value
   *     dev.once.Scope#MAX_PART_LENGTH} characters without control characters
   */
  String tenant(HttpServletRequest request);
}
