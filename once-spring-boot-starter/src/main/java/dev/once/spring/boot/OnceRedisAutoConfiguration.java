package dev.once.spring.boot;

import dev.once.IdempotencyStore;
import dev.once.redis.RedisIdempotencyStore;
import io.lettuce.core.RedisURI;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * The Redis store ({@code once.store=redis}), when {@code dev.once:once-redis} is on the class
 * path. Redis stores run in lease mode: there is no transaction to share with the handler's writes.
 */
@AutoConfiguration
@ConditionalOnClass({RedisIdempotencyStore.class, RedisURI.class})
@ConditionalOnProperty(prefix = "once", name = "store", havingValue = "redis")
@EnableConfigurationProperties(OnceProperties.class)
public class OnceRedisAutoConfiguration {

  /**
   * The Redis store, unless the application defines an {@link IdempotencyStore}. Connects at
   * start-up (and fails it if Redis does not answer); closed with the context.
   *
   * @param properties {@code once.redis.*} configures it
   * @return the store
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean(IdempotencyStore.class)
  public RedisIdempotencyStore onceIdempotencyStore(OnceProperties properties) {
    OnceRedisProperties redis = properties.getRedis();
    return RedisIdempotencyStore.builder(RedisURI.create(redis.getUrl()))
        .keyPrefix(redis.getKeyPrefix())
        .commandTimeout(redis.getCommandTimeout())
        .build();
  }
}
