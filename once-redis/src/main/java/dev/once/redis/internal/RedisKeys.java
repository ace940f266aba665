package dev.once.redis.internal;

import dev.once.IdempotencyKey;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Names the Redis key of each record: {@code prefix + "{" + digestHex + "}"}. The braces are a
 * Redis Cluster hash tag, so everything of one record lives in one slot; inside them is only the
 * 64-character SHA-256 of (tenant, operation, key), so no character a caller puts in a key or
 * tenant ({@code {}, *, :} and the rest) ever reaches Redis, moves a record to another slot or
 * matches another scope's pattern.
 */
public final class RedisKeys {

  /** Longest accepted prefix, in characters. */
  public static final int MAX_PREFIX_LENGTH = 256;

  private static final int DIGEST_HEX_LENGTH = 64;

  private final byte[] prefix;

  public RedisKeys(String prefix) {
    checkPrefix(prefix);
    this.prefix = prefix.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Rejects a prefix that would break the key scheme.
   *
   * @throws IllegalArgumentException if it is null, too long, or holds a brace or a control
   *     character
   */
  public static void checkPrefix(String prefix) {
    if (prefix == null) {
      throw new IllegalArgumentException("keyPrefix must not be null");
    }
    if (prefix.length() > MAX_PREFIX_LENGTH) {
      throw new IllegalArgumentException(
          "keyPrefix must be at most "
              + MAX_PREFIX_LENGTH
              + " characters, but was "
              + prefix.length());
    }
    for (int i = 0; i < prefix.length(); i++) {
      char c = prefix.charAt(i);
      if (c == '{' || c == '}') {
        // A brace in the prefix would become the Redis Cluster hash tag and put every record in one
        // slot.
        throw new IllegalArgumentException(
            "keyPrefix must not contain '{' or '}', but was '" + prefix + "'");
      }
      if (Character.isISOControl(c)) {
        throw new IllegalArgumentException(
            "keyPrefix must not contain control characters (index " + i + ")");
      }
    }
  }

  /** The record's Redis key. */
  public byte[] recordKey(IdempotencyKey key) {
    return recordKey(key.digestHex());
  }

  byte[] recordKey(String digestHex) {
    byte[] hex = digestHex.getBytes(StandardCharsets.US_ASCII);
    byte[] k = Arrays.copyOf(prefix, prefix.length + hex.length + 2);
    k[prefix.length] = '{';
    System.arraycopy(hex, 0, k, prefix.length + 1, hex.length);
    k[k.length - 1] = '}';
    return k;
  }

  /**
   * A SCAN MATCH pattern for every record under the prefix: the prefix with glob characters
   * escaped, then {@code {*}}.
   */
  public byte[] scanPattern() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(prefix.length + 8);
    for (byte b : prefix) {
      // UTF-8 continuation bytes are >= 0x80, so escaping byte-wise never splits a character.
      if (b == '*' || b == '?' || b == '[' || b == ']' || b == '\\') {
        out.write('\\');
      }
      out.write(b);
    }
    out.write('{');
    out.write('*');
    return out.toByteArray();
  }

  /**
   * Whether a key that SCAN returned is exactly one of this prefix's record keys (and not something
   * else that matched).
   */
  public boolean isRecordKey(byte[] key) {
    if (key.length != prefix.length + DIGEST_HEX_LENGTH + 2
        || !Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length)
        || key[prefix.length] != '{'
        || key[key.length - 1] != '}') {
      return false;
    }
    for (int i = prefix.length + 1; i < key.length - 1; i++) {
      byte b = key[i];
      if (!(b >= '0' && b <= '9' || b >= 'a' && b <= 'f')) {
        return false;
      }
    }
    return true;
  }

  /** The prefix as configured. */
  public String prefix() {
    return new String(prefix, StandardCharsets.UTF_8);
  }
}
