package dev.once.servlet.internal;

import dev.once.servlet.IdempotentRoute;
import dev.once.servlet.RouteResolver;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/** {@link RouteResolver#of}: the first route whose method and path pattern match. Immutable. */
public final class RouteTable implements RouteResolver {

  private final List<IdempotentRoute> routes;
  private final List<PathPattern> patterns;

  private RouteTable(List<IdempotentRoute> routes) {
    this.routes = List.copyOf(routes);
    List<PathPattern> compiled = new ArrayList<>();
    for (IdempotentRoute route : routes) {
      compiled.add(PathPattern.compile(route.pathPattern()));
    }
    this.patterns = List.copyOf(compiled);
  }

  public static RouteTable of(IdempotentRoute... routes) {
    Objects.requireNonNull(routes, "routes");
    Set<String> seen = new HashSet<>();
    for (IdempotentRoute route : routes) {
      Objects.requireNonNull(route, "route");
      if (!seen.add(route.operation())) {
        throw new IllegalArgumentException("two routes for " + route.operation());
      }
    }
    return new RouteTable(List.of(routes));
  }

  @Override
  public Optional<IdempotentRoute> resolve(HttpServletRequest request) {
    String method = request.getMethod();
    String path = pathWithinApplication(request);
    for (int i = 0; i < routes.size(); i++) {
      IdempotentRoute route = routes.get(i);
      if (route.method().equals(method) && patterns.get(i).matches(path)) {
        return Optional.of(route);
      }
    }
    return Optional.empty();
  }

  /**
   * Servlet path plus path info: decoded and normalised by the container, without the context path.
   */
  public static String pathWithinApplication(HttpServletRequest request) {
    String servletPath = request.getServletPath();
    String pathInfo = request.getPathInfo();
    String path = (servletPath == null ? "" : servletPath) + (pathInfo == null ? "" : pathInfo);
    return path.isEmpty() ? "/" : path;
  }

  @Override
  public String toString() {
    return "RouteResolver" + routes.stream().map(IdempotentRoute::operation).toList();
  }
}
