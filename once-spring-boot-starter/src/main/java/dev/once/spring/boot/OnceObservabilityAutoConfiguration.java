package dev.once.spring.boot;

import dev.once.micrometer.LoggingOnceListener;
import dev.once.micrometer.MicrometerOnceListener;
import dev.once.micrometer.ObservationOnceListener;
import dev.once.micrometer.OutboxBacklogMeters;
import dev.once.outbox.Outbox;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * With {@code once-micrometer} on the class path: Once's meters in the application's {@link
 * MeterRegistry}, a {@code once.claim} observation per claim in its {@link ObservationRegistry}
 * (Actuator's registries, or the application's own), and a log line per outcome ({@code
 * once.log-outcomes=false} turns it off). Each is a {@link dev.once.OnceListener} bean, which the
 * Idempotency-Key filter reports to with every other listener bean; an application bean of the same
 * type replaces each. (The idempotent Kafka and RabbitMQ listener factories do not report to
 * listeners yet.)
 */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
      "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration"
    },
    after = OnceOutboxAutoConfiguration.class,
    before = OnceWebMvcAutoConfiguration.class)
@ConditionalOnClass(LoggingOnceListener.class)
public class OnceObservabilityAutoConfiguration {

  /**
   * One log line per outcome, on the logger {@value LoggingOnceListener#LOGGER}.
   *
   * @return the listener
   */
  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnProperty(
      prefix = "once",
      name = "log-outcomes",
      havingValue = "true",
      matchIfMissing = true)
  public LoggingOnceListener onceLoggingListener() {
    return LoggingOnceListener.create();
  }

  /** The meters, when the application has a {@link MeterRegistry}. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(MeterRegistry.class)
  @ConditionalOnBean(MeterRegistry.class)
  public static class Meters {

    /** Created by Spring. */
    public Meters() {}

    /**
     * Once's meters, under {@code once.}.
     *
     * @param registry the application's meter registry
     * @return the listener
     */
    @Bean
    @ConditionalOnMissingBean
    public MicrometerOnceListener onceMicrometerListener(MeterRegistry registry) {
      return MicrometerOnceListener.of(registry);
    }
  }

  /**
   * The outbox's backlog gauges, when the application has an {@link Outbox} and a {@link
   * MeterRegistry} (whether or not it runs the relay: the backlog is the table's).
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass({MeterRegistry.class, Outbox.class})
  @ConditionalOnBean({MeterRegistry.class, Outbox.class})
  @ConditionalOnSingleCandidate(DataSource.class)
  public static class OutboxMeters {

    /** Created by Spring. */
    public OutboxMeters() {}

    /**
     * The gauges; Spring Boot binds every {@code MeterBinder} bean to its registries.
     *
     * @param dataSource the application's DataSource, where the outbox table is
     * @param outbox the outbox
     * @return the gauges
     */
    @Bean
    @ConditionalOnMissingBean
    public OutboxBacklogMeters onceOutboxBacklogMeters(DataSource dataSource, Outbox outbox) {
      return new OutboxBacklogMeters(dataSource, outbox);
    }
  }

  /** The claim observation, when the application has an {@link ObservationRegistry}. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(ObservationRegistry.class)
  @ConditionalOnBean(ObservationRegistry.class)
  public static class Observations {

    /** Created by Spring. */
    public Observations() {}

    /**
     * A {@code once.claim} observation per claim.
     *
     * @param registry the application's observation registry
     * @return the listener
     */
    @Bean
    @ConditionalOnMissingBean
    public ObservationOnceListener onceObservationListener(ObservationRegistry registry) {
      return ObservationOnceListener.of(registry);
    }
  }
}
