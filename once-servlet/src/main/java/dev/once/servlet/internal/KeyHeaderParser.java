package dev.once.servlet.internal;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Parses the {@code Idempotency-Key} field. The draft defines it as an RFC 9651 Item whose bare
 * item is a String ({@code "8e03978e-40d5"}); parameters are parsed and, as RFC 9651 says of
 * unknown ones, ignored. Unless strict, a bare key of visible ASCII without quotes is accepted too
 * ({@code 8e03978e-40d5}), as most clients send. Details never contain the key.
 */
public final class KeyHeaderParser {

  /** What the field said. */
  public sealed interface Result {}

  /** No field at all. */
  public record Absent() implements Result {}

  /** One well-formed field; {@code key} is the unquoted, unescaped value (possibly empty). */
  public record Valid(String key) implements Result {}

  /** Malformed: {@code detail} says why, without repeating the value. */
  public record Invalid(String detail) implements Result {}

  private KeyHeaderParser() {}

  /**
   * Parses the field lines received for the header.
   *
   * @param fieldLines every field line of the header, in order (one per line, as the container
   *     reports them)
   * @param headerName the header's name, for messages
   * @param strict accept only the structured-field string form
   */
  public static Result parse(List<String> fieldLines, String headerName, boolean strict) {
    if (fieldLines.isEmpty()) {
      return new Absent();
    }
    if (fieldLines.size() > 1) {
      return new Invalid(
          "The request has "
              + fieldLines.size()
              + " "
              + headerName
              + " fields; send exactly one key.");
    }
    String value = trimOws(fieldLines.get(0));
    if (value.startsWith("\"")) {
      return new Parser(value, headerName).item();
    }
    if (strict) {
      return new Invalid(
          "The "
              + headerName
              + " must be a quoted structured-field string (RFC 9651), such as \"8e03978e-40d5-43e8\".");
    }
    return bare(value, headerName);
  }

