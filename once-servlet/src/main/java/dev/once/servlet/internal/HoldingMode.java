package dev.once.servlet.internal;

import jakarta.servlet.WriteListener;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The mode in which nothing reaches the client: every call goes to a {@link ResponseBuffer}, the
 * real response only showing through where the handler set nothing. What cannot be held (an event
 * stream, a body beyond the limit) is reported to {@link CannotHold}, which decides whether the
 * response leaves this mode.
 */
final class HoldingMode implements ResponseMode {

  /** Told that the response cannot be held as it is. */
  interface CannotHold {
    /**
     * @param reason why, for the filter's log and answer
     * @param holdAnyway whether a response that must not pass through may still be held whole
     */
    void cannotHold(String reason, boolean holdAnyway) throws IOException;
  }

  private final HttpServletResponse real;
  private final ResponseBuffer<Cookie> buffer;
  private final CannotHold cannotHold;

  HoldingMode(HttpServletResponse real, long maxBodyBytes, CannotHold cannotHold) {
    this.real = real;
    this.buffer = new ResponseBuffer<>(maxBodyBytes, new RealUpstream(real));
    this.cannotHold = cannotHold;
  }

  /** What was captured. */
  ResponseBuffer<Cookie> buffer() {
    return buffer;
  }

  @Override
  public void setStatus(int sc) {
    buffer.setStatus(sc);
  }

  @Override
  public int getStatus() {
    return buffer.status();
  }

  @Override
  public void sendError(int sc, @Nullable String msg) {
    buffer.sendError(sc, msg);
  }

  @Override
  public void sendRedirect(String location, int sc, boolean clearBuffer) {
    buffer.sendRedirect(location, sc, clearBuffer);
  }

  @Override
  public boolean isCommitted() {
    return buffer.isCommitted();
  }

  @Override
  public void flushBuffer() {
    buffer.commit();
  }

  @Override
  public void resetBuffer() {
    buffer.resetBuffer();
  }

  @Override
  public void reset() {
    if (!buffer.isCommitted() && !real.isCommitted()) {
      real.reset(); // as without this wrapper: headers set before the handler go too
    }
    buffer.reset();
  }

  @Override
  public void setBufferSize(int size) {
    buffer.setBufferSize(size);
  }

  @Override
  public int getBufferSize() {
    return buffer.bufferSize();
  }

  @Override
  public void setContentLengthLong(long len) {
    buffer.setContentLength(len);
  }

  @Override
  public void setContentType(@Nullable String type) {
    buffer.setContentType(type);
    declared(type);
  }

  /**
   * An event stream is held in atomic mode: a handler that writes its whole stream and returns is
   * an ordinary response there.
   */
  private void declared(@Nullable String type) {
    if (type != null && !buffer.isCommitted() && MediaTypes.isEventStream(type)) {
      try {
        cannotHold.cannotHold("the response is a text/event-stream", true);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @Override
  public @Nullable String getContentType() {
    return buffer.contentType();
  }

  @Override
  public void setCharacterEncoding(@Nullable String encoding) {
    buffer.setCharacterEncoding(encoding);
  }

  @Override
  public String getCharacterEncoding() {
    return buffer.charset();
  }

  @Override
  public void writerUses(String charset) {
    buffer.fixCharset();
  }

  @Override
  public void setLocale(Locale loc) {
    buffer.setLocale(loc);
  }

  @Override
  public Locale getLocale() {
    return buffer.locale();
  }

  @Override
  public void setHeader(String name, String value) {
    header(name, value, true);
  }

  @Override
  public void addHeader(String name, String value) {
    header(name, value, false);
  }

  private void header(String name, String value, boolean replace) {
    buffer.header(name, value, replace);
    if (name.equalsIgnoreCase("Content-Type")) {
      declared(value);
    }
  }

  @Override
  public void addCookie(Cookie cookie) {
    buffer.addCookie(cookie);
  }

  @Override
  public boolean containsHeader(String name) {
    return buffer.containsHeader(name);
  }

  @Override
  public @Nullable String getHeader(String name) {
    return buffer.getHeader(name);
  }

  @Override
  public Collection<String> getHeaders(String name) {
    return buffer.getHeaders(name);
  }

  @Override
  public Collection<String> getHeaderNames() {
    return buffer.getHeaderNames();
  }

  @Override
  public void setTrailerFields(Supplier<Map<String, String>> supplier) {
    buffer.setTrailerFields(supplier);
  }

  @Override
  public @Nullable Supplier<Map<String, String>> getTrailerFields() {
    return buffer.trailers();
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    if (buffer.write(b, off, len)) {
      cannotHold.cannotHold("the response body exceeds " + buffer.maxBodyBytes() + " bytes", false);
    }
  }

  @Override
  public void flushOutput() {
    buffer.commit();
  }

  @Override
  public void closeOutput(boolean movingWriterChars) {
    if (!movingWriterChars) {
      buffer.end();
    }
  }

  @Override
  public boolean isReady() {
    return true;
  }

  /** Reached only once the response was given up: lease mode has passed through before. */
  @Override
  public void setWriteListener(WriteListener listener) {
    throw new IllegalStateException(
        "non-blocking output cannot be held until the transaction commits");
  }

  /** The real response, as the buffer sees it: the wrapper it extends forwards every query. */
  private static final class RealUpstream extends HttpServletResponseWrapper
      implements ResponseBuffer.Upstream {
    RealUpstream(HttpServletResponse real) {
      super(real);
    }
  }
}
