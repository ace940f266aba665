package dev.once.servlet.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A compiled route path pattern: {@code /}-separated segments, each a literal, {@code {name}} or
 * {@code *} (one non-empty segment), with an optional final {@code **} (any remainder, including
 * none).
 */
public final class PathPattern {

  private static final Pattern VARIABLE = Pattern.compile("\\{[A-Za-z_][A-Za-z0-9_.-]*}");

  private final String pattern;
  private final String[] segments; // null entry = one-segment wildcard
  private final boolean tail; // ends with /**

  private PathPattern(String pattern, String[] segments, boolean tail) {
    this.pattern = pattern;
    this.segments = segments;
    this.tail = tail;
  }

  /**
   * Compiles {@code pattern}.
   *
   * @throws IllegalArgumentException if it does not start with {@code /}, contains whitespace, a
   *     query or a fragment, an empty segment, or a misplaced {@code **} or brace
   */
  public static PathPattern compile(String pattern) {
    if (pattern == null || !pattern.startsWith("/")) {
      throw bad(pattern, "it must start with '/'");
    }
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      if (c <= ' ' || c == 0x7F || c == '?' || c == '#') {
        throw bad(pattern, "it contains whitespace, a control character, '?' or '#' at index " + i);
      }
    }
    if (pattern.equals("/")) {
      return new PathPattern(pattern, new String[0], false);
    }
    String[] parts = pattern.substring(1).split("/", -1);
    List<String> segments = new ArrayList<>();
    boolean tail = false;
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i];
      if (part.isEmpty()) {
        if (i == parts.length - 1) {
          segments.add(""); // trailing slash is significant
          continue;
        }
        throw bad(pattern, "it has an empty segment");
      }
      if (part.equals("**")) {
        if (i != parts.length - 1) {
          throw bad(pattern, "'**' may only be the last segment");
        }
        tail = true;
      } else if (part.equals("*") || VARIABLE.matcher(part).matches()) {
        segments.add(null);
      } else if (part.contains("{") || part.contains("}") || part.contains("*")) {
        throw bad(
            pattern,
            "segment '"
                + part
                + "' mixes text with '{', '}' or '*'; a variable is a whole segment");
      } else {
        segments.add(part);
      }
    }
    return new PathPattern(pattern, segments.toArray(new String[0]), tail);
  }

  private static IllegalArgumentException bad(String pattern, String why) {
    return new IllegalArgumentException(
        "pathPattern must be a path such as /orders or /orders/{id}/refunds, but was "
            + (pattern == null ? "null" : "'" + pattern + "'")
            + ": "
            + why);
  }

  /** Whether {@code path} (starting with {@code /}) matches. */
  public boolean matches(String path) {
    if (path == null || !path.startsWith("/")) {
      return false;
    }
    String[] parts = path.equals("/") ? new String[0] : path.substring(1).split("/", -1);
    if (tail ? parts.length < segments.length : parts.length != segments.length) {
      return false;
    }
    for (int i = 0; i < segments.length; i++) {
      String expected = segments[i];
      if (expected == null ? parts[i].isEmpty() : !expected.equals(parts[i])) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return pattern;
  }
}
