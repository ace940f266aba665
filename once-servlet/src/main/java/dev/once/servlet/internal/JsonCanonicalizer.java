package dev.once.servlet.internal;

import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.json.JsonFactory;

/**
 * Canonical JSON for fingerprints, read and written with Jackson's streaming API: object members
 * sorted by name (UTF-16 code units, as RFC 8785), no insignificant whitespace, strings re-escaped
 * one way, numbers by value ({@code 1}, {@code 1.0}, {@code 1e0} and {@code 10E-1} are all {@code
 * 1}; {@code -0} is {@code 0}). Array order is kept. Thread-safe.
 */
public final class JsonCanonicalizer {

  private static final JsonFactory JSON =
      JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
  private static final Object NULL = new Object();

  private JsonCanonicalizer() {}

  /**
   * The canonical form of {@code json}, or {@code null} when it is not exactly one well-formed JSON
   * value (a syntax error, trailing content, a repeated member name, a number or nesting beyond
   * Jackson's limits).
   */
  public static byte @Nullable [] canonicalize(byte[] json) {
    try (JsonParser p = JSON.createParser(ObjectReadContext.empty(), json)) {
      JsonToken first = p.nextToken();
      if (first == null) {
        return null;
      }
      Object value = read(p, first);
      if (p.nextToken() != null) {
        return null;
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream(json.length);
      try (JsonGenerator g = JSON.createGenerator(ObjectWriteContext.empty(), out)) {
        write(g, value);
      }
      return out.toByteArray();
    } catch (JacksonException | NumberFormatException | ArithmeticException e) {
      return null;
    }
  }

  private static Object read(JsonParser p, JsonToken token) {
    switch (token) {
      case START_OBJECT:
        {
          Map<String, Object> members = new TreeMap<>();
          for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
            String name = p.currentName();
            members.put(name, read(p, p.nextToken()));
          }
          return members;
        }
      case START_ARRAY:
        {
          List<Object> items = new ArrayList<>();
          for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            items.add(read(p, t));
          }
          return items;
        }
      case VALUE_STRING:
        return p.getString();
      case VALUE_NUMBER_INT:
        return new BigDecimal(p.getBigIntegerValue());
      case VALUE_NUMBER_FLOAT:
        return p.getDecimalValue();
      case VALUE_TRUE:
        return Boolean.TRUE;
      case VALUE_FALSE:
        return Boolean.FALSE;
      case VALUE_NULL:
        return NULL;
      default:
        throw new IllegalStateException("unexpected JSON token " + token);
    }
  }

  @SuppressWarnings("unchecked")
  private static void write(JsonGenerator g, Object value) {
    if (value instanceof Map<?, ?> map) {
      g.writeStartObject();
      for (Map.Entry<String, Object> e : ((Map<String, Object>) map).entrySet()) {
        g.writeName(e.getKey());
        write(g, e.getValue());
      }
      g.writeEndObject();
    } else if (value instanceof List<?> list) {
      g.writeStartArray();
      for (Object item : list) {
        write(g, item);
      }
      g.writeEndArray();
    } else if (value instanceof String s) {
      g.writeString(s);
    } else if (value instanceof BigDecimal n) {
      g.writeNumber(canonicalNumber(n));
    } else if (value instanceof Boolean b) {
      g.writeBoolean(b);
    } else {
      g.writeNull();
    }
  }

  /**
   * The shortest exact decimal: no trailing zeros, an exponent only where BigDecimal's own form
   * uses one.
   */
  static String canonicalNumber(BigDecimal n) {
    if (n.signum() == 0) {
      return "0";
    }
    return n.stripTrailingZeros().toString();
  }
}
