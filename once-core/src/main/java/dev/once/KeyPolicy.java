package dev.once;

import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Which key strings are accepted. Immutable; build one with {@link #builder()} or use {@link
 * #defaults()}: 1 to 255 characters of visible or space ASCII, no control characters.
 *
 * <pre>{@code
 * KeyPolicy uuids = KeyPolicy.builder()
 *     .minLength(36).maxLength(36)
 *     .pattern("[0-9a-f-]{36}")
 *     .build();
 * IdempotencyKey key = uuids.key(Scope.of("alice", "POST /payments"), header);
 * }</pre>
 *
 * <p>Validation happens before any store is asked, and every rejection is an {@link
 * InvalidKeyException} whose {@link InvalidKeyException#reason() reason} says why. The raw key
 * never appears in the message.
 */
public final class KeyPolicy {

  /** Default longest key, in characters. */
  public static final int DEFAULT_MAX_LENGTH = 255;

  private static final KeyPolicy DEFAULTS = builder().build();

  private final int minLength;
  private final int maxLength;
  private final boolean allowNonAscii;
  private final @Nullable Pattern pattern;

  private KeyPolicy(Builder b) {
    this.minLength = b.minLength;
    this.maxLength = b.maxLength;
    this.allowNonAscii = b.allowNonAscii;
    this.pattern = b.pattern;
  }

  /** {@return the default policy: 1 to 255 ASCII characters, no control characters, no pattern} */
  public static KeyPolicy defaults() {
    return DEFAULTS;
  }

  /** {@return a new builder starting from {@link #defaults()}} */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return a new builder starting from this policy's settings} */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.minLength = minLength;
    b.maxLength = maxLength;
    b.allowNonAscii = allowNonAscii;
    b.pattern = pattern;
    return b;
  }

  /** {@return the shortest key accepted, in characters} */
  public int minLength() {
    return minLength;
  }

  /** {@return the longest key accepted, in characters} */
  public int maxLength() {
    return maxLength;
  }

  /** {@return whether keys may contain non-ASCII characters} */
  public boolean allowNonAscii() {
    return allowNonAscii;
  }

  /**
   * Validates {@code value} and returns the key it names in {@code scope}.
   *
   * @param scope the tenant and operation the key belongs to; not {@code null}
   * @param value the raw key; {@code null} is rejected with {@link
   *     InvalidKeyException.Reason#MISSING}
   * @return the validated key
   * @throws NullPointerException if {@code scope} is {@code null}
   * @throws InvalidKeyException if the value is null, empty, too short or long, contains a control
   *     character, contains non-ASCII while that is not allowed, contains an unpaired surrogate, or
   *     misses the pattern
   */
  public IdempotencyKey key(Scope scope, String value) {
    Objects.requireNonNull(scope, "scope");
    validate(scope, value);
    return new IdempotencyKey(scope, value);
  }

  private void validate(Scope scope, String value) {
    if (value == null) {
      throw invalid(InvalidKeyException.Reason.MISSING, "idempotency key is missing", scope);
    }
    if (value.isEmpty()) {
      throw invalid(InvalidKeyException.Reason.EMPTY, "idempotency key is empty", scope);
    }
    int length = value.codePointCount(0, value.length());
    if (length > maxLength) {
      throw invalid(
          InvalidKeyException.Reason.TOO_LONG,
          "idempotency key must be at most " + maxLength + " characters, but was " + length,
          scope);
    }
    if (length < minLength) {
      throw invalid(
          InvalidKeyException.Reason.TOO_SHORT,
          "idempotency key must be at least " + minLength + " characters, but was " + length,
          scope);
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isISOControl(c)) {
        throw invalid(
            InvalidKeyException.Reason.CONTROL_CHARACTER,
            "idempotency key contains control character U+"
                + String.format("%04X", (int) c)
                + " at index "
                + i,
            scope);
      }
      if (c > 0x7E) {
        if (!allowNonAscii) {
          throw invalid(
              InvalidKeyException.Reason.NON_ASCII,
              "idempotency key contains a non-ASCII character at index "
                  + i
                  + " (allowNonAscii is off)",
              scope);
        }
        if (Character.isHighSurrogate(c)
            && i + 1 < value.length()
            && Character.isLowSurrogate(value.charAt(i + 1))) {
          i++;
        } else if (Character.isSurrogate(c)) {
          throw invalid(
              InvalidKeyException.Reason.MALFORMED_UNICODE,
              "idempotency key contains an unpaired surrogate at index " + i,
              scope);
        }
      }
    }
    if (pattern != null && !pattern.matcher(value).matches()) {
      throw invalid(
          InvalidKeyException.Reason.PATTERN_MISMATCH,
          "idempotency key does not match the required pattern " + pattern.pattern(),
          scope);
    }
  }

  private static InvalidKeyException invalid(
      InvalidKeyException.Reason reason, String message, @Nullable Scope scope) {
    return new InvalidKeyException(reason, message + " in " + scope, scope);
  }

  @Override
  public String toString() {
    return "KeyPolicy[length "
        + minLength
        + ".."
        + maxLength
        + ", nonAscii="
        + allowNonAscii
        + (pattern == null ? "" : ", pattern=" + pattern.pattern())
        + "]";
  }

  /** Builds a {@link KeyPolicy}; every setter rejects a bad value at once. */
  public static final class Builder {
    private int minLength = 1;
    private int maxLength = DEFAULT_MAX_LENGTH;
    private boolean allowNonAscii;
    private @Nullable Pattern pattern;

    private Builder() {}

    /**
     * Shortest accepted key, in characters. Default 1.
     *
     * @param minLength at least 1
     * @return this builder
     * @throws IllegalArgumentException if {@code minLength} is less than 1
     */
    public Builder minLength(int minLength) {
      if (minLength < 1) {
        throw new IllegalArgumentException("minLength must be at least 1, but was " + minLength);
      }
      this.minLength = minLength;
      return this;
    }

    /**
     * Longest accepted key, in characters. Default 255.
     *
     * @param maxLength 1 to 4096
     * @return this builder
     * @throws IllegalArgumentException if {@code maxLength} is outside 1 to 4096
     */
    public Builder maxLength(int maxLength) {
      if (maxLength < 1 || maxLength > 4096) {
        throw new IllegalArgumentException(
            "maxLength must be between 1 and 4096, but was " + maxLength);
      }
      this.maxLength = maxLength;
      return this;
    }

    /**
     * Whether characters above U+007E are accepted (control characters never are). Default false.
     *
     * @param allowNonAscii whether to accept them
     * @return this builder
     */
    public Builder allowNonAscii(boolean allowNonAscii) {
      this.allowNonAscii = allowNonAscii;
      return this;
    }

    /**
     * A regular expression the whole key must match. Default none.
     *
     * @param regex a {@link Pattern} expression, or {@code null} for none
     * @return this builder
     * @throws java.util.regex.PatternSyntaxException if {@code regex} is not a valid expression
     */
    public Builder pattern(@Nullable String regex) {
      this.pattern = regex == null ? null : Pattern.compile(regex);
      return this;
    }

    /**
     * Builds the policy.
     *
     * @return the policy with these settings
     * @throws IllegalArgumentException if the minimum length exceeds the maximum
     */
    public KeyPolicy build() {
      if (minLength > maxLength) {
        throw new IllegalArgumentException(
            "minLength " + minLength + " exceeds maxLength " + maxLength);
      }
      return new KeyPolicy(this);
    }
  }
}
