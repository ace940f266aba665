package dev.once.redis.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.IdempotencyKey;
import dev.once.Scope;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RedisKeysTest {

  private static final Pattern RECORD_KEY = Pattern.compile("once:\\{[0-9a-f]{64}}");

  private final RedisKeys keys = new RedisKeys("once:");

  @Test
  void recordKeyIsPrefixThenTheDigestInsideOneHashTag() {
    IdempotencyKey key =
        IdempotencyKey.of(Scope.of("alice", "POST /payments"), "8e03978e-40d5-43e8");

    String redisKey = text(keys.recordKey(key));

    assertThat(redisKey).isEqualTo("once:{" + key.digestHex() + "}");
    assertThat(keys.isRecordKey(keys.recordKey(key))).isTrue();
  }

  @Test
  void bracesGlobsAndColonsInKeysAndTenantsNeverReachTheRedisKey() {
    List<String> nasty =
        List.of(
            "{",
            "}",
            "{x}",
            "*",
            "a*b",
            ":",
            "a:b:c",
            "once:{",
            "}{",
            "[a-z]",
            "?",
            "\\",
            "{" + "0".repeat(64) + "}",
            "ключ",
            "😀");
    Set<String> seen = new HashSet<>();
    for (String part : nasty) {
      for (IdempotencyKey key :
          List.of(
              IdempotencyKey.of(Scope.of(part, "op"), "k"),
              IdempotencyKey.of(Scope.of("t", "op" + part), "k"),
              IdempotencyKey.of(
                  Scope.of("t", "op"),
                  part.chars().allMatch(c -> c < 0x7F) ? part : "ascii-" + part.length()))) {
        String redisKey = text(keys.recordKey(key));
        assertThat(redisKey).as("Redis key for %s", part).matches(RECORD_KEY);
        // Exactly one hash tag, so Redis Cluster hashes only the digest.
        assertThat(redisKey.indexOf('{')).isEqualTo("once:".length());
        assertThat(redisKey.indexOf('}')).isEqualTo(redisKey.length() - 1);
        assertThat(seen.add(redisKey)).as("distinct key for %s", key).isTrue();
      }
    }
  }

  @Test
  void theScanPatternEscapesGlobCharactersOfThePrefix() {
    assertThat(text(new RedisKeys("once:").scanPattern())).isEqualTo("once:{*");
    assertThat(text(new RedisKeys("app*[1]?\\:").scanPattern()))
        .isEqualTo("app\\*\\[1\\]\\?\\\\:{*");
    assertThat(text(new RedisKeys("").scanPattern())).isEqualTo("{*");
    assertThat(text(new RedisKeys("café:").scanPattern())).isEqualTo("café:{*");
  }

  @Test
  void onlyExactRecordKeysOfThePrefixAreRecognised() {
    String hex = "0123456789abcdef".repeat(4);
    assertThat(keys.isRecordKey(bytes("once:{" + hex + "}"))).isTrue();
    assertThat(keys.isRecordKey(bytes("once:{" + hex + "}x"))).isFalse();
    assertThat(keys.isRecordKey(bytes("once:{" + hex.toUpperCase() + "}"))).isFalse();
    assertThat(keys.isRecordKey(bytes("once:{" + hex.substring(1) + "}"))).isFalse();
    assertThat(keys.isRecordKey(bytes("once:{" + hex.substring(1) + "g}"))).isFalse();
    assertThat(keys.isRecordKey(bytes("twice{" + hex + "}"))).isFalse();
    assertThat(keys.isRecordKey(bytes("once:[" + hex + "]"))).isFalse();
    assertThat(keys.isRecordKey(bytes("once:{user-data}"))).isFalse();
    assertThat(new RedisKeys("once:x:").isRecordKey(bytes("once:{" + hex + "}"))).isFalse();
  }

  @Test
  void aPrefixThatWouldBreakTheSchemeIsRejected() {
    assertThatThrownBy(() -> new RedisKeys("once:{tenant}:"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("keyPrefix must not contain '{' or '}', but was 'once:{tenant}:'");
    assertThatThrownBy(() -> new RedisKeys("}")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new RedisKeys("a\nb"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("control");
    assertThatThrownBy(() -> new RedisKeys("x".repeat(257)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 256");
    assertThatThrownBy(() -> new RedisKeys(null)).isInstanceOf(IllegalArgumentException.class);
    assertThat(new RedisKeys("x".repeat(256)).prefix()).hasSize(256);
  }

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
