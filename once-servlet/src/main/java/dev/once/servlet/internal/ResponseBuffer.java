package dev.once.servlet.internal;

import dev.once.servlet.internal.CapturingResponse.Header;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Holds what a handler wrote to a response in memory: status, headers, cookies, content type and
 * charset, declared length, trailers and a body bounded by the capture limit, following a
 * container's rules. Flushing, closing or writing the declared length commits it: later header
 * changes are ignored, and {@code sendError}, {@code sendRedirect} and the resets are refused.
 * {@code sendError} and {@code sendRedirect} end the output.
 *
 * <p>It knows no servlet types, so it is tested alone: cookies are opaque values of type {@code C},
 * and the headers the response had before the handler ran are read through {@link Upstream}. It is
 * not thread-safe: its owner's lock guards it.
 */
final class ResponseBuffer<C> {

  /**
   * The response as it was before the handler ran: the defaults it started from, and the headers
   * that show through where the handler set none. Read live, since a reset may clear them.
   */
  interface Upstream {
    String getCharacterEncoding();

    String getContentType();

    int getBufferSize();

    Locale getLocale();

    boolean containsHeader(String name);

    String getHeader(String name);

    Collection<String> getHeaders(String name);

    Collection<String> getHeaderNames();
  }

  private static final int SC_OK = 200;

  private final long maxBodyBytes;
  private final Upstream upstream;
  private final String defaultCharset;
  private final ByteArrayOutputStream body = new ByteArrayOutputStream();

  private int status = SC_OK;
  private final List<Header> headers = new ArrayList<>();
  private final List<C> cookies = new ArrayList<>();
  private @Nullable String contentType; // without its charset parameter
  private String charset;
  private boolean charsetSet;
  private boolean charsetFixed; // the handler took a writer, which encodes with the charset it had
  private @Nullable Locale locale;
  private boolean committed;
  private boolean closed;
  private boolean discarding;
  private boolean errorSent;
  private @Nullable String errorMessage;
  private long declaredLength = -1;
  private @Nullable Supplier<Map<String, String>> trailers;
  private int bufferSize;

  ResponseBuffer(long maxBodyBytes, Upstream upstream) {
    this.maxBodyBytes = maxBodyBytes;
    this.upstream = upstream;
    String upstreamCharset = upstream.getCharacterEncoding();
    this.defaultCharset = upstreamCharset == null ? "ISO-8859-1" : upstreamCharset;
    this.charset = defaultCharset;
    this.bufferSize = upstream.getBufferSize();
    String upstreamType = upstream.getContentType();
    if (upstreamType != null) {
      this.contentType = MediaTypes.withoutCharset(upstreamType);
      this.charsetSet = MediaTypes.charset(upstreamType) != null;
    }
  }

  long maxBodyBytes() {
    return maxBodyBytes;
  }

  // ------------------------------------------------------------------------ status and the end

  void setStatus(int sc) {
    if (!committed) {
      status = sc;
    }
  }

  int status() {
    return status;
  }

  void sendError(int sc, @Nullable String msg) {
    if (committed) {
      throw new IllegalStateException(
          "Cannot call sendError() after the response has been committed");
    }
    body.reset();
    status = sc;
    errorSent = true;
    errorMessage = msg;
    end();
  }

  boolean errorSent() {
    return errorSent;
  }

  @Nullable String errorMessage() {
    return errorMessage;
  }

  void sendRedirect(String location, int sc, boolean clearBuffer) {
    if (committed) {
      throw new IllegalStateException(
          "Cannot call sendRedirect() after the response has been committed");
    }
    if (location == null) {
      throw new IllegalArgumentException("location must not be null");
    }
    if (clearBuffer) {
      body.reset();
    }
    status = sc;
    putHeader("Location", location, true);
    end();
  }

  boolean isCommitted() {
    return committed;
  }

  /** What flushing does: nothing more may change the head, but the body may grow. */
  void commit() {
    committed = true;
  }

  /** What closing the output does: committed, and later output is ignored. */
  void end() {
    committed = true;
    closed = true;
  }

  void resetBuffer() {
    if (committed) {
      throw new IllegalStateException(
          "Cannot reset the buffer after the response has been committed");
    }
    body.reset();
  }

  /** Forgets everything but the trailers and the buffer size, as a container's reset does. */
  void reset() {
    if (committed) {
      throw new IllegalStateException("Cannot reset the response after it has been committed");
    }
    status = SC_OK;
    headers.clear();
    cookies.clear();
    contentType = null;
    charset = defaultCharset;
    charsetSet = false;
    charsetFixed = false;
    locale = null;
    body.reset();
    errorSent = false;
    errorMessage = null;
    declaredLength = -1;
  }

  void setBufferSize(int size) {
    if (committed || body.size() > 0) {
      throw new IllegalStateException(
          "Cannot change the buffer size after content has been written");
    }
    bufferSize = size;
  }

  int bufferSize() {
    return bufferSize;
  }

  void setContentLength(long len) {
    if (!committed) {
      declaredLength = len;
    }
  }

  long declaredLength() {
    return declaredLength;
  }

  // ------------------------------------------------------------------- content type and charset

  void setContentType(@Nullable String type) {
    if (committed) {
      return;
    }
    if (type == null) {
      contentType = null;
      if (!charsetFixed) {
        charset = defaultCharset;
        charsetSet = false;
      }
      return;
    }
    String cs = MediaTypes.charset(type);
    contentType = MediaTypes.withoutCharset(type);
    if (cs != null && !charsetFixed) {
      charset = cs;
      charsetSet = true;
    }
  }

