package dev.once.kafka;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Two fake external APIs whose calls are recorded in Redis (so they survive the caller's SIGKILL
 * and are countable): {@link #call} does whatever it is asked, every call an effect; {@link
 * #callIdempotent} dedupes by idempotency key, as a payment API with an {@code Idempotency-Key}
 * header does (a repeated key has no second effect).
 */
final class FakeApi implements AutoCloseable {

  private static final String DEDUPE =
      "if redis.call('SET', KEYS[1], ARGV[1], 'NX') then"
          + " redis.call('RPUSH', KEYS[2], ARGV[2]) return 1 end return 0";

  private final RedisClient client;
  private final StatefulRedisConnection<String, String> connection;
  private final RedisCommands<String, String> redis;
  private final String prefix;

  FakeApi(String redisUri, String prefix) {
    this.client = RedisClient.create(redisUri);
    this.connection = client.connect();
    this.redis = connection.sync();
    this.prefix = "once-kafka-it:" + prefix + ":api:";
  }

  /** A call with an effect every time. */
  void call(String messageId, long token) {
    redis.rpush(prefix + "raw", messageId + " " + token);
  }

  /** A call deduplicated by {@code key}: only the first call with a key has an effect. */
  boolean callIdempotent(String key, String messageId, long token) {
    Long applied =
        redis.eval(
            DEDUPE,
            ScriptOutputType.INTEGER,
            new String[] {prefix + "key:" + key, prefix + "deduped"},
            Long.toString(token),
            messageId + " " + token);
    return applied != null && applied == 1;
  }

  /** The tokens of every effect of {@link #call}, by message id, in call order. */
  Map<String, List<Long>> raw() {
    return effects(prefix + "raw");
  }

  /** The tokens of every effect of {@link #callIdempotent}, by message id. */
  Map<String, List<Long>> deduped() {
    return effects(prefix + "deduped");
  }

  private Map<String, List<Long>> effects(String list) {
    Map<String, List<Long>> by = new LinkedHashMap<>();
    for (String e : redis.lrange(list, 0, -1)) {
      int space = e.lastIndexOf(' ');
      by.computeIfAbsent(e.substring(0, space), k -> new ArrayList<>())
          .add(Long.parseLong(e.substring(space + 1)));
    }
    return by;
  }

  /**
   * Deletes this test's keys: the API's and the idempotency store's ({@code
   * once-kafka-it:<prefix>:*}).
   */
  void deleteAll() {
    List<String> keys = redis.keys(prefix.substring(0, prefix.length() - "api:".length()) + "*");
    if (!keys.isEmpty()) {
      redis.del(keys.toArray(String[]::new));
    }
  }

  @Override
  public void close() {
    connection.close();
    client.shutdown();
  }
}
