package dev.once.spring.boot;

import dev.once.IdempotencyStore;
import dev.once.KeyPolicy;
import dev.once.OnceListener;
import dev.once.servlet.ExchangeBoundary;
import dev.once.servlet.IdempotencyFilter;
import dev.once.servlet.RouteResolver;
import dev.once.servlet.TenantResolver;
import dev.once.spring.boot.internal.CompositeListener;
import jakarta.servlet.DispatcherType;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.web.servlet.DispatcherServlet;
import org.springframework.web.servlet.mvc.method.RequestMappingInfoHandlerMapping;

/**
 * The Idempotency-Key filter for Spring MVC: {@link Idempotent} handler methods become idempotent
 * routes, keys are scoped to the authenticated principal, and the filter runs after Spring
 * Security's filter chain, so 401 and 403 are answered before any key is claimed and are never
 * stored.
 */
@AutoConfiguration(
    after = {
      OnceJdbcAutoConfiguration.class,
      OnceRedisAutoConfiguration.class,
      OnceInMemoryAutoConfiguration.class,
      OnceTransactionAutoConfiguration.class
    })
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass({IdempotencyFilter.class, DispatcherServlet.class})
@ConditionalOnProperty(
    prefix = "once.http",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
@EnableConfigurationProperties(OnceProperties.class)
public class OnceWebMvcAutoConfiguration {

  /**
   * Name of the filter's registration bean; define a bean of this name to register the filter
   * yourself.
   */
  public static final String FILTER_REGISTRATION_BEAN_NAME = "onceIdempotencyFilterRegistration";

  /**
   * The tenant of a request: its authenticated principal's name, or the empty tenant for anonymous
   * callers. Define a {@link TenantResolver} bean to replace it.
   *
   * @return the resolver
   */
  @Bean
  @ConditionalOnMissingBean
  public TenantResolver onceTenantResolver() {
    return new PrincipalTenantResolver();
  }

  /**
   * The keys the filter accepts, from {@code once.http.key.*}, unless the application defines a
   * {@link KeyPolicy}.
   *
   * @param properties the settings
   * @return the policy
   * @throws IllegalArgumentException if a {@code once.http.key.*} value is out of range
   */
  @Bean
  @ConditionalOnMissingBean
  public KeyPolicy onceKeyPolicy(OnceProperties properties) {
    OnceHttpProperties.Key key = properties.getHttp().getKey();
    return KeyPolicy.builder()
        .minLength(key.getMinLength())
        .maxLength(key.getMaxLength())
        .allowNonAscii(key.isAllowNonAscii())
        .pattern(key.getPattern())
        .build();
  }

  /**
   * Finds the {@link Idempotent} handler methods and the route of each request, unless the
   * application defines a {@link RouteResolver}.
   *
   * @param mappings the application's request mappings
   * @param beanFactory resolves {@link Idempotent#store()} bean names
   * @param environment resolves placeholders in the annotation's durations
   * @param properties {@code once.http.*}: the routes' defaults
   * @param boundaries the application's exchange boundary, if any
   * @param stores the application's stores
   * @return the resolver
   */
  @Bean
  @ConditionalOnMissingBean(RouteResolver.class)
  public IdempotentHandlerRouteResolver onceRouteResolver(
      ObjectProvider<RequestMappingInfoHandlerMapping> mappings,
      ConfigurableListableBeanFactory beanFactory,
      Environment environment,
      OnceProperties properties,
      ObjectProvider<ExchangeBoundary> boundaries,
      ObjectProvider<IdempotencyStore> stores) {
    Boolean atomic = properties.getHttp().getAtomic();
    return new IdempotentHandlerRouteResolver(
        mappings,
        beanFactory,
        environment,
        properties.getHttp(),
        routeStore ->
            Boolean.FALSE.equals(atomic)
                ? null
                : boundaryFor(
                    boundaries.getIfUnique(),
                    routeStore != null ? routeStore : stores.getIfUnique()));
  }

  /**
   * The boundary a route on {@code store} runs in. The filter takes any boundary for a unit of work
   * that rolls the handler's effects back, and answers accordingly ("not processed, retry" when the
   * completion fails), so a route whose store is not in the transaction (a Redis route next to the
   * JDBC default) must get none and run in lease mode. A boundary of the application's own applies
   * to every route, as it always did.
   */
  static @Nullable ExchangeBoundary boundaryFor(
      @Nullable ExchangeBoundary boundary, @Nullable IdempotencyStore store) {
    if (boundary instanceof TransactionalExchangeBoundary transactional) {
      return transactional.isAtomic(store) ? transactional : null;
    }
    return boundary;
  }

  /**
   * The Idempotency-Key filter, from {@code once.http.*}, unless the application defines one.
   *
   * @param stores the application's stores; exactly one is the default store
   * @param routes which requests are protected
   * @param tenants the tenant of a request
   * @param keyPolicy which keys are accepted
   * @param properties {@code once.http.*}
   * @param listeners every {@link OnceListener} bean, in order
   * @param boundaries the exchange boundary, if any
   * @return the filter
   * @throws IllegalStateException if there is no single store, or {@code once.http.atomic=true} has
   *     no transactional boundary
   */
  @Bean
  @ConditionalOnMissingBean
  public IdempotencyFilter onceIdempotencyFilter(
      ObjectProvider<IdempotencyStore> stores,
      RouteResolver routes,
      TenantResolver tenants,
      KeyPolicy keyPolicy,
      OnceProperties properties,
      ObjectProvider<OnceListener> listeners,
      ObjectProvider<ExchangeBoundary> boundaries) {
    IdempotencyStore store = stores.getIfUnique();
    if (store == null) {
      throw new IllegalStateException(
          missingStore(properties.getStore(), stores.stream().count() > 1));
    }
    OnceHttpProperties http = properties.getHttp();
    if (Boolean.TRUE.equals(http.getAtomic()) && boundaries.getIfUnique() == null) {
      throw new IllegalStateException(
          "once.http.atomic=true needs the JDBC store (once.store=jdbc), a single "
              + "DataSource and a PlatformTransactionManager; the store is "
              + store.name()
              + ". Remove once.http.atomic to run in lease mode.");
    }
    List<OnceListener> all = listeners.orderedStream().toList();
    IdempotencyFilter.Builder b =
        IdempotencyFilter.builder(store)
            .routes(routes)
            .tenantResolver(tenants)
            .headerName(http.getHeaderName())
            .replayedHeaderName(http.getReplayedHeaderName())
            .strictKeySyntax(http.isStrictKeySyntax())
            .keyPolicy(keyPolicy)
            .mismatchStatus(http.getMismatchStatus())
            .maxBodyBytes(http.getMaxBodySize().toBytes())
            .maxResponseBytes(http.getMaxResponseSize().toBytes());
    if (!all.isEmpty()) {
      b.listener(CompositeListener.of(all));
    }
    if (http.getProblemTypeBase() != null) {
      b.problemTypeBase(http.getProblemTypeBase());
    }
    return b.build();
  }

  /**
   * Registers the filter for every request dispatch, ordered after Spring Security's filter chain
   * ({@code once.http.filter-order}); not for error, forward or async dispatches, which replay
   * nothing.
   *
   * @param filter the filter
   * @param properties {@code once.http.filter-order}
   * @return the registration
   */
  @Bean(name = FILTER_REGISTRATION_BEAN_NAME)
  @ConditionalOnMissingBean(name = FILTER_REGISTRATION_BEAN_NAME)
  public FilterRegistrationBean<IdempotencyFilter> onceIdempotencyFilterRegistration(
      IdempotencyFilter filter, OnceProperties properties) {
    FilterRegistrationBean<IdempotencyFilter> registration = new FilterRegistrationBean<>(filter);
    registration.setName("onceIdempotencyFilter");
    registration.setOrder(properties.getHttp().getFilterOrder());
    registration.setDispatcherTypes(DispatcherType.REQUEST);
    registration.addUrlPatterns("/*");
    return registration;
  }

  private static String missingStore(OnceProperties.@Nullable StoreType type, boolean several) {
    if (several) {
      return "several IdempotencyStore beans and none is @Primary: mark the default one @Primary, and declare "
          + "per-route stores with @Bean(defaultCandidate = false)";
    }
    if (type == OnceProperties.StoreType.JDBC) {
      return "once.store=jdbc needs a single DataSource bean (spring.datasource.url) and dev.once:once-jdbc";
    }
    if (type == OnceProperties.StoreType.REDIS) {
      return "once.store=redis needs dev.once:once-redis (and io.lettuce:lettuce-core) on the class path";
    }
    return "no IdempotencyStore bean: set once.store, or define one";
  }
}
