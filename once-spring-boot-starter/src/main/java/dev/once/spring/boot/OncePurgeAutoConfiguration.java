package dev.once.spring.boot;

import dev.once.IdempotencyStore;
import dev.once.Purger;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Purges expired records from every {@link IdempotencyStore} bean in the background ({@link
 * OncePurgers}), so that neither the HTTP records nor the inbox markers (which share the store's
 * table) grow without bound. On by default and safe on every instance at once; {@code
 * once.purge.enabled=false} turns it off. Every {@link Purger.Listener} bean (with once-micrometer,
 * {@code MicrometerOnceListener} is one: the purge meters) hears every batch, purge and failure.
 */
@AutoConfiguration(
    after = {
      OnceJdbcAutoConfiguration.class,
      OnceRedisAutoConfiguration.class,
      OnceInMemoryAutoConfiguration.class
    })
@ConditionalOnBean(IdempotencyStore.class)
@ConditionalOnProperty(
    prefix = "once.purge",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
@EnableConfigurationProperties(OnceProperties.class)
public class OncePurgeAutoConfiguration {

  /**
   * One purger per store, started with the context, unless the application defines its own {@link
   * OncePurgers}.
   *
   * @param stores every IdempotencyStore bean
   * @param listeners the {@link Purger.Listener} beans, all told
   * @param properties {@code once.purge.*}
   * @return the purgers, started with the context
   * @throws IllegalArgumentException if a setting is out of range, naming it
   */
  @Bean
  @ConditionalOnMissingBean
  public OncePurgers oncePurgers(
      ObjectProvider<IdempotencyStore> stores,
      ObjectProvider<Purger.Listener> listeners,
      OnceProperties properties) {
    OncePurgeProperties purge = properties.getPurge();
    Purger.Listener listener = allOf(listeners.orderedStream().toList());
    // Built once here, so that a bad setting fails the start-up rather than the context's start().
    purgers(stores.orderedStream().toList(), listener, purge);
    return new OncePurgers(() -> purgers(stores.orderedStream().toList(), listener, purge));
  }

  private static Purger.Listener allOf(List<Purger.Listener> listeners) {
    if (listeners.isEmpty()) {
      return Purger.Listener.NONE;
    }
    return listeners.size() == 1
        ? listeners.get(0)
        : new Purger.Listener() {
          @Override
          public void onBatch(String purger, int deleted) {
            listeners.forEach(l -> l.onBatch(purger, deleted));
          }

          @Override
          public void onPurge(String purger, int batches, int deleted) {
            listeners.forEach(l -> l.onPurge(purger, batches, deleted));
          }

          @Override
          public void onFailure(String purger, RuntimeException failure) {
            listeners.forEach(l -> l.onFailure(purger, failure));
          }
        };
  }

  private static List<Purger> purgers(
      List<IdempotencyStore> stores, Purger.Listener listener, OncePurgeProperties purge) {
    return stores.stream()
        .map(
            store ->
                Purger.builder(store)
                    .interval(purge.getInterval())
                    .batchSize(purge.getBatchSize())
                    .pause(purge.getPause())
                    .listener(listener)
                    .build())
        .toList();
  }
}