  private static Result bare(String value, String headerName) {
    if (value.isEmpty()) {
      return new Valid("");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == ',') {
        return new Invalid(
            "The "
                + headerName
                + " field holds a list (a comma at index "
                + i
                + "); send exactly one key, or quote a key that contains commas.");
      }
      if (c < 0x21 || c > 0x7E) {
        return new Invalid(
            "The "
                + headerName
                + " contains "
                + describe(c)
                + " at index "
                + i
                + "; an unquoted key is visible ASCII only (quote a key with spaces).");
      }
      if (c == '"' || c == '\\') {
        return new Invalid(
            "The "
                + headerName
                + " contains '"
                + c
                + "' at index "
                + i
                + "; quote and escape such a key as a structured-field string.");
      }
    }
    return new Valid(value);
  }

  static String describe(char c) {
    if (c == ' ') {
      return "a space";
    }
    if (c < 0x20 || c == 0x7F) {
      return "control character U+" + String.format("%04X", (int) c);
    }
    return "a non-ASCII character";
  }

  /** Removes optional whitespace (SP, HTAB) around a field value, as HTTP field parsing does. */
  static String trimOws(String value) {
    int start = 0;
    int end = value.length();
    while (start < end && (value.charAt(start) == ' ' || value.charAt(start) == '\t')) {
      start++;
    }
    while (end > start && (value.charAt(end - 1) == ' ' || value.charAt(end - 1) == '\t')) {
      end--;
    }
    return value.substring(start, end);
  }

  /** An RFC 9651 section 4.2 parser for one Item whose bare item must be a String. */
  private static final class Parser {
    private final String s;
    private final String headerName;
    private int i;

    Parser(String s, String headerName) {
      this.s = s;
      this.headerName = headerName;
    }

    Result item() {
      try {
        String key = string();
        parameters();
        skipSp();
        if (i < s.length()) {
          if (s.charAt(i) == ',') {
            throw new Malformed("holds a list (a comma at index " + i + "); send exactly one key");
          }
          throw new Malformed("has unexpected characters after the closing quote at index " + i);
        }
        return new Valid(key);
      } catch (Malformed e) {
        return new Invalid(
            "The "
                + headerName
                + " is not a valid structured-field string (RFC 9651): it "
                + e.getMessage()
                + ".");
      }
    }

    /** sf-string: DQUOTE *( unescaped / "\" ( DQUOTE / "\" ) ) DQUOTE, over %x20-7E. */
    private String string() {
      expect('"');
      StringBuilder out = new StringBuilder();
      while (i < s.length()) {
        char c = s.charAt(i++);
        if (c == '\\') {
          if (i >= s.length()) {
            throw new Malformed("ends in a backslash");
          }
          char next = s.charAt(i++);
          if (next != '"' && next != '\\') {
            throw new Malformed(
                "has an invalid escape at index " + (i - 2) + " (only \\\" and \\\\ are allowed)");
          }
          out.append(next);
        } else if (c == '"') {
          return out.toString();
        } else if (c < 0x20 || c > 0x7E) {
          throw new Malformed(
              "contains "
                  + describe(c)
                  + " at index "
                  + (i - 1)
                  + " (strings are printable ASCII)");
        } else {
          out.append(c);
        }
      }
      throw new Malformed("has no closing quote");
    }

    private void parameters() {
      while (i < s.length() && s.charAt(i) == ';') {
        i++;
        skipSp();
        key();
        if (i < s.length() && s.charAt(i) == '=') {
          i++;
          bareItem();
        }
      }
    }

    private void key() {
      if (i >= s.length() || !(isLcAlpha(s.charAt(i)) || s.charAt(i) == '*')) {
        throw new Malformed("has a parameter without a valid name at index " + i);
      }
      while (i < s.length()) {
        char c = s.charAt(i);
        if (isLcAlpha(c) || isDigit(c) || c == '_' || c == '-' || c == '.' || c == '*') {
          i++;
        } else {
          break;
        }
      }
    }

    private void bareItem() {
      if (i >= s.length()) {
        throw new Malformed("has a parameter without a value");
      }
      char c = s.charAt(i);
      if (c == '-' || isDigit(c)) {
        number();
      } else if (c == '"') {
        string();
      } else if (c == '*' || isAlpha(c)) {
        token();
      } else if (c == ':') {
        byteSequence();
      } else if (c == '?') {
        bool();
      } else if (c == '@') {
        i++;
        if (i >= s.length() || (s.charAt(i) != '-' && !isDigit(s.charAt(i)))) {
          throw new Malformed("has a malformed date parameter");
        }
        if (number()) {
          throw new Malformed("has a date parameter with a fraction");
        }
      } else if (c == '%') {
        displayString();
      } else {
        throw new Malformed("has a parameter with an unknown kind of value at index " + i);
      }
    }

    /** Returns true for a decimal. */
    private boolean number() {
      if (s.charAt(i) == '-') {
        i++;
      }
      int start = i;
      boolean decimal = false;
      int integerDigits = 0;
      while (i < s.length()) {
        char c = s.charAt(i);
        if (isDigit(c)) {
          i++;
        } else if (c == '.' && !decimal) {
          decimal = true;
          integerDigits = i - start;
          if (integerDigits == 0 || integerDigits > 12) {
            throw new Malformed("has a malformed decimal parameter");
          }
          i++;
        } else {
          break;
        }
      }
      int length = i - start;
      if (length == 0) {
        throw new Malformed("has a malformed number parameter");
      }
      if (!decimal && length > 15) {
        throw new Malformed("has an integer parameter longer than 15 digits");
      }
      if (decimal) {
        int fraction = length - integerDigits - 1;
        if (fraction < 1 || fraction > 3) {
          throw new Malformed("has a decimal parameter without 1 to 3 fraction digits");
        }
      }
      return decimal;
    }

    private void token() {
      i++;
      while (i < s.length() && (isTchar(s.charAt(i)) || s.charAt(i) == ':' || s.charAt(i) == '/')) {
        i++;
      }
    }

    private void byteSequence() {
      i++;
      while (i < s.length() && s.charAt(i) != ':') {
        char c = s.charAt(i);
        if (!(isAlpha(c) || isDigit(c) || c == '+' || c == '/' || c == '=')) {
          throw new Malformed("has a malformed byte-sequence parameter");
        }
        i++;
      }
      expect(':');
    }

    private void bool() {
      i++;
      if (i < s.length() && (s.charAt(i) == '0' || s.charAt(i) == '1')) {
        i++;
      } else {
        throw new Malformed("has a malformed boolean parameter");
      }
    }

    private void displayString() {
      i++;
      expect('"');
      ByteBuffer bytes = ByteBuffer.allocate(s.length());
      while (i < s.length()) {
        char c = s.charAt(i++);
        if (c < 0x20 || c > 0x7E) {
          throw new Malformed("has a display-string parameter with " + describe(c));
        }
        if (c == '%') {
          if (i + 2 > s.length() || !isLcHex(s.charAt(i)) || !isLcHex(s.charAt(i + 1))) {
            throw new Malformed("has a display-string parameter with a malformed escape");
          }
          bytes.put((byte) Integer.parseInt(s.substring(i, i + 2), 16));
          i += 2;
        } else if (c == '"') {
          bytes.flip();
          try {
            StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(bytes);
          } catch (CharacterCodingException e) {
            throw new Malformed("has a display-string parameter that is not UTF-8", e);
          }
          return;
        } else {
          bytes.put((byte) c);
        }
      }
      throw new Malformed("has an unterminated display-string parameter");
    }

    private void expect(char c) {
      if (i >= s.length() || s.charAt(i) != c) {
        throw new Malformed("lacks '" + c + "' at index " + i);
      }
      i++;
    }

    private void skipSp() {
      while (i < s.length() && s.charAt(i) == ' ') {
        i++;
      }
    }

    private static boolean isLcAlpha(char c) {
      return c >= 'a' && c <= 'z';
    }

    private static boolean isAlpha(char c) {
      return isLcAlpha(c) || (c >= 'A' && c <= 'Z');
    }

    private static boolean isDigit(char c) {
      return c >= '0' && c <= '9';
    }

    private static boolean isLcHex(char c) {
      return isDigit(c) || (c >= 'a' && c <= 'f');
    }

    private static boolean isTchar(char c) {
      return isAlpha(c) || isDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }
  }

  /** A parse failure; its message completes "The Idempotency-Key ... it ...". */
  private static final class Malformed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Malformed(String message) {
      super(message, null, false, false);
    }

    Malformed(String message, Throwable cause) {
      super(message, cause, false, false);
    }
  }
}
