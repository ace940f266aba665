package dev.once.examples.payments;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.redis.RedisIdempotencyStore;
import dev.once.spring.boot.TransactionalExchangeBoundary;
import dev.once.testkit.servers.TestRedis;
import dev.once.testkit.servers.TestServers;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The payments API with the keys in Redis ({@code once.store=redis}) and the payments in H2: lease
 * mode, since a Redis record cannot commit with the database transaction.
 */
class RedisPaymentsIT extends PaymentsApiContract {

  private final String prefix = "payments-it-" + UUID.randomUUID() + ":";
  private RedisClient client;
  private StatefulRedisConnection<String, String> connection;

  @Override
  PaymentsApp start(ScriptedProcessor processor) {
    TestRedis redis = TestServers.redis();
    client = RedisClient.create(redis.uri());
    connection = client.connect();
    Map<String, String> properties =
        new LinkedHashMap<>(PaymentsApp.h2("payments-" + UUID.randomUUID()));
    properties.put("once.store", "redis");
    properties.put("once.redis.url", redis.uri());
    properties.put("once.redis.key-prefix", prefix);
    return PaymentsApp.start(processor, properties);
  }

  @Override
  long storedRecords() {
    return connection.sync().keys(prefix + "*").size();
  }

  @Test
  void theStoreIsRedisInLeaseMode() {
    assertThat(app.context.getBean(RedisIdempotencyStore.class).keyPrefix()).isEqualTo(prefix);
    assertThat(app.context.getBeansOfType(TransactionalExchangeBoundary.class)).isEmpty();
  }

  @AfterAll
  void cleanUp() {
    if (connection != null) {
      var keys = connection.sync().keys(prefix + "*");
      if (!keys.isEmpty()) {
        connection.sync().del(keys.toArray(String[]::new));
      }
      connection.close();
      client.shutdown();
    }
  }
}
