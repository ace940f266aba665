package dev.once.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.Once;
import dev.once.OnceListener;
import dev.once.ResultCodec;
import dev.once.Scope;
import dev.once.micrometer.LoggingOnceListener;
import dev.once.micrometer.MicrometerOnceListener;
import dev.once.micrometer.ObservationOnceListener;
import dev.once.micrometer.OutboxBacklogMeters;
import dev.once.outbox.Outbox;
import dev.once.spring.boot.internal.CompositeListener;
import io.micrometer.core.instrument.MeterRegistry;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

class OnceObservabilityAutoConfigurationTest {

  private final ApplicationContextRunner withMicrometer =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  MetricsAutoConfiguration.class,
                  SimpleMetricsExportAutoConfiguration.class,
                  CompositeMeterRegistryAutoConfiguration.class,
                  ObservationAutoConfiguration.class,
                  OnceObservabilityAutoConfiguration.class));

  @Test
  void withBootsRegistriesTheMetersTheObservationAndTheLogLineAreListenerBeans() {
    withMicrometer.run(
        context -> {
          assertThat(context).hasNotFailed();
          assertThat(context).hasSingleBean(MicrometerOnceListener.class);
          assertThat(context).hasSingleBean(ObservationOnceListener.class);
          assertThat(context).hasSingleBean(LoggingOnceListener.class);
          // What the filter auto-configuration does with every listener bean: one composite.
          OnceListener all =
              new CompositeListener(
                  context.getBeanProvider(OnceListener.class).orderedStream().toList());
          Once once = Once.builder(IdempotencyStore.inMemory()).listener(all).build();
          IdempotencyKey key = IdempotencyKey.of(Scope.of("alice", "POST /payments"), "k-1");
          once.execute(key, Fingerprint.of("a"), ResultCodec.utf8(), () -> "paid");
          once.execute(key, Fingerprint.of("a"), ResultCodec.utf8(), () -> "paid");
          MeterRegistry registry = context.getBean(MeterRegistry.class);
          assertThat(
                  registry
                      .get(MicrometerOnceListener.CLAIMS)
                      .tag("outcome", "replayed")
                      .counter()
                      .count())
              .isEqualTo(1);
          assertThat(registry.find(ObservationOnceListener.CLAIM).timers())
              .as("the observation, as Boot's meter handler records it")
              .isNotEmpty();
        });
  }

  /** An application with an outbox table, and no relay of its own. */
  @Configuration(proxyBeanMethods = false)
  static class WithOutbox {
    @Bean
    DataSource dataSource() throws Exception {
      org.h2.jdbcx.JdbcDataSource h2 = new org.h2.jdbcx.JdbcDataSource();
      h2.setURL("jdbc:h2:mem:observability-" + java.util.UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
      try (java.sql.Connection c = h2.getConnection()) {
        outbox().createSchema(c);
      }
      return h2;
    }

    @Bean
    Outbox outbox() {
      return Outbox.builder().table("app_outbox").build();
    }
  }

  @Test
  void withAnOutboxItsBacklogIsGaugedByTable() {
    withMicrometer
        .withUserConfiguration(WithOutbox.class)
        .run(
            context -> {
              assertThat(context).hasSingleBean(OutboxBacklogMeters.class);
              MeterRegistry registry = context.getBean(MeterRegistry.class);
              assertThat(
                      registry
                          .get(OutboxBacklogMeters.PENDING)
                          .tag("table", "app_outbox")
                          .gauge()
                          .value())
                  .isZero();
            });
    withMicrometer.run(context -> assertThat(context).doesNotHaveBean(OutboxBacklogMeters.class));
  }

  @Test
  void withoutRegistriesOnlyTheLogLineIsWiredAndItCanBeSwitchedOff() {
    ApplicationContextRunner bare =
        new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(OnceObservabilityAutoConfiguration.class));
    bare.run(
        context -> {
          assertThat(context).doesNotHaveBean(MicrometerOnceListener.class);
          assertThat(context).doesNotHaveBean(ObservationOnceListener.class);
          assertThat(context).hasSingleBean(LoggingOnceListener.class);
        });
    bare.withPropertyValues("once.log-outcomes=false")
        .run(context -> assertThat(context).doesNotHaveBean(OnceListener.class));
  }

  @Test
  void withoutOnceMicrometerNothingIsWired() {
    withMicrometer
        .withClassLoader(new FilteredClassLoader(LoggingOnceListener.class))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).doesNotHaveBean(OnceListener.class);
            });
  }
}