  /** The content type with the charset it names, if any. */
  @Nullable String contentType() {
    if (contentType == null) {
      return null;
    }
    return charsetSet ? contentType + ";charset=" + charset : contentType;
  }

  void setCharacterEncoding(@Nullable String encoding) {
    if (committed || charsetFixed) {
      return;
    }
    if (encoding == null) {
      charset = defaultCharset;
      charsetSet = false;
    } else {
      charset = encoding;
      charsetSet = true;
    }
  }

  String charset() {
    return charset;
  }

  /** Whether the charset was chosen rather than defaulted, so the content type names it. */
  boolean charsetSet() {
    return charsetSet;
  }

  /**
   * The handler took a writer: as in a container the content type now names its charset, which no
   * longer changes until a reset.
   */
  void fixCharset() {
    charsetSet = true;
    charsetFixed = true;
  }

  void setLocale(Locale loc) {
    if (committed || loc == null) {
      return;
    }
    locale = loc;
    putHeader("Content-Language", loc.toLanguageTag(), true);
  }

  Locale locale() {
    return locale != null ? locale : upstream.getLocale();
  }

  // ------------------------------------------------------------------------ headers and cookies

  /**
   * Sets ({@code replace}) or adds a header. {@code Content-Type} and {@code Content-Length} set
   * the content type and the declared length; a {@code null} value removes a header when it
   * replaces.
   */
  void header(String name, String value, boolean replace) {
    if (name.equalsIgnoreCase("Content-Type")) {
      if (value != null || replace) {
        setContentType(value);
      }
      return;
    }
    if (name.equalsIgnoreCase("Content-Length")) {
      if (value == null) {
        if (replace && !committed) {
          declaredLength = -1;
        }
        return;
      }
      try {
        setContentLength(Long.parseLong(value.strip()));
      } catch (NumberFormatException e) {
        // as Tomcat: an unparseable length is ignored
      }
      return;
    }
    if (!committed) {
      putHeader(name, value, replace);
    }
  }

  private void putHeader(String name, String value, boolean replace) {
    if (replace) {
      headers.removeIf(h -> h.name().equalsIgnoreCase(name));
    }
    if (value != null) {
      headers.add(new Header(name, value, replace));
    }
  }

  /** The header lines in the order they were set, without content type and length. */
  List<Header> headers() {
    return List.copyOf(headers);
  }

  void addCookie(C cookie) {
    if (!committed) {
      cookies.add(cookie);
    }
  }

  List<C> cookies() {
    return List.copyOf(cookies);
  }

  boolean containsHeader(String name) {
    if (name.equalsIgnoreCase("Content-Type")) {
      return contentType != null;
    }
    if (name.equalsIgnoreCase("Content-Length")) {
      return declaredLength >= 0;
    }
    if (name.equalsIgnoreCase("Set-Cookie") && !cookies.isEmpty()) {
      return true;
    }
    return headers.stream().anyMatch(h -> h.name().equalsIgnoreCase(name))
        || upstream.containsHeader(name);
  }

  @Nullable String getHeader(String name) {
    if (name.equalsIgnoreCase("Content-Type")) {
      return contentType();
    }
    if (name.equalsIgnoreCase("Content-Length")) {
      return declaredLength >= 0 ? Long.toString(declaredLength) : null;
    }
    for (Header h : headers) {
      if (h.name().equalsIgnoreCase(name)) {
        return h.value();
      }
    }
    return upstream.getHeader(name);
  }

  Collection<String> getHeaders(String name) {
    List<String> values = new ArrayList<>();
    String single =
        name.equalsIgnoreCase("Content-Type") || name.equalsIgnoreCase("Content-Length")
            ? getHeader(name)
            : null;
    if (single != null) {
      values.add(single);
    }
    for (Header h : headers) {
      if (h.name().equalsIgnoreCase(name)) {
        values.add(h.value());
      }
    }
    if (values.isEmpty()) {
      values.addAll(upstream.getHeaders(name));
    }
    return values;
  }

  Collection<String> getHeaderNames() {
    Set<String> names = new LinkedHashSet<>(upstream.getHeaderNames());
    for (Header h : headers) {
      names.add(h.name());
    }
    if (contentType != null) {
      names.add("Content-Type");
    }
    if (declaredLength >= 0) {
      names.add("Content-Length");
    }
    return new ArrayList<>(names);
  }

  void setTrailerFields(Supplier<Map<String, String>> supplier) {
    if (committed) {
      throw new IllegalStateException(
          "Cannot set trailer fields after the response has been committed");
    }
    trailers = supplier;
  }

  @Nullable Supplier<Map<String, String>> trailers() {
    return trailers;
  }

  // ----------------------------------------------------------------------------------- the body

  /**
   * Appends to the body, unless the output has ended or is being discarded; reaching the declared
   * length commits.
   *
   * @return whether the body is now beyond the capture limit, so that it cannot be held
   */
  boolean write(byte[] b, int off, int len) {
    if (closed || discarding) {
      return false; // a container ignores output after the response was completed
    }
    body.write(b, off, len);
    if (body.size() > maxBodyBytes) {
      return true;
    }
    if (declaredLength >= 0 && body.size() >= declaredLength) {
      committed = true;
    }
    return false;
  }

  /** Drops the body, and every byte written from now on: the response is given up. */
  void discard() {
    discarding = true;
    body.reset();
  }

  int bodySize() {
    return body.size();
  }

  byte[] body() {
    return body.toByteArray();
  }

  /** Writes the body out and empties it. */
  void moveBodyTo(OutputStream out) throws IOException {
    body.writeTo(out);
    body.reset();
  }
}
