package dev.once.internal;

import java.util.HashMap;
import java.util.Map;

/**
 * Failpoints for crash tests, off unless the system property {@code once.failpoints} names them:
 * {@code -Donce.failpoints=rabbitmq.after-commit-before-ack:halt} (comma-separated {@code
 * name:action}). Actions: {@code halt} ({@code Runtime.halt(137)}, no shutdown hooks, like SIGKILL)
 * and {@code throw} ({@link FailpointException}). Each inbox adapter names its own points. Not a
 * public API: it exists so tests can stop a consumer at exact points.
 */
public final class Failpoints {

  /** The system property that arms failpoints. */
  public static final String PROPERTY = "once.failpoints";

  private static final Map<String, String> ARMED = parse(System.getProperty(PROPERTY, ""));

  private Failpoints() {}

  /**
   * Runs the failpoint's action if it is armed; does nothing otherwise.
   *
   * @param name the failpoint
   */
  public static void hit(String name) {
    String action = ARMED.get(name);
    if (action == null) {
      return;
    }
    switch (action) {
      case "halt" -> {
        System.out.println("FAILPOINT " + name + " halt");
        System.out.flush();
        Runtime.getRuntime().halt(137);
      }
      case "throw" -> throw new FailpointException(name);
      default ->
          throw new IllegalStateException("unknown failpoint action '" + action + "' for " + name);
    }
  }

  /**
   * Reads a {@code name:action} list.
   *
   * @param spec comma-separated {@code name:action} entries; blank: none
   * @return the armed failpoints by name
   * @throws IllegalArgumentException if an entry lacks its name or action
   */
  public static Map<String, String> parse(String spec) {
    Map<String, String> armed = new HashMap<>();
    for (String part : spec.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      int colon = p.indexOf(':');
      if (colon <= 0 || colon == p.length() - 1) {
        throw new IllegalArgumentException(
            PROPERTY + " entries must be name:action, but was '" + p + "'");
      }
      armed.put(p.substring(0, colon), p.substring(colon + 1));
    }
    return Map.copyOf(armed);
  }

  /** Thrown by a failpoint armed with {@code throw}. */
  public static final class FailpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    FailpointException(String name) {
      super("failpoint " + name);
    }
  }
}
