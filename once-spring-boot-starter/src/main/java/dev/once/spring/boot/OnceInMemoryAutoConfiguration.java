package dev.once.spring.boot;

import dev.once.IdempotencyStore;
import dev.once.InMemoryIdempotencyStore;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * The in-memory store: {@code once.store=memory}, or the fallback when {@code once.store} is unset
 * and no other store was configured (no DataSource). Right for one instance that may forget its
 * keys on restart.
 */
@AutoConfiguration(after = {OnceJdbcAutoConfiguration.class, OnceRedisAutoConfiguration.class})
@ConditionalOnProperty(
    prefix = "once",
    name = "store",
    havingValue = "memory",
    matchIfMissing = true)
@EnableConfigurationProperties(OnceProperties.class)
public class OnceInMemoryAutoConfiguration {

  /**
   * The in-memory store, unless the application defines an {@link IdempotencyStore}.
   *
   * @param properties {@code once.memory.*} sizes it
   * @return the store
   */
  @Bean
  @ConditionalOnMissingBean(IdempotencyStore.class)
  public InMemoryIdempotencyStore onceIdempotencyStore(OnceProperties properties) {
    return InMemoryIdempotencyStore.builder()
        .maxRecords(properties.getMemory().getMaxRecords())
        .build();
  }
}
