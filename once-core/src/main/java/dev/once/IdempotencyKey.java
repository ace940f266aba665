package dev.once;

import dev.once.internal.Sha256;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A validated key inside its {@link Scope}. Create one with {@link #of(Scope, String)} (the {@link
 * KeyPolicy#defaults() default policy}) or {@link KeyPolicy#key(Scope, String)}.
 *
 * <pre>{@code
 * IdempotencyKey key = IdempotencyKey.of(Scope.of("alice", "POST /payments"), "8e03978e-40d5-43e8");
 * }</pre>
 *
 * <p>Stores look records up by {@link #digest()}, never by the raw string: the raw key is not
 * written to a store and {@link #toString()} does not show it.
 */
public final class IdempotencyKey {

  private static final byte[] DOMAIN = "once/key/v1".getBytes(StandardCharsets.US_ASCII);

  private final Scope scope;
  private final String value;
  private volatile byte @Nullable [] digest;

  IdempotencyKey(Scope scope, String value) {
    this.scope = scope;
    this.value = value;
  }

  /**
   * Validates {@code value} with {@link KeyPolicy#defaults()}.
   *
   * @param scope the tenant and operation the key belongs to
   * @param value the raw key, such as an {@code Idempotency-Key} header
   * @return the validated key
   * @throws InvalidKeyException if the value is not acceptable
   */
  public static IdempotencyKey of(Scope scope, String value) {
    return KeyPolicy.defaults().key(scope, value);
  }

  /** {@return the scope the key lives in} */
  public Scope scope() {
    return scope;
  }

  /** {@return the raw key as the caller sent it} Treat it as sensitive: do not log it. */
  public String value() {
    return value;
  }

  /**
   * SHA-256 over the tenant, the operation and the key, each UTF-8 encoded behind its 4-byte
   * length, after a version tag. Length prefixes make the encoding injective, so {@code ("a",
   * "b:c")} and {@code ("a:b", "c")} differ whatever delimiters, glob characters or braces the
   * parts hold; the hash keeps lookups fixed-size and the raw key out of the store.
   *
   * @return the 32 digest bytes (a copy)
   */
  public byte[] digest() {
    byte[] d = digest;
    if (d == null) {
      MessageDigest md = Sha256.newDigest();
      md.update(DOMAIN);
      update(md, scope.tenant());
      update(md, scope.operation());
      update(md, value);
      d = md.digest();
      digest = d;
    }
    return d.clone();
  }

  /** {@return the digest in lowercase hex, 64 characters} Safe to log and usable as a store key. */
  public String digestHex() {
    return Sha256.hex(digest());
  }

  private static void update(MessageDigest md, String part) {
    byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
    md.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
    md.update(bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IdempotencyKey other
        && scope.equals(other.scope)
        && value.equals(other.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(scope, value);
  }

  /** Shows the scope and a digest prefix, never the raw key. */
  @Override
  public String toString() {
    return "IdempotencyKey[" + scope + ", digest=" + digestHex().substring(0, 12) + "]";
  }
}
