package dev.once.spring.boot.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a Spring MVC path pattern into the plainer pattern syntax of {@code
 * dev.once.servlet.IdempotentRoute}, for the route's operation name ({@code "POST
 * /payments/{id}/refunds"}). Matching itself stays Spring's.
 */
public final class SpringPatterns {

  private static final Pattern VARIABLE = Pattern.compile("\\{([A-Za-z_][A-Za-z0-9_.-]*)(?::.*)?}");
  private static final Pattern CAPTURE_REST = Pattern.compile("\\{\\*[A-Za-z_][A-Za-z0-9_.-]*}");

  private SpringPatterns() {}

  /**
   * {@code {id:\d+}} becomes {@code {id}}, a capture-the-rest {@code {*path}} becomes {@code **},
   * and a segment that mixes literals with variables or wildcards ({@code {name}.json}, {@code
   * file?.txt}) becomes {@code *}.
   */
  public static String toRoutePattern(String springPattern) {
    if (springPattern == null || springPattern.isEmpty() || springPattern.equals("/")) {
      return "/";
    }
    String p = springPattern.startsWith("/") ? springPattern.substring(1) : springPattern;
    String[] parts = p.split("/", -1);
    List<String> out = new ArrayList<>(parts.length);
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i];
      Matcher variable = VARIABLE.matcher(part);
      if (variable.matches()) {
        out.add("{" + variable.group(1) + "}");
      } else if (CAPTURE_REST.matcher(part).matches() || part.equals("**")) {
        out.add("**");
        break;
      } else if (part.isEmpty() && i < parts.length - 1) {
        continue;
      } else if (part.contains("{") || part.contains("*") || part.contains("?")) {
        out.add("*");
      } else {
        out.add(part);
      }
    }
    return "/" + String.join("/", out);
  }
}
