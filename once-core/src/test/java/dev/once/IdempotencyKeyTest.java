package dev.once;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class IdempotencyKeyTest {

  private static String hex(IdempotencyKey key) {
    return HexFormat.of().formatHex(key.digest());
  }

  @Test
  void digestIsInjectiveWhereANaiveConcatenationCollides() {
    List<IdempotencyKey> keys =
        List.of(
            IdempotencyKey.of(Scope.of("a", "op"), "b:c"),
            IdempotencyKey.of(Scope.of("a:b", "op"), "c"),
            IdempotencyKey.of(Scope.of("a", "b:c"), "k"),
            IdempotencyKey.of(Scope.of("a:b", "c"), "k"),
            IdempotencyKey.of(Scope.of("x", "y"), "k"),
            IdempotencyKey.of(Scope.of("y", "x"), "k"),
            IdempotencyKey.of(Scope.of("ab", "c"), "d"),
            IdempotencyKey.of(Scope.of("a", "bc"), "d"),
            IdempotencyKey.of(Scope.of("a", "b"), "cd"),
            IdempotencyKey.of(Scope.of("t", "op-1"), "k"),
            IdempotencyKey.of(Scope.of("t", "op-2"), "k"),
            IdempotencyKey.of(Scope.global("op"), "k"),
            IdempotencyKey.of(Scope.of("op", "k"), "k"));
    assertAllDistinct(keys);
  }

  @Test
  void digestDistinguishesSpecialCharacters() {
    Scope scope = Scope.of("t", "op");
    List<IdempotencyKey> keys = new ArrayList<>();
    for (String value :
        List.of(
            "*",
            "?",
            "[a]",
            "{x}",
            "{}",
            "a%",
            "a_",
            "a",
            "A",
            "a ",
            "'; DROP TABLE x; --",
            "\\",
            "a b",
            ":",
            "::",
            "%",
            "_")) {
      keys.add(IdempotencyKey.of(scope, value));
    }
    assertAllDistinct(keys);
  }

  private static void assertAllDistinct(List<IdempotencyKey> keys) {
    Set<String> digests = new HashSet<>();
    for (IdempotencyKey key : keys) {
      assertThat(digests.add(hex(key))).as("digest of %s is unique", key).isTrue();
      for (IdempotencyKey other : keys) {
        if (other != key) {
          assertThat(key).isNotEqualTo(other);
        }
      }
    }
  }

  @Test
  void globalScopeAndEmptyTenantAreTheSameKey() {
    IdempotencyKey global = IdempotencyKey.of(Scope.global("op"), "k");
    IdempotencyKey empty = IdempotencyKey.of(Scope.of("", "op"), "k");
    assertThat(global).isEqualTo(empty).hasSameHashCodeAs(empty);
    assertThat(global.digest()).isEqualTo(empty.digest());
  }

  @Test
  void equalKeysHaveEqualDigests() {
    IdempotencyKey a = IdempotencyKey.of(Scope.of("alice", "charge"), "r-1");
    IdempotencyKey b = IdempotencyKey.of(Scope.of("alice", "charge"), "r-1");
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    assertThat(a.digestHex()).isEqualTo(b.digestHex());
  }

  @Test
  void digestMatchesTheDocumentedEncoding() throws Exception {
    // Pinned: changing the encoding would orphan every record already stored.
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    md.update("once/key/v1".getBytes(StandardCharsets.US_ASCII));
    for (String part : List.of("älice", "POST /payments", "r-1")) {
      byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
      md.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
      md.update(bytes);
    }
    byte[] expected = md.digest();

    IdempotencyKey key = IdempotencyKey.of(Scope.of("älice", "POST /payments"), "r-1");
    assertThat(key.digest()).isEqualTo(expected);
    assertThat(key.digestHex())
        .isEqualTo(HexFormat.of().formatHex(expected))
        .hasSize(64)
        .matches("[0-9a-f]{64}");
  }

  @Test
  void digestReturnsACopy() {
    IdempotencyKey key = IdempotencyKey.of(Scope.of("t", "op"), "k");
    byte[] first = key.digest();
    byte[] original = first.clone();
    first[0] ^= 0x55;
    assertThat(key.digest()).hasSize(32).isEqualTo(original);
  }

  @Test
  void toStringNeverShowsTheRawKey() {
    String secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
    IdempotencyKey key = IdempotencyKey.of(Scope.of("alice", "charge"), secret);
    assertThat(key.toString())
        .doesNotContain(secret)
        .doesNotContain("sk_live")
        .contains("alice", "charge", key.digestHex().substring(0, 12));
    assertThat(key.value()).isEqualTo(secret);
  }
}
