package dev.once.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.IdempotencyStore;
import dev.once.InMemoryIdempotencyStore;
import dev.once.servlet.FingerprintMode;
import dev.once.servlet.IdempotentRoute;
import dev.once.servlet.RouteResolver;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.servlet.config.annotation.EnableWebMvc;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

class IdempotentHandlerRouteResolverTest {

  private final WebApplicationContextRunner runner =
      new WebApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  OnceInMemoryAutoConfiguration.class, OnceWebMvcAutoConfiguration.class))
          .withUserConfiguration(Mvc.class);

  @Configuration(proxyBeanMethods = false)
  @EnableWebMvc
  static class Mvc {
    @Bean
    Orders orders() {
      return new Orders();
    }

    @Bean
    Audited audited() {
      return new Audited();
    }

    /** A per-route store: not a default candidate, so the application's store stays the default. */
    @Bean(defaultCandidate = false)
    IdempotencyStore auditStore() {
      return InMemoryIdempotencyStore.builder().name("audit").build();
    }
  }

  @RestController
  @RequestMapping("/orders")
  static class Orders {
    @PostMapping
    @Idempotent
    String create() {
      return "created";
    }

    @PostMapping("/{id:\\d+}/refunds")
    @Idempotent(
        retention = "${test.refund-retention:7d}",
        lease = "5s",
        fingerprint = FingerprintMode.RAW_BYTES,
        storeServerErrors = true,
        waitForInFlight = "250ms",
        keyRequired = false)
    String refund(@PathVariable long id) {
      return "refunded " + id;
    }

    @PostMapping("/{id}/notes")
    String note(@PathVariable String id) {
      return "noted";
    }

    @GetMapping("/{id}")
    String get(@PathVariable String id) {
      return id;
    }
  }

  @RestController
  @Idempotent(store = "auditStore")
  static class Audited {
    @PostMapping("/audits")
    String audit() {
      return "audited";
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class BadDuration {
    @Bean
    Bad bad() {
      return new Bad();
    }
  }

  @RestController
  static class Bad {
    @PostMapping("/bad")
    @Idempotent(lease = "soon")
    String bad() {
      return "bad";
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class UnknownStore {
    @Bean
    Unknown unknown() {
      return new Unknown();
    }
  }

  @RestController
  static class Unknown {
    @PostMapping("/unknown")
    @Idempotent(store = "noSuchStore")
    String unknown() {
      return "unknown";
    }
  }

  /** A handler mapping that fails for every request, before the application's own. */
  @Configuration(proxyBeanMethods = false)
  static class BrokenMapping {
    @Bean
    RequestMappingHandlerMapping brokenMapping() {
      RequestMappingHandlerMapping broken =
          new RequestMappingHandlerMapping() {
            @Override
            protected HandlerMethod getHandlerInternal(HttpServletRequest request) {
              throw new IllegalStateException("the mapping is broken");
            }
          };
      broken.setOrder(Ordered.HIGHEST_PRECEDENCE);
      return broken;
    }
  }

  private static Optional<IdempotentRoute> resolve(
      RouteResolver resolver, String method, String path) {
    MockHttpServletRequest request = new MockHttpServletRequest(method, path);
    Optional<IdempotentRoute> route = resolver.resolve(request);
    assertThat(request.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE))
        .as("the lookup leaves the request's attributes alone")
        .isNull();
    return route;
  }

  @Test
  void anAnnotatedHandlerGetsTheDefaultsAndTheOperationOfItsMapping() {
    runner.run(
        context -> {
          RouteResolver resolver = context.getBean(RouteResolver.class);
          IdempotentRoute create = resolve(resolver, "POST", "/orders").orElseThrow();
          assertThat(create.operation()).isEqualTo("POST /orders");
          assertThat(create.keyRequired()).isTrue();
          assertThat(create.retention()).isEqualTo(Duration.ofHours(24));
          assertThat(create.lease()).isEqualTo(Duration.ofSeconds(90));
          assertThat(create.fingerprint()).isEqualTo(FingerprintMode.CANONICAL_JSON);
          assertThat(create.store()).isEmpty();
        });
  }

  @Test
  void theAnnotationsSettingsReachTheRoute() {
    runner
        .withPropertyValues("test.refund-retention=3d")
        .run(
            context -> {
              IdempotentRoute refund =
                  resolve(context.getBean(RouteResolver.class), "POST", "/orders/42/refunds")
                      .orElseThrow();
              assertThat(refund.operation()).isEqualTo("POST /orders/{id}/refunds");
              assertThat(refund.retention()).isEqualTo(Duration.ofDays(3));
              assertThat(refund.lease()).isEqualTo(Duration.ofSeconds(5));
              assertThat(refund.fingerprint()).isEqualTo(FingerprintMode.RAW_BYTES);
              assertThat(refund.storeServerErrors()).isTrue();
              assertThat(refund.waitForInFlight()).isEqualTo(Duration.ofMillis(250));
              assertThat(refund.keyRequired()).isFalse();
            });
  }

  @Test
  void propertiesSetTheDefaults() {
    runner
        .withPropertyValues(
            "once.http.retention=2h", "once.http.lease=30s", "once.http.wait-for-in-flight=1s")
        .run(
            context -> {
              IdempotentRoute create =
                  resolve(context.getBean(RouteResolver.class), "POST", "/orders").orElseThrow();
              assertThat(create.retention()).isEqualTo(Duration.ofHours(2));
              assertThat(create.lease()).isEqualTo(Duration.ofSeconds(30));
              assertThat(create.waitForInFlight()).isEqualTo(Duration.ofSeconds(1));
            });
  }

  @Test
  void requestsToOtherHandlersOrMethodsOrPathsAreNotProtected() {
    runner.run(
        context -> {
          RouteResolver resolver = context.getBean(RouteResolver.class);
          assertThat(resolve(resolver, "POST", "/orders/7/notes")).isEmpty();
          assertThat(resolve(resolver, "GET", "/orders/7")).isEmpty();
          assertThat(resolve(resolver, "POST", "/orders/abc/refunds"))
              .as("the regex does not match")
              .isEmpty();
          assertThat(resolve(resolver, "POST", "/nowhere")).isEmpty();
          assertThat(resolve(resolver, "PUT", "/orders")).isEmpty();
        });
  }

  @Test
  void aTypeLevelAnnotationNamesAPerRouteStoreByBeanName() {
    runner.run(
        context -> {
          IdempotentRoute audit =
              resolve(context.getBean(RouteResolver.class), "POST", "/audits").orElseThrow();
          assertThat(audit.store()).map(IdempotencyStore::name).hasValue("audit");
          assertThat(context.getBean(IdempotencyStore.class).name())
              .as("the default store is still the application's")
              .isEqualTo("memory");
        });
  }

  @Test
  void aBadDurationFailsTheStartNamingTheHandler() {
    runner
        .withUserConfiguration(BadDuration.class)
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure())
                  .hasMessageContaining("@Idempotent on")
                  .hasMessageContaining("Bad#bad")
                  .hasMessageContaining("soon");
            });
  }

  @Test
  void anUnknownStoreFailsTheStartNamingTheBean() {
    runner
        .withUserConfiguration(UnknownStore.class)
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure()).hasMessageContaining("noSuchStore");
            });
  }

  @Test
  void aHandlerMappingThatFailsIsAFailureNotAnUnprotectedRequest() {
    runner
        .withUserConfiguration(BrokenMapping.class)
        .run(
            context -> {
              RouteResolver resolver = context.getBean(RouteResolver.class);
              assertThatThrownBy(
                      () -> resolver.resolve(new MockHttpServletRequest("POST", "/orders")))
                  .isInstanceOf(IllegalStateException.class)
                  .hasMessageContaining("POST /orders")
                  .hasMessageContaining("the mapping is broken");
            });
  }
}
