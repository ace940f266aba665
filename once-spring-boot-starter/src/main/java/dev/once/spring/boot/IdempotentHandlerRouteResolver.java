package dev.once.spring.boot;

import dev.once.IdempotencyStore;
import dev.once.servlet.ExchangeBoundary;
import dev.once.servlet.IdempotentRoute;
import dev.once.servlet.RouteResolver;
import dev.once.servlet.TenantResolver;
import dev.once.spring.boot.internal.DeferredResponses;
import dev.once.spring.boot.internal.LookupRequest;
import dev.once.spring.boot.internal.SpringPatterns;
import jakarta.servlet.http.HttpServletRequest;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.env.PropertyResolver;
import org.springframework.web.ErrorResponse;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerExecutionChain;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.RequestMappingInfoHandlerMapping;
import org.springframework.web.util.ServletRequestPathUtils;

/**
 * Finds the {@link IdempotentRoute} of a request from Spring MVC's own request mappings: it asks
 * the handler mappings which handler method would serve the request, and if that method (or its
 * controller) carries {@link Idempotent}, answers the route for the operation {@code "<METHOD>
 * <mapping's path pattern>"}.
 *
 * <p>Routes are built once, when the application context has started, from every
 * {@code @RequestMapping} handler method that carries {@link Idempotent}: a bad duration or an
 * unknown store bean fails the start-up, naming the method. Where the application authenticates
 * (Spring Security's filter chain is a bean), a route serves only authenticated callers unless
 * {@link Idempotent#allowAnonymous()} or {@code once.http.allow-anonymous} says otherwise; without
 * authentication every caller shares one key space per route, which is logged as a warning at
 * start-up. A request whose HTTP method no route uses is answered without a lookup. A mapping that
 * declares no HTTP method is protected for POST and PATCH. Thread-safe.
 */
