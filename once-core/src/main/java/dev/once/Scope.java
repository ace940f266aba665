package dev.once;

import java.util.Objects;

/**
 * Where a key lives: the tenant or principal that sent it, plus the operation it protects. The same
 * key string in two scopes names two unrelated records, and no choice of characters can make two
 * different (tenant, operation, key) triples collide; see {@link IdempotencyKey#digest()}.
 *
 * <pre>{@code
 * Scope scope = Scope.of("alice", "POST /payments");
 * Scope shared = Scope.global("invoice-export");   // no tenant
 * }</pre>
 *
 * @param tenant the tenant or principal; empty for keys shared by every caller. Never {@code null}.
 * @param operation the protected operation, e.g. a route or a consumer name; not empty.
 */
public record Scope(String tenant, String operation) {

  /** Longest tenant or operation name accepted, in characters. */
  public static final int MAX_PART_LENGTH = 1024;

  /**
   * Checks both parts: not {@code null}, at most {@link #MAX_PART_LENGTH} characters, and a
   * non-empty operation (the tenant may be empty).
   *
   * @param tenant the tenant or principal; may be empty
   * @param operation the protected operation; not empty
   * @throws InvalidKeyException if a part is {@code null}, too long or holds a control character,
   *     or the operation is empty
   */
  public Scope {
    check("tenant", tenant, true);
    check("operation", operation, false);
  }

  /**
   * A scope for one tenant or principal.
   *
   * @param tenant the tenant or principal; may be empty
   * @param operation the protected operation; not empty
   * @return the scope
   * @throws InvalidKeyException as the constructor does
   */
  public static Scope of(String tenant, String operation) {
    return new Scope(tenant, operation);
  }

  /**
   * A scope with no tenant: every caller shares the keys of this operation.
   *
   * @param operation the protected operation; not empty
   * @return the scope
   * @throws InvalidKeyException as the constructor does
   */
  public static Scope global(String operation) {
    return new Scope("", operation);
  }

  private static void check(String part, String value, boolean mayBeEmpty) {
    if (value == null) {
      throw new InvalidKeyException(
          InvalidKeyException.Reason.MISSING, "scope " + part + " must not be null", null);
    }
    if (!mayBeEmpty && value.isEmpty()) {
      throw new InvalidKeyException(
          InvalidKeyException.Reason.EMPTY, "scope " + part + " must not be empty", null);
    }
    if (value.length() > MAX_PART_LENGTH) {
      throw new InvalidKeyException(
          InvalidKeyException.Reason.TOO_LONG,
          "scope "
              + part
              + " must be at most "
              + MAX_PART_LENGTH
              + " characters, but was "
              + value.length(),
          null);
    }
    for (int i = 0; i < value.length(); i++) {
      if (Character.isISOControl(value.charAt(i))) {
        throw new InvalidKeyException(
            InvalidKeyException.Reason.CONTROL_CHARACTER,
            "scope " + part + " contains a control character at index " + i,
            null);
      }
    }
    Objects.requireNonNull(value);
  }

  @Override
  public String toString() {
    return tenant.isEmpty()
        ? "scope[" + operation + "]"
        : "scope[" + tenant + " / " + operation + "]";
  }
}
