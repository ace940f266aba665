package dev.once.kafka;

import java.util.HashMap;
import java.util.Map;

/**
 * Crash-test hooks, off unless the system property {@value #PROPERTY} names them: a comma-separated
 * list of {@code point:action}, e.g. {@code
 * -Donce.failpoints=kafka.after-commit-before-offset-commit:halt}.
 *
 * <p>Points: {@value #AFTER_POLL} (a non-empty batch was polled, nothing claimed yet), {@value
 * #AFTER_CLAIM} (the batch's ids are claimed, no handler ran), {@value #AFTER_EFFECT_BEFORE_COMMIT}
 * (every handler ran, the transaction is still open), {@value #AFTER_COMMIT_BEFORE_OFFSET_COMMIT}
 * (the batch committed, the offsets are not yet committed to Kafka); for {@link
 * KafkaLeaseConsumer}: {@value #LEASE_AFTER_EFFECT_BEFORE_COMPLETE} (a record's handler returned,
 * its claim is not completed yet). Actions: {@code halt} ({@code Runtime.halt(137)}: the JVM dies
 * as under SIGKILL, no shutdown hook runs), {@code throw} ({@link FailpointException}) and {@code
 * pause} (prints {@code FAILPOINT <point> PAUSED} on stdout and blocks the thread until the
 * property no longer names the point with {@code pause}; a test can then SIGSTOP the process at a
 * known place).
 *
 * <p>The property is read at every hit, so a test may set and clear it; with the property unset a
 * hit costs one property lookup.
 */
public final class Failpoints {

  /** The system property naming the active failpoints. */
  public static final String PROPERTY = "once.failpoints";

  /** A non-empty batch was polled, nothing claimed yet. */
  public static final String AFTER_POLL = "kafka.after-poll";

  /** The batch's ids are claimed, no handler ran. */
  public static final String AFTER_CLAIM = "kafka.after-claim";

  /** {@link KafkaLeaseConsumer}: a record's handler returned, its claim is not completed yet. */
  public static final String LEASE_AFTER_EFFECT_BEFORE_COMPLETE =
      "kafka.lease.after-effect-before-complete";

  /** Every handler ran; the batch's transaction is still open. */
  public static final String AFTER_EFFECT_BEFORE_COMMIT = "kafka.after-effect-before-commit";

  /** The batch committed; its offsets are not yet committed to Kafka. */
  public static final String AFTER_COMMIT_BEFORE_OFFSET_COMMIT =
      "kafka.after-commit-before-offset-commit";

  private record Parsed(String spec, Map<String, String> actions) {}

  private static volatile Parsed parsed = new Parsed("", Map.of());

  private Failpoints() {}

  /** Thrown by a failpoint whose action is {@code throw}. */
  public static final class FailpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    FailpointException(String point) {
      super("failpoint " + point + " fired");
    }
  }

  /**
   * Fires {@code point} if the property names it.
   *
   * @param point one of the point constants
   * @throws FailpointException if its action is {@code throw}
   * @throws IllegalArgumentException if its action is unknown
   */
  public static void hit(String point) {
    String spec = System.getProperty(PROPERTY);
    if (spec == null || spec.isBlank()) {
      return;
    }
    String action = parse(spec).get(point);
    if (action == null) {
      return;
    }
    switch (action) {
      case "halt" -> {
        System.out.flush();
        Runtime.getRuntime().halt(137);
      }
      case "throw" -> throw new FailpointException(point);
      case "pause" -> {
        System.out.println("FAILPOINT " + point + " PAUSED");
        System.out.flush();
        while ("pause".equals(parse(System.getProperty(PROPERTY, "")).get(point))) {
          try {
            Thread.sleep(10);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
      default ->
          throw new IllegalArgumentException(
              "unknown failpoint action '"
                  + action
                  + "' for "
                  + point
                  + " in "
                  + PROPERTY
                  + "="
                  + spec
                  + "; use halt, throw or pause");
    }
  }

  private static Map<String, String> parse(String spec) {
    Parsed last = parsed;
    if (!spec.equals(last.spec())) {
      Map<String, String> m = new HashMap<>();
      for (String part : spec.split(",")) {
        String p = part.trim();
        if (p.isEmpty()) {
          continue;
        }
        int colon = p.lastIndexOf(':');
        if (colon < 0) {
          throw new IllegalArgumentException(
              "failpoint '"
                  + p
                  + "' in "
                  + PROPERTY
                  + " has no action; use point:halt"
                  + " or point:throw");
        }
        m.put(p.substring(0, colon), p.substring(colon + 1));
      }
      last = new Parsed(spec, Map.copyOf(m));
      parsed = last;
    }
    return last.actions();
  }
}