public final class IdempotentHandlerRouteResolver
    implements RouteResolver, SmartInitializingSingleton {

  private static final Log LOG = LogFactory.getLog(IdempotentHandlerRouteResolver.class);

  /**
   * The bean Spring Security's {@code @EnableWebSecurity} registers: the application authenticates
   * requests.
   */
  static final String SPRING_SECURITY_FILTER_CHAIN = "springSecurityFilterChain";

  /** HTTP methods a mapping without a method condition is protected for. */
  static final List<String> DEFAULT_METHODS = List.of("POST", "PATCH");

  private record RouteKey(Method handler, String httpMethod, String pattern) {}

  private record Routes(
      List<RequestMappingInfoHandlerMapping> mappings,
      Map<RouteKey, IdempotentRoute> byKey,
      Set<String> httpMethods) {}

  private final ObjectProvider<RequestMappingInfoHandlerMapping> handlerMappings;
  private final BeanFactory beanFactory;
  private final PropertyResolver placeholders;
  private final OnceHttpProperties defaults;
  private final Function<IdempotencyStore, ExchangeBoundary> boundaries;
  private volatile @Nullable Routes routes;
  private boolean anonymousByDefault; // set by build() before it builds routes

  /**
   * @param handlerMappings Spring MVC's request mappings, asked in their order
   * @param beanFactory resolves {@link Idempotent#store()} bean names
   * @param placeholders resolves {@code ${...}} in {@link Idempotent} durations
   * @param defaults {@code once.http.*}: lease, retention, wait used where the annotation leaves
   *     them empty
   * @param boundaries the exchange boundary for a route's store ({@code null}: the filter's
   *     default)
   */
  public IdempotentHandlerRouteResolver(
      ObjectProvider<RequestMappingInfoHandlerMapping> handlerMappings,
      BeanFactory beanFactory,
      PropertyResolver placeholders,
      OnceHttpProperties defaults,
      Function<IdempotencyStore, ExchangeBoundary> boundaries) {
    this.handlerMappings = Objects.requireNonNull(handlerMappings, "handlerMappings");
    this.beanFactory = Objects.requireNonNull(beanFactory, "beanFactory");
    this.placeholders = Objects.requireNonNull(placeholders, "placeholders");
    this.defaults = Objects.requireNonNull(defaults, "defaults");
    this.boundaries = Objects.requireNonNull(boundaries, "boundaries");
  }

  @Override
  public void afterSingletonsInstantiated() {
    routes();
  }

  /**
   * {@return every idempotent route, by its operation ({@code "POST /payments/{id}/refunds"})} The
   * map is unmodifiable and keeps the resolver's order.
   */
  public Map<String, IdempotentRoute> routesByOperation() {
    Map<String, IdempotentRoute> result = new LinkedHashMap<>();
    routes().byKey().values().forEach(route -> result.put(route.operation(), route));
    return Collections.unmodifiableMap(result);
  }

  @Override
  public Optional<IdempotentRoute> resolve(HttpServletRequest request) {
    Routes current = routes();
    if (!current.httpMethods().contains(request.getMethod())) {
      return Optional.empty();
    }
    LookupRequest lookup = new LookupRequest(request);
    for (RequestMappingInfoHandlerMapping mapping : current.mappings()) {
      HandlerExecutionChain chain;
      try {
        if (mapping.usesPathPatterns()) {
          ServletRequestPathUtils.parseAndCache(lookup);
        }
        chain = mapping.getHandler(lookup);
      } catch (Exception e) {
        if (e instanceof ErrorResponse) {
          // No method, media type or parameters match (405, 415, 400): the DispatcherServlet
          // answers that itself,
          // before any handler runs, so there is nothing to protect.
          return Optional.empty();
        }
        // Anything else: which handler would run is unknown, so the filter must fail closed, not
        // let it through.
        throw new IllegalStateException(
            "cannot tell which handler serves "
                + request.getMethod()
                + " "
                + request.getRequestURI()
                + ": "
                + e,
            e);
      }
      if (chain == null) {
        continue;
      }
      if (!(chain.getHandler() instanceof HandlerMethod handler)) {
        return Optional.empty();
      }
      Object pattern = lookup.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE);
      if (pattern == null) {
        return Optional.empty();
      }
      return Optional.ofNullable(
          current
              .byKey()
              .get(new RouteKey(handler.getMethod(), request.getMethod(), pattern.toString())));
    }
    return Optional.empty();
  }

  private Routes routes() {
    Routes r = routes;
    if (r == null) {
      synchronized (this) {
        r = routes;
        if (r == null) {
          r = build();
          routes = r;
        }
      }
    }
    return r;
  }

  private Routes build() {
    List<RequestMappingInfoHandlerMapping> mappings = handlerMappings.orderedStream().toList();
    Map<RouteKey, IdempotentRoute> byKey = new LinkedHashMap<>();
    Set<String> httpMethods = new LinkedHashSet<>();
    boolean authenticates = beanFactory.containsBean(SPRING_SECURITY_FILTER_CHAIN);
    anonymousByDefault =
        defaults.getAllowAnonymous() != null ? defaults.getAllowAnonymous() : !authenticates;
    for (RequestMappingInfoHandlerMapping mapping : mappings) {
      for (Map.Entry<RequestMappingInfo, HandlerMethod> e :
          mapping.getHandlerMethods().entrySet()) {
        HandlerMethod handler = e.getValue();
        Idempotent annotation = annotation(handler);
        if (annotation == null) {
          continue;
        }
        RequestMappingInfo info = e.getKey();
        List<String> methods = new ArrayList<>();
        info.getMethodsCondition().getMethods().forEach(m -> methods.add(m.name()));
        if (methods.isEmpty()) {
          methods.addAll(DEFAULT_METHODS);
        }
        Set<String> patterns =
            info.getPatternValues().isEmpty() ? Set.of("") : info.getPatternValues();
        for (String method : methods) {
          for (String pattern : patterns) {
            byKey.put(
                new RouteKey(handler.getMethod(), method, pattern),
                route(handler, annotation, method, pattern));
            httpMethods.add(method);
          }
        }
      }
    }
    if (!byKey.isEmpty() && LOG.isInfoEnabled()) {
      LOG.info(
          "Idempotency-Key protects "
              + byKey.size()
              + " route(s): "
              + String.join(", ", byKey.values().stream().map(IdempotentRoute::toString).toList()));
    }
    warnIfCallersShareKeys(byKey.values(), authenticates);
    return new Routes(mappings, Map.copyOf(byKey), Set.copyOf(httpMethods));
  }

  /**
   * An application that does not authenticate serves every caller in one key space per route; say
   * so once, unless a {@code TenantResolver} of the application's own names the callers, or {@code
   * once.http.allow-anonymous=true} says it is meant.
   */
  private void warnIfCallersShareKeys(Iterable<IdempotentRoute> all, boolean authenticates) {
    if (authenticates
        || defaults.getAllowAnonymous() != null
        || !(beanFactory.getBeanProvider(TenantResolver.class).getIfUnique()
            instanceof PrincipalTenantResolver)) {
      return;
    }
    List<String> shared = new ArrayList<>();
    all.forEach(
        route -> {
          if (route.allowAnonymous()) {
            shared.add(route.operation());
          }
        });
    if (!shared.isEmpty()) {
      LOG.warn(
          "The application does not authenticate its callers (no Spring Security filter chain), so every"
              + " caller of "
              + String.join(", ", shared)
              + " shares one Idempotency-Key space per route: a caller who"
              + " knows another's key and request gets that response. Authenticate callers (keys are then scoped to"
              + " each one), or set once.http.allow-anonymous=true to declare the shared space intended.");
    }
  }

  private static @Nullable Idempotent annotation(HandlerMethod handler) {
    Idempotent onMethod =
        AnnotatedElementUtils.findMergedAnnotation(handler.getMethod(), Idempotent.class);
    return onMethod != null
        ? onMethod
        : AnnotatedElementUtils.findMergedAnnotation(handler.getBeanType(), Idempotent.class);
  }

  private IdempotentRoute route(
      HandlerMethod handler, Idempotent a, String method, String pattern) {
    String where = "@Idempotent on " + handler.getShortLogMessage();
    try {
      IdempotencyStore store =
          a.store().isEmpty() ? null : beanFactory.getBean(a.store(), IdempotencyStore.class);
      IdempotentRoute.Builder b =
          IdempotentRoute.builder(method, SpringPatterns.toRoutePattern(pattern))
              .keyRequired(a.keyRequired())
              .retention(duration(a.retention(), defaults.getRetention()))
              .lease(duration(a.lease(), defaults.getLease()))
              .fingerprint(a.fingerprint())
              .storeServerErrors(a.storeServerErrors())
              .waitForInFlight(duration(a.waitForInFlight(), defaults.getWaitForInFlight()))
              .allowAnonymous(a.allowAnonymous() || anonymousByDefault)
              .store(store);
      ExchangeBoundary boundary = boundaries.apply(store);
      if (boundary != null) {
        refuseDeferredResponse(handler);
        b.boundary(boundary);
      }
      return b.build();
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          where + " (" + method + " " + pattern + "): " + e.getMessage(), e);
    }
  }

  /**
   * A route with a boundary holds its response until the transaction commits, so its handler must
   * answer before it returns: bytes written later would either reach the client before the commit
   * or never.
   */
  private static void refuseDeferredResponse(HandlerMethod handler) {
    String deferred = DeferredResponses.describe(handler);
    if (deferred != null) {
      throw new IllegalStateException(
          "the handler "
              + deferred
              + ", so it answers after it returns; but the route"
              + " runs in atomic mode, where its response is held until its transaction commits. Return the whole"
              + " response instead, or run in lease mode (once.http.atomic=false)");
    }
  }

  private Duration duration(String value, Duration fallback) {
    if (value.isBlank()) {
      return fallback;
    }
    return DurationStyle.detectAndParse(placeholders.resolveRequiredPlaceholders(value).strip());
  }

  @Override
  public String toString() {
    Routes r = routes;
    return "IdempotentHandlerRouteResolver["
        + (r == null ? "not started" : r.byKey().size() + " routes")
        + "]";
  }
}
