package dev.once.redis.internal;

import dev.once.ClaimResult;
import dev.once.Outcome;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * Reads the scripts' replies. A reply that is not one the scripts give is an {@link
 * IllegalStateException}.
 */
public final class Replies {

  private Replies() {}

  /**
   * {@code {'A', token}}, {@code {'T', token}} (acquired by taking over an expired lease), {@code
   * {'C', outcome}}, {@code {'I', ms left}} or {@code {'M'}}, as claim.lua answers.
   */
  public static ClaimResult claim(List<Object> reply) {
    String kind =
        reply == null || reply.isEmpty() || !(reply.get(0) instanceof byte[] b)
            ? "?"
            : new String(b, StandardCharsets.US_ASCII);
    switch (kind) {
      case "A":
        return new ClaimResult.Acquired(number(reply, kind));
      case "T":
        return new ClaimResult.Acquired(number(reply, kind), true);
      case "C":
        if (reply.size() != 2 || !(reply.get(1) instanceof byte[] outcome)) {
          throw new IllegalStateException("a completed record without its outcome");
        }
        try {
          return new ClaimResult.Completed(Outcome.fromBytes(outcome));
        } catch (IllegalArgumentException e) {
          throw new IllegalStateException(
              "a completed record with a corrupt outcome: " + e.getMessage(), e);
        }
      case "I":
        return new ClaimResult.InProgress(Duration.ofMillis(Math.max(1, number(reply, kind))));
      case "M":
        return new ClaimResult.Mismatch();
      default:
        throw new IllegalStateException("unexpected claim reply " + describe(reply));
    }
  }

  /** {@code {1}} or {@code {0}}: whether complete, release, renew or purge changed the record. */
  public static boolean done(List<Object> reply) {
    if (reply == null
        || reply.size() != 1
        || !(reply.get(0) instanceof Long n)
        || (n != 0 && n != 1)) {
      throw new IllegalStateException("unexpected reply " + describe(reply));
    }
    return n == 1;
  }

  private static long number(List<Object> reply, String kind) {
    if (reply.size() != 2 || !(reply.get(1) instanceof Long n)) {
      throw new IllegalStateException("unexpected '" + kind + "' reply " + describe(reply));
    }
    return n;
  }

  private static String describe(List<Object> reply) {
    if (reply == null) {
      return "null";
    }
    StringBuilder sb = new StringBuilder("[");
    for (Object o : reply) {
      if (sb.length() > 1) {
        sb.append(", ");
      }
      sb.append(o instanceof byte[] b ? b.length + " bytes" : String.valueOf(o));
    }
    return sb.append(']').toString();
  }
}
