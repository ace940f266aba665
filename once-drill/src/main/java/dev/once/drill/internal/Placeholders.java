package dev.once.drill.internal;

import dev.once.drill.DrillInputException;
import dev.once.drill.DrillRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A text with {@code {key}}, {@code {method}}, {@code {path}}, {@code {header.Name}} and {@code
 * {body.a.b}} placeholders, checked when it is parsed.
 */
public final class Placeholders {

  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^{}\\s]+)}");
  private static final Pattern KNOWN =
      Pattern.compile("key|method|path|header\\.[A-Za-z0-9-]+|body(\\.[A-Za-z0-9_-]+)+");
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final List<String> literals = new ArrayList<>();
  private final List<String> names = new ArrayList<>();

  /**
   * Parses {@code text}.
   *
   * @throws DrillInputException on an unknown placeholder
   */
  public Placeholders(String text, String what) {
    Matcher m = PLACEHOLDER.matcher(text);
    int end = 0;
    while (m.find()) {
      String name = m.group(1);
      if (!KNOWN.matcher(name).matches()) {
        throw new DrillInputException(
            what
                + ": unknown placeholder {"
                + name
                + "}; use {key}, {method}, {path}, {header.Name} or {body.field}");
      }
      literals.add(text.substring(end, m.start()));
      names.add(name);
      end = m.end();
    }
    literals.add(text.substring(end));
  }

  /** {@return how many placeholders there are} */
  public int size() {
    return names.size();
  }

  /** {@return the text with each placeholder replaced by {@code marker}, such as {@code ?}} */
  public String withMarkers(String marker) {
    StringBuilder sb = new StringBuilder(literals.get(0));
    for (int i = 0; i < names.size(); i++) {
      sb.append(marker).append(literals.get(i + 1));
    }
    return sb.toString();
  }

  /** {@return the text with each placeholder's value, passed through {@code encode}} */
  public String fill(DrillRequest request, String key, UnaryOperator<String> encode) {
    List<String> values = values(request, key);
    StringBuilder sb = new StringBuilder(literals.get(0));
    for (int i = 0; i < values.size(); i++) {
      sb.append(encode.apply(values.get(i))).append(literals.get(i + 1));
    }
    return sb.toString();
  }

  /**
   * {@return each placeholder's value for {@code request}, in order}
   *
   * @throws IllegalArgumentException if the request has no such header or body field
   */
  public List<String> values(DrillRequest request, String key) {
    List<String> values = new ArrayList<>();
    for (String name : names) {
      values.add(value(name, request, key));
    }
    return values;
  }

  private static String value(String name, DrillRequest request, String key) {
    if (name.equals("key")) {
      return key;
    }
    if (name.equals("method")) {
      return request.method();
    }
    if (name.equals("path")) {
      return request.path();
    }
    if (name.startsWith("header.")) {
      String header = name.substring("header.".length());
      return request
          .header(header)
          .orElseThrow(() -> new IllegalArgumentException("the request has no header " + header));
    }
    JsonNode node;
    try {
      node = JSON.readTree(request.body());
    } catch (JacksonException e) {
      throw new IllegalArgumentException("{" + name + "}: the request's body is not JSON", e);
    }
    for (String field : name.substring("body.".length()).split("\\.", -1)) {
      node = node.path(field);
    }
    if (node.isMissingNode() || node.isNull() || node.isContainer()) {
      throw new IllegalArgumentException("{" + name + "}: no such value in the request's body");
    }
    return node.asString();
  }
}
