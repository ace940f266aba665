package dev.once.servlet.internal;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.UnsupportedEncodingException;
import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.UnsupportedCharsetException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The response the handler writes to: status, headers, cookies, content type and body are held in
 * memory until the filter decides what the client gets, and behave as a container's would
 * meanwhile. Flushing (the stream, the writer or {@link #flushBuffer()}) or writing the declared
 * {@code Content-Length} marks it committed, so later header changes are ignored and {@code
 * sendError}, {@code reset} and {@code resetBuffer} throw {@link IllegalStateException}; nothing
 * reaches the client yet. {@code sendError} and {@code sendRedirect} are recorded and end the
 * output.
 *
 * <p>Some responses cannot be held: a {@code text/event-stream} content type, a body beyond the
 * capture limit, or non-blocking output. In lease mode the response then switches to
 * <em>pass-through</em>: what was captured is written to the real response and everything after
 * goes straight to the client. {@link #passThrough()} tells the filter, which stores a tombstone
 * instead of a replayable response. In atomic mode ({@code mayPassThrough} false) nothing may reach
 * the client before the transaction commits: an event stream is held like any response, and a body
 * beyond the limit or non-blocking output makes the response {@link #unholdable()} instead, its
 * bytes discarded, so that the filter can roll back and answer an error.
 *
 * <p>The handler may write from another thread (an async handler) while the filter switches the
 * response to pass-through: output, the switch and the captured state take one lock, so every byte
 * reaches the client once and in order. That lock is never taken before the writer's own lock
 * (characters the writer holds are moved into the body before it, not inside), since a writer
 * thread takes them in the other order.
 */
public final class CapturingResponse extends HttpServletResponseWrapper {

  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
          .withZone(ZoneOffset.UTC);

  /** One captured header line; {@code replace} when it came from a {@code set*Header} call. */
  public record Header(String name, String value, boolean replace) {}

  private final HttpServletResponse real;
  private final long maxBodyBytes;
  private final boolean mayPassThrough;

  /** Guards the body, the pass-through switch and the captured status, headers and cookies. */
  private final Object lock = new Object();

  private final String defaultCharset;
  private final Sink sink = new Sink();
  private final ByteArrayOutputStream body = new ByteArrayOutputStream();

  private int status = SC_OK;
  private final List<Header> headers = new ArrayList<>();
  private final List<Cookie> cookies = new ArrayList<>();
  private String contentType; // without its charset parameter
  private String charset;
  private boolean charsetSet;
  private Locale locale;
  private PrintWriter writer;
  private boolean usingStream;
  private boolean usingWriter;
  private boolean committed;
  private boolean closed;
  private boolean syncing;
  private boolean errorSent;
  private String errorMessage;
  private long declaredLength = -1;
  private Supplier<Map<String, String>> trailers;
  private int bufferSize;
  private volatile String passThroughReason;
  private volatile String unholdableReason;
  private ServletOutputStream realOut;

  /** A response that switches to pass-through when it cannot be held (lease mode). */
  public CapturingResponse(HttpServletResponse real, long maxBodyBytes) {
    this(real, maxBodyBytes, true);
  }

  /**
   * @param mayPassThrough whether bytes may reach the client before the filter decides; {@code
   *     false} in atomic mode, where they must wait for the commit
   */
  public CapturingResponse(HttpServletResponse real, long maxBodyBytes, boolean mayPassThrough) {
    super(real);
    this.real = real;
    this.maxBodyBytes = maxBodyBytes;
    this.mayPassThrough = mayPassThrough;
    String upstream = real.getCharacterEncoding();
    this.defaultCharset = upstream == null ? "ISO-8859-1" : upstream;
    this.charset = defaultCharset;
    this.bufferSize = real.getBufferSize();
    String upstreamType = real.getContentType();
    if (upstreamType != null) {
      this.contentType = MediaTypes.withoutCharset(upstreamType);
      this.charsetSet = MediaTypes.charset(upstreamType) != null;
    }
  }

  // ----------------------------------------------------------------------------------- what the
  // filter reads

  /** Why the response went straight to the client, or {@code null} while it is captured. */
  public String passThrough() {
    return passThroughReason;
  }

  /**
   * Why the response could not be held while pass-through is not allowed, or {@code null}. Its
   * output was discarded: nothing of it reached the client.
   */
  public String unholdable() {
    return unholdableReason;
  }

  /**
   * Gives up holding the response (e.g. the handler went asynchronous in atomic mode): what was
   * captured and whatever is written later are discarded. Idempotent.
   */
  public void abandon(String reason) {
    synchronized (lock) {
      if (unholdableReason == null) {
        unholdableReason = reason;
      }
      body.reset();
    }
  }

  /**
   * Moves characters the writer still holds into the captured body. Call when the handler has
   * returned.
   */
  public void finish() {
    syncWriter();
  }

  /**
   * The captured response: status, headers, cookies, content type, body, and whether it was a
   * sendError.
   */
  public Captured captured() {
    syncWriter();
    synchronized (lock) {
      return new Captured(
          status,
          List.copyOf(headers),
          List.copyOf(cookies),
          getContentType(),
          body.toByteArray(),
          errorSent,
          errorMessage,
          trailers);
    }
  }

  /** A snapshot of a captured response. */
  public record Captured(
      int status,
      List<Header> headers,
      List<Cookie> cookies,
      String contentType,
      byte[] body,
      boolean errorSent,
      String errorMessage,
      Supplier<Map<String, String>> trailers) {}

  /**
   * Sends the rest of the response straight to the client from now on, after writing what was
   * captured. Idempotent.
   */
  public void startPassThrough(String reason) throws IOException {
    if (!mayPassThrough) {
      throw new IllegalStateException(
          "this response must be held until the filter decides: " + reason);
    }
    synchronized (lock) {
      switchToPassThrough(reason);
    }
  }

  // No syncWriter() here: it takes the writer's lock inside ours. Characters the writer still holds
  // reach the
  // sink after the bytes before them whenever it flushes, so their order is kept.
  private void switchToPassThrough(String reason) throws IOException {
    if (passThroughReason != null || unholdableReason != null) {
      return;
    }
    passThroughReason = reason;
    real.setStatus(status);
    ResponseWriter.applyHeaders(real, headers);
    for (Cookie c : cookies) {
      real.addCookie(c);
    }
    if (contentType != null) {
      real.setContentType(getContentTypeCaptured());
    }
    if (charsetSet) {
      real.setCharacterEncoding(charset);
    }
    if (declaredLength >= 0) {
      real.setContentLengthLong(declaredLength);
    }
    if (trailers != null) {
      real.setTrailerFields(trailers);
    }
    if (errorSent) {
      real.sendError(status, errorMessage);
      return;
    }
    // The real stream is taken only when there is something to write: an async handler may still
    // choose the
    // real response's writer.
    if (body.size() > 0) {
      body.writeTo(realOut());
      body.reset();
    }
    if (committed) {
      real.flushBuffer();
    }
  }

  private ServletOutputStream realOut() throws IOException {
    if (realOut == null) {
      realOut = real.getOutputStream();
    }
    return realOut;
  }

  /**
   * The response cannot be held as it is: in lease mode it passes through; in atomic mode it is
   * held anyway ({@code holdAnyway}) or abandoned.
   */
  private void cannotHold(String reason, boolean holdAnyway) throws IOException {
    synchronized (lock) {
      if (mayPassThrough) {
        switchToPassThrough(reason);
      } else if (!holdAnyway) {
        abandon(reason);
      }
    }
  }

  private void cannotHoldUnchecked(String reason, boolean holdAnyway) {
    try {
      cannotHold(reason, holdAnyway);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private boolean passing() {
    return passThroughReason != null;
  }

  private void syncWriter() {
    if (writer != null && !syncing) {
      syncing = true;
      try {
        writer.flush();
      } finally {
        syncing = false;
      }
    }
  }

  // ----------------------------------------------------------------------------------- status and
  // errors

  @Override
  public void setStatus(int sc) {
    synchronized (lock) {
      if (passing()) {
        real.setStatus(sc);
      } else if (!committed) {
        status = sc;
      }
    }
  }

  @Override
  public int getStatus() {
    return passing() ? real.getStatus() : status;
  }

  @Override
  public void sendError(int sc) throws IOException {
    sendError(sc, null);
  }

  @Override
  public void sendError(int sc, String msg) throws IOException {
    if (!passing()) {
      syncWriter(); // what the writer holds is discarded with the body
    }
    synchronized (lock) {
      if (passing()) {
        real.sendError(sc, msg);
        return;
      }
      if (committed) {
        throw new IllegalStateException(
            "Cannot call sendError() after the response has been committed");
      }
      body.reset();
      status = sc;
      errorSent = true;
      errorMessage = msg;
      committed = true;
      closed = true;
    }
  }

  @Override
  public void sendRedirect(String location) throws IOException {
    sendRedirect(location, SC_FOUND, true);
  }

  @Override
  public void sendRedirect(String location, boolean clearBuffer) throws IOException {
    sendRedirect(location, SC_FOUND, clearBuffer);
  }

  @Override
  public void sendRedirect(String location, int sc) throws IOException {
    sendRedirect(location, sc, true);
  }

  @Override
  public void sendRedirect(String location, int sc, boolean clearBuffer) throws IOException {
    if (!passing()) {
      syncWriter(); // what the writer holds is discarded with the body
    }
    synchronized (lock) {
      if (passing()) {
        real.sendRedirect(location, sc, clearBuffer);
        return;
      }
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
      setHeaderCaptured("Location", location, true);
      committed = true;
      closed = true;
    }
  }

  // ----------------------------------------------------------------------------------- commit and
  // buffer

  @Override
  public boolean isCommitted() {
    return passing() ? real.isCommitted() : committed;
  }

  @Override
  public void flushBuffer() throws IOException {
    syncWriter();
    synchronized (lock) {
      if (passing()) {
        real.flushBuffer();
      } else {
        committed = true;
      }
    }
  }

  @Override
  public void resetBuffer() {
    if (!passing()) {
      syncWriter(); // what the writer holds is discarded with the body
    }
    synchronized (lock) {
      if (passing()) {
        real.resetBuffer();
        return;
      }
      if (committed) {
        throw new IllegalStateException(
            "Cannot reset the buffer after the response has been committed");
      }
      body.reset();
    }
  }

  @Override
  public void reset() {
    synchronized (lock) {
      if (passing()) {
        real.reset();
        return;
      }
      if (committed) {
        throw new IllegalStateException("Cannot reset the response after it has been committed");
      }
      if (!real.isCommitted()) {
        real.reset(); // as without this wrapper: headers set before the handler go too
      }
      status = SC_OK;
      headers.clear();
      cookies.clear();
      contentType = null;
      charset = defaultCharset;
      charsetSet = false;
      locale = null;
      body.reset();
      writer = null;
      usingStream = false;
      usingWriter = false;
      errorSent = false;
      errorMessage = null;
      declaredLength = -1;
    }
  }

  @Override
  public void setBufferSize(int size) {
    syncWriter();
    synchronized (lock) {
      if (passing()) {
        real.setBufferSize(size);
        return;
      }
      if (committed || body.size() > 0) {
        throw new IllegalStateException(
            "Cannot change the buffer size after content has been written");
      }
      bufferSize = size;
    }
  }

  @Override
  public int getBufferSize() {
    return passing() ? real.getBufferSize() : bufferSize;
  }

  @Override
  public void setContentLength(int len) {
    setContentLengthLong(len);
  }

  @Override
  public void setContentLengthLong(long len) {
    synchronized (lock) {
      if (passing()) {
        real.setContentLengthLong(len);
      } else if (!committed) {
        declaredLength = len;
      }
    }
  }

  // ----------------------------------------------------------------------------------- content
  // type

  @Override
  public void setContentType(String type) {
    synchronized (lock) {
      if (passing()) {
        real.setContentType(type);
        return;
      }
      if (committed) {
        return;
      }
      if (type == null) {
        contentType = null;
        if (!usingWriter) {
          charset = defaultCharset;
          charsetSet = false;
        }
        return;
      }
      String cs = MediaTypes.charset(type);
      contentType = MediaTypes.withoutCharset(type);
      if (cs != null && !usingWriter) {
        charset = cs;
        charsetSet = true;
      }
      if (MediaTypes.isEventStream(type)) {
        // Held in atomic mode: a handler that writes its whole stream and returns is an ordinary
        // response there.
        cannotHoldUnchecked("the response is a text/event-stream", true);
      }
    }
  }

  @Override
  public String getContentType() {
    return passing() ? real.getContentType() : getContentTypeCaptured();
  }

  private String getContentTypeCaptured() {
    if (contentType == null) {
      return null;
    }
    return charsetSet ? contentType + ";charset=" + charset : contentType;
  }

  @Override
  public void setCharacterEncoding(String encoding) {
    synchronized (lock) {
      if (passing()) {
        real.setCharacterEncoding(encoding);
        return;
      }
      if (committed || usingWriter) {
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
  }

  @Override
  public void setCharacterEncoding(Charset encoding) {
    setCharacterEncoding(encoding == null ? null : encoding.name());
  }

  @Override
  public String getCharacterEncoding() {
    return passing() ? real.getCharacterEncoding() : charset;
  }

  @Override
  public void setLocale(Locale loc) {
    synchronized (lock) {
      if (passing()) {
        real.setLocale(loc);
        return;
      }
      if (committed || loc == null) {
        return;
      }
      locale = loc;
      setHeaderCaptured("Content-Language", loc.toLanguageTag(), true);
    }
  }

  @Override
  public Locale getLocale() {
    if (passing()) {
      return real.getLocale();
    }
    return locale != null ? locale : real.getLocale();
  }

  // ----------------------------------------------------------------------------------- output

  @Override
  public ServletOutputStream getOutputStream() {
    if (usingWriter) {
      throw new IllegalStateException("getWriter() has already been called for this response");
    }
    usingStream = true;
    return sink;
  }

  @Override
  public PrintWriter getWriter() throws IOException {
    if (usingStream) {
      throw new IllegalStateException(
          "getOutputStream() has already been called for this response");
    }
    if (writer == null) {
      String name = passing() ? real.getCharacterEncoding() : charset;
      Charset cs;
      try {
        cs = Charset.forName(name);
      } catch (IllegalCharsetNameException | UnsupportedCharsetException e) {
        throw new UnsupportedEncodingException(name);
      }
      if (passing()) {
        real.setCharacterEncoding(name);
      } else {
        charsetSet = true; // as a container does: the content type now names the writer's charset
      }
      writer = new PrintWriter(new OutputStreamWriter(sink, cs), false);
      usingWriter = true;
    }
    return writer;
  }

  /** Where the handler's bytes go: the capture buffer, or the client once passing through. */
  private final class Sink extends ServletOutputStream {

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      synchronized (lock) {
        if (passing()) {
          if (!errorSent) {
            realOut().write(b, off, len);
          }
          return;
        }
        if (closed || unholdableReason != null) {
          return; // a container ignores output after the response was completed; an abandoned one
          // is discarded
        }
        body.write(b, off, len);
        if (body.size() > maxBodyBytes) {
          cannotHold("the response body exceeds " + maxBodyBytes + " bytes", false);
        } else if (declaredLength >= 0 && body.size() >= declaredLength) {
          committed = true;
        }
      }
    }

    @Override
    public void flush() throws IOException {
      synchronized (lock) {
        if (syncing) {
          return;
        }
        if (passing()) {
          if (!errorSent) {
            realOut().flush();
          }
        } else {
          committed = true;
        }
      }
    }

    @Override
    public void close() throws IOException {
      synchronized (lock) {
        if (passing()) {
          if (realOut != null) {
            realOut.close();
          }
          return;
        }
        if (syncing) {
          return;
        }
        committed = true;
        closed = true;
      }
    }

    @Override
    public boolean isReady() {
      synchronized (lock) {
        return !passing() || realOut == null || realOut.isReady();
      }
    }

    @Override
    public void setWriteListener(WriteListener listener) {
      synchronized (lock) {
        cannotHoldUnchecked("the handler writes without blocking", false);
        if (unholdableReason != null) {
          throw new IllegalStateException(
              "non-blocking output cannot be held until the transaction commits");
        }
        if (errorSent) {
          throw new IllegalStateException(
              "the response was ended with sendError(); there is nothing to write");
        }
        try {
          realOut().setWriteListener(listener);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
  }

  // ----------------------------------------------------------------------------------- headers

  @Override
  public void setHeader(String name, String value) {
    header(name, value, true);
  }

  @Override
  public void addHeader(String name, String value) {
    header(name, value, false);
  }

  @Override
  public void setIntHeader(String name, int value) {
    header(name, Integer.toString(value), true);
  }

  @Override
  public void addIntHeader(String name, int value) {
    header(name, Integer.toString(value), false);
  }

  @Override
  public void setDateHeader(String name, long date) {
    header(name, HTTP_DATE.format(Instant.ofEpochMilli(date)), true);
  }

  @Override
  public void addDateHeader(String name, long date) {
    header(name, HTTP_DATE.format(Instant.ofEpochMilli(date)), false);
  }

  private void header(String name, String value, boolean replace) {
    synchronized (lock) {
      if (name == null || name.isEmpty()) {
        return;
      }
      if (passing()) {
        if (replace) {
          real.setHeader(name, value);
        } else {
          real.addHeader(name, value);
        }
        return;
      }
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
          setContentLengthLong(Long.parseLong(value.strip()));
        } catch (NumberFormatException e) {
          // as Tomcat: an unparseable length is ignored
        }
        return;
      }
      if (committed) {
        return;
      }
      setHeaderCaptured(name, value, replace);
    }
  }

  private void setHeaderCaptured(String name, String value, boolean replace) {
    if (replace) {
      headers.removeIf(h -> h.name().equalsIgnoreCase(name));
    }
    if (value != null) {
      headers.add(new Header(name, value, replace));
    }
  }

  @Override
  public void addCookie(Cookie cookie) {
    synchronized (lock) {
      if (passing()) {
        real.addCookie(cookie);
      } else if (!committed) {
        cookies.add(cookie);
      }
    }
  }

  @Override
  public boolean containsHeader(String name) {
    if (passing()) {
      return real.containsHeader(name);
    }
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
        || real.containsHeader(name);
  }

  @Override
  public String getHeader(String name) {
    if (passing()) {
      return real.getHeader(name);
    }
    if (name.equalsIgnoreCase("Content-Type")) {
      return getContentTypeCaptured();
    }
    if (name.equalsIgnoreCase("Content-Length")) {
      return declaredLength >= 0 ? Long.toString(declaredLength) : null;
    }
    for (Header h : headers) {
      if (h.name().equalsIgnoreCase(name)) {
        return h.value();
      }
    }
    return real.getHeader(name);
  }

  @Override
  public Collection<String> getHeaders(String name) {
    if (passing()) {
      return real.getHeaders(name);
    }
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
      values.addAll(real.getHeaders(name));
    }
    return values;
  }

  @Override
  public Collection<String> getHeaderNames() {
    if (passing()) {
      return real.getHeaderNames();
    }
    Set<String> names = new LinkedHashSet<>(real.getHeaderNames());
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

  @Override
  public void setTrailerFields(Supplier<Map<String, String>> supplier) {
    synchronized (lock) {
      if (passing()) {
        real.setTrailerFields(supplier);
      } else if (!committed) {
        trailers = supplier;
      } else {
        throw new IllegalStateException(
            "Cannot set trailer fields after the response has been committed");
      }
    }
  }

  @Override
  public Supplier<Map<String, String>> getTrailerFields() {
    return passing() ? real.getTrailerFields() : trailers;
  }
}
