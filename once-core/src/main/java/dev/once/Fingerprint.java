package dev.once;

import dev.once.internal.Sha256;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * SHA-256 of the request or command a key was first used with. A retry with the same key and the
 * same fingerprint replays; the same key with another fingerprint is refused ({@link
 * ClaimResult.Mismatch}). The fingerprint is stored with the record and is never part of the lookup
 * key.
 *
 * <pre>{@code
 * Fingerprint fp = Fingerprint.of(requestBodyBytes);
 * Fingerprint parts = Fingerprint.builder().add("POST").add("/payments").add(body).build();
 * }</pre>
 */
public final class Fingerprint {

  /** Number of bytes in a fingerprint. */
  public static final int LENGTH = 32;

  private static final Fingerprint EMPTY = of(new byte[0]);

  private final byte[] bytes;

  private Fingerprint(byte[] bytes) {
    this.bytes = bytes;
  }

  /**
   * {@return the SHA-256 of {@code data}}
   *
   * @param data the bytes to hash; not {@code null}
   */
  public static Fingerprint of(byte[] data) {
    return new Fingerprint(Sha256.newDigest().digest(data));
  }

  /**
   * {@return the SHA-256 of the UTF-8 bytes of {@code text}}
   *
   * @param text the text to hash; not {@code null}
   */
  public static Fingerprint of(String text) {
    return of(text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * {@return the fingerprint of no bytes} For operations whose key alone identifies the command.
   */
  public static Fingerprint empty() {
    return EMPTY;
  }

  /**
   * A fingerprint read back from a store.
   *
   * @param digest the 32 digest bytes; copied
   * @return the fingerprint
   * @throws IllegalArgumentException if {@code digest} is not 32 bytes
   */
  public static Fingerprint fromDigest(byte[] digest) {
    if (digest == null || digest.length != LENGTH) {
      throw new IllegalArgumentException(
          "a fingerprint digest has "
              + LENGTH
              + " bytes, but got "
              + (digest == null ? "null" : digest.length));
    }
    return new Fingerprint(digest.clone());
  }

  /**
   * Parses the 64-character hex form of {@link #toHex()}.
   *
   * @param hex 64 hexadecimal characters, either case
   * @return the fingerprint
   * @throws IllegalArgumentException if {@code hex} is not 64 hexadecimal characters
   */
  public static Fingerprint fromHex(String hex) {
    return fromDigest(HexFormat.of().parseHex(hex));
  }

  /**
   * Fingerprints several parts; each part is length-prefixed so part boundaries cannot shift.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return the 32 digest bytes (a copy)} */
  public byte[] digest() {
    return bytes.clone();
  }

  /** {@return the digest as 64 lowercase hexadecimal characters} */
  public String toHex() {
    return Sha256.hex(bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Fingerprint other && MessageDigest.isEqual(bytes, other.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "Fingerprint[" + toHex().substring(0, 12) + "]";
  }

  /** Streams parts into one fingerprint. Not thread-safe; use once. */
  public static final class Builder {
    private final MessageDigest md = Sha256.newDigest();

    private Builder() {}

    /**
     * Adds {@code part} as UTF-8. Each part is length-prefixed, so {@code add("ab").add("c")} and
     * {@code add("a").add("bc")} differ.
     *
     * @param part not {@code null}
     * @return this builder
     */
    public Builder add(String part) {
      return add(part.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Adds all of {@code part}, length-prefixed.
     *
     * @param part not {@code null}
     * @return this builder
     */
    public Builder add(byte[] part) {
      return add(part, 0, part.length);
    }

    /**
     * Adds {@code length} bytes of {@code part} from {@code offset}, length-prefixed.
     *
     * @param part the bytes
     * @param offset the first byte to add
     * @param length how many bytes to add
     * @return this builder
     */
    public Builder add(byte[] part, int offset, int length) {
      md.update(ByteBuffer.allocate(8).putLong(length).array());
      md.update(part, offset, length);
      return this;
    }

    /** {@return the fingerprint of every part added, in order} Call once. */
    public Fingerprint build() {
      return new Fingerprint(md.digest());
    }
  }
}
