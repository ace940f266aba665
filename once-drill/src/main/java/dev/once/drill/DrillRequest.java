package dev.once.drill;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One recorded request, as the drill replays it against the target: a method, a path (with its
 * query), headers and a text body. The host is never part of it: the drill sends every request to
 * its {@code --target} and nowhere else.
 *
 * @param method the HTTP method, an RFC 9110 token such as {@code POST}
 * @param path the path and query, starting with {@code /}
 * @param headers the headers in order; names compare case-insensitively
 * @param body the body as text; empty for none
 */
public record DrillRequest(String method, String path, List<Header> headers, String body) {

  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

  /**
   * A header.
   *
   * @param name its name
   * @param value its value
   */
  public record Header(String name, String value) {}

  /**
   * Checks the parts.
   *
   * @param method the HTTP method, an RFC 9110 token such as {@code POST}
   * @param path the path and query, starting with {@code /}
   * @param headers the headers in order; names compare case-insensitively
   * @param body the body as text; empty for none
   * @throws IllegalArgumentException if the method is not a token or the path does not start with
   *     {@code /}
   */
  public DrillRequest {
    if (!TOKEN.matcher(method).matches()) {
      throw new IllegalArgumentException("method must be an HTTP token, but was '" + method + "'");
    }
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("path must start with '/', but was '" + path + "'");
    }
    method = method.toUpperCase(Locale.ROOT);
    headers = List.copyOf(headers);
  }

  /**
   * {@return the first value of the header {@code name}, compared case-insensitively}
   *
   * @param name the header's name
   */
  public Optional<String> header(String name) {
    return headers.stream()
        .filter(h -> h.name().equalsIgnoreCase(name))
        .map(Header::value)
        .findFirst();
  }

  /**
   * {@return this request with {@code name} set to {@code value}, replacing any value it had}
   *
   * @param name the header's name
   * @param value its value
   */
  public DrillRequest withHeader(String name, String value) {
    List<Header> copy = new ArrayList<>();
    for (Header h : headers) {
      if (!h.name().equalsIgnoreCase(name)) {
        copy.add(h);
      }
    }
    copy.add(new Header(name, value));
    return new DrillRequest(method, path, copy, body);
  }

  /**
   * {@return this request with another body}
   *
   * @param newBody the body
   */
  public DrillRequest withBody(String newBody) {
    return new DrillRequest(method, path, headers, newBody);
  }
}
