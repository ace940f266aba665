package dev.once.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.IdempotencyStore;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.endpoint.web.WebEndpointAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;

class OnceActuatorAutoConfigurationTest {

  private final WebApplicationContextRunner runner =
      new WebApplicationContextRunner()
          .withPropertyValues("once.store=memory")
          .withConfiguration(
              AutoConfigurations.of(
                  EndpointAutoConfiguration.class,
                  WebEndpointAutoConfiguration.class,
                  OnceInMemoryAutoConfiguration.class,
                  OncePurgeAutoConfiguration.class,
                  OnceHealthAutoConfiguration.class,
                  OnceEndpointAutoConfiguration.class));

  @Test
  void theEndpointIsNotThereUnlessExposedAsSpringBootDoes() {
    runner.run(
        context -> {
          assertThat(context).hasNotFailed();
          assertThat(context).doesNotHaveBean(OnceEndpoint.class);
        });
    runner
        .withPropertyValues("management.endpoints.web.exposure.include=once")
        .run(context -> assertThat(context).hasSingleBean(OnceEndpoint.class));
    runner
        .withPropertyValues(
            "management.endpoints.web.exposure.include=once",
            "management.endpoint.once.access=NONE")
        .run(context -> assertThat(context).doesNotHaveBean(OnceEndpoint.class));
  }

  @Test
  void everyStoreHasItsHealthUnderOnce() {
    runner.run(
        context -> {
          CompositeHealthContributor once =
              context.getBean("onceHealthContributor", CompositeHealthContributor.class);
          HealthIndicator memory = (HealthIndicator) once.getContributor("memory");
          assertThat(memory).isNotNull();
          assertThat(memory.health().getStatus()).isEqualTo(Status.UP);
        });
    runner
        .withPropertyValues("management.health.once.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean("onceHealthContributor"));
  }

  @Test
  void aStoreThatCannotCheckItselfIsUnknown() {
    IdempotencyStore plain =
        new IdempotencyStore() {
          @Override
          public dev.once.ClaimResult claim(dev.once.ClaimRequest request) {
            throw new UnsupportedOperationException();
          }

          @Override
          public void complete(
              dev.once.IdempotencyKey key,
              long token,
              dev.once.Outcome outcome,
              java.time.Duration retention) {}

          @Override
          public void release(dev.once.IdempotencyKey key, long token) {}

          @Override
          public void renew(dev.once.IdempotencyKey key, long token, java.time.Duration lease) {}

          @Override
          public int purgeExpired(int limit) {
            return 0;
          }

          @Override
          public String name() {
            return "legacy";
          }
        };
    assertThat(new OnceStoreHealthIndicator(plain).health().getStatus()).isEqualTo(Status.UNKNOWN);
  }
}
