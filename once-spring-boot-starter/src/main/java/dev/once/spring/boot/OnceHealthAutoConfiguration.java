package dev.once.spring.boot;

import dev.once.IdempotencyStore;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.context.annotation.Bean;

/**
 * The health of every {@link IdempotencyStore} bean under {@code once} in Spring Boot's health
 * ({@code /actuator/health/once/<store name>}), when {@code spring-boot-health} is on the class
 * path. {@code management.health.once.enabled=false} turns it off.
 */
@AutoConfiguration(
    after = {
      OnceJdbcAutoConfiguration.class,
      OnceRedisAutoConfiguration.class,
      OnceInMemoryAutoConfiguration.class
    })
@ConditionalOnClass(HealthContributor.class)
@ConditionalOnBean(IdempotencyStore.class)
@ConditionalOnEnabledHealthIndicator("once")
public class OnceHealthAutoConfiguration {

  /**
   * One {@link OnceStoreHealthIndicator} per store, keyed by the store's name (a second store of
   * the same name gets a number appended).
   *
   * @param stores every IdempotencyStore bean
   * @return the {@code once} health contributor
   */
  @Bean
  @ConditionalOnMissingBean(name = "onceHealthContributor")
  public HealthContributor onceHealthContributor(ObjectProvider<IdempotencyStore> stores) {
    Map<String, HealthContributor> byName = new LinkedHashMap<>();
    stores
        .orderedStream()
        .forEach(
            store ->
                byName.put(
                    byName.containsKey(store.name())
                        ? store.name() + "-" + (byName.size() + 1)
                        : store.name(),
                    new OnceStoreHealthIndicator(store)));
    return CompositeHealthContributor.fromMap(byName);
  }
}
