package dev.once.servlet.internal;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** Just enough media-type handling for fingerprints and captured responses. */
public final class MediaTypes {

  private MediaTypes() {}

  /** {@code type/subtype} in lower case without parameters, or {@code ""} for none. */
  public static String essence(@Nullable String contentType) {
    if (contentType == null) {
      return "";
    }
    int semicolon = contentType.indexOf(';');
    String essence = semicolon < 0 ? contentType : contentType.substring(0, semicolon);
    return essence.strip().toLowerCase(Locale.ROOT);
  }

  /** {@code application/json}, {@code text/json} or any {@code +json} suffix. */
  public static boolean isJson(@Nullable String contentType) {
    String essence = essence(contentType);
    int slash = essence.indexOf('/');
    if (slash < 0) {
      return false;
    }
    String subtype = essence.substring(slash + 1);
    return subtype.equals("json") || subtype.endsWith("+json");
  }

  public static boolean isForm(@Nullable String contentType) {
    return essence(contentType).equals("application/x-www-form-urlencoded");
  }

  /** Any {@code multipart/*} type, such as {@code multipart/form-data}. */
  public static boolean isMultipart(@Nullable String contentType) {
    return essence(contentType).startsWith("multipart/");
  }

  public static boolean isEventStream(@Nullable String contentType) {
    return essence(contentType).equals("text/event-stream");
  }

  /** The value of the {@code charset} parameter, unquoted, or {@code null}. */
  public static @Nullable String charset(@Nullable String contentType) {
    if (contentType == null) {
      return null;
    }
    String[] parts = contentType.split(";");
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].strip();
      int eq = p.indexOf('=');
      if (eq > 0 && p.substring(0, eq).strip().equalsIgnoreCase("charset")) {
        String v = p.substring(eq + 1).strip();
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
          v = v.substring(1, v.length() - 1);
        }
        return v.isEmpty() ? null : v;
      }
    }
    return null;
  }

  /** {@code contentType} without its {@code charset} parameter (other parameters kept). */
  public static @Nullable String withoutCharset(@Nullable String contentType) {
    if (contentType == null) {
      return null;
    }
    String[] parts = contentType.split(";");
    StringBuilder out = new StringBuilder(parts[0].strip());
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].strip();
      int eq = p.indexOf('=');
      if (p.isEmpty() || (eq > 0 && p.substring(0, eq).strip().equalsIgnoreCase("charset"))) {
        continue;
      }
      out.append(';').append(p);
    }
    return out.toString();
  }
}
