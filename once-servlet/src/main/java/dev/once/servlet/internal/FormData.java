package dev.once.servlet.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** {@code application/x-www-form-urlencoded} decoding, for query strings and form bodies. */
public final class FormData {

  private FormData() {}

  /** A decoded name and value. */
  public record Pair(String name, String value) {}

  /**
   * Decodes {@code a=1&b=x+y&c} into pairs in order ({@code c} has the value {@code ""}); empty
   * segments are skipped; a malformed percent escape is kept as text.
   */
  public static List<Pair> parse(@Nullable String encoded, Charset charset) {
    List<Pair> pairs = new ArrayList<>();
    if (encoded == null || encoded.isEmpty()) {
      return pairs;
    }
    for (String segment : encoded.split("&")) {
      if (segment.isEmpty()) {
        continue;
      }
      int eq = segment.indexOf('=');
      String name = eq < 0 ? segment : segment.substring(0, eq);
      String value = eq < 0 ? "" : segment.substring(eq + 1);
      pairs.add(new Pair(decode(name, charset), decode(value, charset)));
    }
    return pairs;
  }

  /** Percent-decodes with {@code +} as space; a malformed escape is kept as it is. */
  static String decode(String s, Charset charset) {
    if (s.indexOf('%') < 0 && s.indexOf('+') < 0) {
      return s;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '+') {
        bytes.write(' ');
      } else if (c == '%'
          && i + 2 < s.length()
          && hex(s.charAt(i + 1)) >= 0
          && hex(s.charAt(i + 2)) >= 0) {
        bytes.write(hex(s.charAt(i + 1)) * 16 + hex(s.charAt(i + 2)));
        i += 2;
      } else {
        int end =
            Character.isHighSurrogate(c)
                    && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1))
                ? i + 2
                : i + 1;
        byte[] raw = s.substring(i, end).getBytes(charset);
        bytes.write(raw, 0, raw.length);
        i = end - 1;
      }
    }
    return bytes.toString(charset);
  }

  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  /** Pairs from a parameter map (as a container parsed it), in the map's order. */
  public static List<Pair> fromMap(Map<String, String[]> parameters) {
    List<Pair> pairs = new ArrayList<>();
    for (Map.Entry<String, String[]> e : parameters.entrySet()) {
      for (String v : e.getValue()) {
        pairs.add(new Pair(e.getKey(), v));
      }
    }
    return pairs;
  }
}
