package dev.once.outbox.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The {@code headers} column: no headers is SQL {@code NULL}; otherwise a count, then each header's
 * name and value, every number an unsigned LEB128 varint and every string its UTF-8 byte length
 * followed by its UTF-8 bytes: {@code count (nameLength name valueLength value)*}. Two small
 * headers cost a few bytes more than their text, and reading needs no JSON library.
 */
public final class HeaderCodec {

  private HeaderCodec() {}

  /**
   * {@return the headers' column value, or {@code null} for none}
   *
   * @param headers the headers, already validated
   */
  public static byte @Nullable [] encode(Map<String, String> headers) {
    if (headers.isEmpty()) {
      return null;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeVarint(out, headers.size());
    for (Map.Entry<String, String> h : headers.entrySet()) {
      writeString(out, h.getKey());
      writeString(out, h.getValue());
    }
    return out.toByteArray();
  }

  /**
   * {@return the headers of a column value, in their written order}
   *
   * @param column the column value, or {@code null} for none
   * @throws IllegalArgumentException if the bytes are not this encoding
   */
  public static Map<String, String> decode(byte @Nullable [] column) {
    Map<String, String> headers = new LinkedHashMap<>();
    if (column == null) {
      return headers;
    }
    int[] at = {0};
    long count = readVarint(column, at);
    for (long i = 0; i < count; i++) {
      String name = readString(column, at);
      headers.put(name, readString(column, at));
    }
    if (at[0] != column.length) {
      throw new IllegalArgumentException(
          "headers column has " + (column.length - at[0]) + " bytes after its last header");
    }
    return headers;
  }

  private static void writeString(ByteArrayOutputStream out, String s) {
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    writeVarint(out, utf8.length);
    out.write(utf8, 0, utf8.length);
  }

  private static void writeVarint(ByteArrayOutputStream out, long value) {
    long v = value;
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  private static String readString(byte[] in, int[] at) {
    long length = readVarint(in, at);
    if (length > in.length - at[0]) {
      throw new IllegalArgumentException(
          "headers column is cut short: a string of " + length + " bytes at offset " + at[0]);
    }
    String s = new String(in, at[0], (int) length, StandardCharsets.UTF_8);
    at[0] += (int) length;
    return s;
  }

  private static long readVarint(byte[] in, int[] at) {
    long value = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      if (at[0] >= in.length) {
        throw new IllegalArgumentException("headers column is cut short at offset " + at[0]);
      }
      int b = in[at[0]++] & 0xFF;
      value |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return value;
      }
    }
    throw new IllegalArgumentException("headers column holds a number too long at " + at[0]);
  }
}
