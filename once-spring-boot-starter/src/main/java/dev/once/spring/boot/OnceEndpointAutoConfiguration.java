package dev.once.spring.boot;

import dev.once.IdempotencyStore;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * The {@code once} Actuator endpoint ({@link OnceEndpoint}) over every {@link IdempotencyStore}
 * bean, when Actuator is on the class path and the endpoint is available (exposed, and its access
 * not {@code none}).
 */
@AutoConfiguration(
    after = {
      OnceJdbcAutoConfiguration.class,
      OnceRedisAutoConfiguration.class,
      OnceInMemoryAutoConfiguration.class,
      OncePurgeAutoConfiguration.class
    })
@ConditionalOnClass(Endpoint.class)
@ConditionalOnBean(IdempotencyStore.class)
@ConditionalOnAvailableEndpoint(OnceEndpoint.class)
@EnableConfigurationProperties(OnceProperties.class)
public class OnceEndpointAutoConfiguration {

  /**
   * The endpoint, unless the application defines its own.
   *
   * @param stores every IdempotencyStore bean
   * @param purgers the purgers, if purging is on
   * @param properties {@code once.admin.*}
   * @return the endpoint
   */
  @Bean
  @ConditionalOnMissingBean
  public OnceEndpoint onceEndpoint(
      ObjectProvider<IdempotencyStore> stores,
      ObjectProvider<OncePurgers> purgers,
      OnceProperties properties) {
    return new OnceEndpoint(
        stores.orderedStream().toList(),
        purgers.getIfAvailable(),
        properties.getAdmin().isShowOutcomes());
  }
}
