package dev.once;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The stored result of a completed execution: body bytes, a content type and string attributes (for
 * example an HTTP status and headers). Replays get it back byte for byte. Immutable.
 *
 * <pre>{@code
 * Outcome outcome = Outcome.builder()
 *     .contentType("application/json")
 *     .attribute("status", "201")
 *     .body(json)
 *     .build();
 * }</pre>
 *
 * <p>Stores persist it as one opaque value, {@link #toBytes()}, so a store never needs to
 * understand it.
 */
public final class Outcome {

  private static final byte FORMAT_VERSION = 1;
  private static final Outcome EMPTY = builder().build();

  private final String contentType;
  private final Map<String, String> attributes;
  private final byte[] body;

  private Outcome(String contentType, Map<String, String> attributes, byte[] body) {
    this.contentType = contentType;
    this.attributes = attributes;
    this.body = body;
  }

  /**
   * No body, no content type, no attributes: the outcome of an action whose completion is all that
   * matters.
   *
   * @return the empty outcome
   */
  public static Outcome empty() {
    return EMPTY;
  }

  /**
   * An outcome with a content type and a body, no attributes.
   *
   * @param contentType not {@code null}; may be empty
   * @param body not {@code null}; copied
   * @return the outcome
   */
  public static Outcome of(String contentType, byte[] body) {
    return builder().contentType(contentType).body(body).build();
  }

  /** {@return a new builder, starting from an empty outcome} */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return the content type} The empty string when none was set; never {@code null}. */
  public String contentType() {
    return contentType;
  }

  /** {@return the attributes in insertion order, unmodifiable} */
  public Map<String, String> attributes() {
    return attributes;
  }

  /**
   * {@return the attribute's value, or {@code null} if there is none}
   *
   * @param name the attribute's name
   */
  public @Nullable String attribute(String name) {
    return attributes.get(name);
  }

  /** {@return the body (a copy)} */
  public byte[] body() {
    return body.clone();
  }

  /** {@return the body's length in bytes} Cheaper than {@code body().length}: no copy. */
  public int bodyLength() {
    return body.length;
  }

  /** {@return the serialized form stores persist} {@link #fromBytes(byte[])} reads it back. */
  public byte[] toBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(body.length + 64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(FORMAT_VERSION);
      writeString(out, contentType);
      out.writeInt(attributes.size());
      for (Map.Entry<String, String> e : attributes.entrySet()) {
        writeString(out, e.getKey());
        writeString(out, e.getValue());
      }
      out.writeInt(body.length);
      out.write(body);
    } catch (IOException e) {
      throw new IllegalStateException("in-memory write failed", e);
    }
    return bytes.toByteArray();
  }

  /**
   * Reads the form written by {@link #toBytes()}.
   *
   * @param data what {@link #toBytes()} wrote
   * @return the outcome
   * @throws IllegalArgumentException if the bytes are not a stored outcome (truncated, another
   *     version)
   */
  public static Outcome fromBytes(byte[] data) {
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data))) {
      byte version = in.readByte();
      if (version != FORMAT_VERSION) {
        throw new IllegalArgumentException("unknown stored outcome format version " + version);
      }
      Builder b = builder().contentType(readString(in));
      int n = in.readInt();
      for (int i = 0; i < n; i++) {
        b.attribute(readString(in), readString(in));
      }
      int length = in.readInt();
      if (length < 0 || length > data.length) {
        throw new IllegalArgumentException("stored outcome has a corrupt body length " + length);
      }
      b.body = in.readNBytes(length);
      if (b.body.length != length || in.read() != -1) {
        throw new IllegalArgumentException("stored outcome is truncated or has trailing bytes");
      }
      return b.build();
    } catch (IOException e) {
      throw new IllegalArgumentException("stored outcome is truncated", e);
    }
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static String readString(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > in.available()) {
      throw new IllegalArgumentException("stored outcome has a corrupt string length " + n);
    }
    return new String(in.readNBytes(n), StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Outcome other
        && contentType.equals(other.contentType)
        && attributes.equals(other.attributes)
        && Arrays.equals(body, other.body);
  }

  @Override
  public int hashCode() {
    return Objects.hash(contentType, attributes, Arrays.hashCode(body));
  }

  @Override
  public String toString() {
    return "Outcome["
        + (contentType.isEmpty() ? "" : contentType + ", ")
        + attributes
        + ", "
        + body.length
        + " bytes]";
  }

  /** Builds an {@link Outcome}. */
  public static final class Builder {
    private String contentType = "";
    private final Map<String, String> attributes = new LinkedHashMap<>();
    private byte[] body = new byte[0];

    private Builder() {}

    /**
     * The content type. Default: the empty string.
     *
     * @param contentType not {@code null}
     * @return this builder
     */
    public Builder contentType(String contentType) {
      this.contentType = Objects.requireNonNull(contentType, "contentType");
      return this;
    }

    /**
     * Adds or replaces an attribute. Attributes keep their insertion order.
     *
     * @param name not {@code null}
     * @param value not {@code null}
     * @return this builder
     */
    public Builder attribute(String name, String value) {
      attributes.put(
          Objects.requireNonNull(name, "attribute name"),
          Objects.requireNonNull(value, "attribute value"));
      return this;
    }

    /**
     * The body. Default: no bytes.
     *
     * @param body not {@code null}; copied
     * @return this builder
     */
    public Builder body(byte[] body) {
      this.body = Objects.requireNonNull(body, "body").clone();
      return this;
    }

    /**
     * The body, as UTF-8.
     *
     * @param utf8 not {@code null}
     * @return this builder
     */
    public Builder body(String utf8) {
      this.body = utf8.getBytes(StandardCharsets.UTF_8);
      return this;
    }

    /** {@return the outcome with these settings} */
    public Outcome build() {
      return new Outcome(
          contentType, Collections.unmodifiableMap(new LinkedHashMap<>(attributes)), body);
    }
  }
}
