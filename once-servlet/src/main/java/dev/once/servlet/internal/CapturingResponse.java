package dev.once.servlet.internal;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
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
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The response the handler writes to: status, headers, cookies, content type and body are held in
 * memory until the filter decides what the client gets, and behave as a container's would meanwhile
 * (see {@link ResponseBuffer}); nothing reaches the client yet.
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
 * <p>This class is the servlet wrapper and the switch: each call goes to the current {@link
 * ResponseMode}, {@link HoldingMode} first and {@link PassThroughMode} after a switch. The handler
 * may write from another thread (an async handler) while the filter switches the response to
 * pass-through: output, the switch and the captured state take one lock, so every byte reaches the
 * client once and in order. That lock is never taken before the writer's own lock (characters the
 * writer holds are moved into the body before it, not inside), since a writer thread takes them in
 * the other order.
 */
public final class CapturingResponse extends HttpServletResponseWrapper {

  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
          .withZone(ZoneOffset.UTC);

  /** One captured header line; {@code replace} when it came from a {@code set*Header} call. */
  public record Header(String name, String value, boolean replace) {}

  /** A snapshot of a captured response. */
  public record Captured(
      int status,
      List<Header> headers,
      List<Cookie> cookies,
      @Nullable String contentType,
      byte[] body,
      boolean errorSent,
      @Nullable String errorMessage,
      @Nullable Supplier<Map<String, String>> trailers) {}

  private final HttpServletResponse real;
  private final boolean mayPassThrough;

  /** Guards the modes, the switch between them and the captured state. */
  private final Object lock = new Object();

  private final HoldingMode holding;
  private final ResponseBuffer<Cookie> held;
  private volatile ResponseMode mode;
  private volatile @Nullable String passThroughReason;
  private volatile @Nullable String unholdableReason;

  private final Sink sink = new Sink();
  private @Nullable PrintWriter writer;
  private boolean usingStream;
  private boolean usingWriter;
  private boolean syncing;

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
    this.mayPassThrough = mayPassThrough;
    this.holding = new HoldingMode(real, maxBodyBytes, this::cannotHold);
    this.held = holding.buffer();
    this.mode = holding;
  }

  // ------------------------------------------------------------------------ what the filter reads

  /** Why the response went straight to the client, or {@code null} while it is captured. */
  public @Nullable String passThrough() {
    return passThroughReason;
  }

  /**
   * Why the response could not be held while pass-through is not allowed, or {@code null}. Its
   * output was discarded: nothing of it reached the client.
   */
  public @Nullable String unholdable() {
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
      held.discard();
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
          held.status(),
          held.headers(),
          held.cookies(),
          mode.getContentType(),
          held.body(),
          held.errorSent(),
          held.errorMessage(),
          held.trailers());
    }
  }

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
  // reach the sink after the bytes before them whenever it flushes, so their order is kept.
  private void switchToPassThrough(String reason) throws IOException {
    if (passThroughReason != null || unholdableReason != null) {
      return;
    }
    passThroughReason = reason;
    PassThroughMode passing = new PassThroughMode(real, held.errorSent());
    mode = passing;
    passing.sendHeld(held);
  }

  /**
   * The response cannot be held as it is: in lease mode it passes through; in atomic mode it is
   * held anyway ({@code holdAnyway}) or abandoned. Called under the lock.
   */
  private void cannotHold(String reason, boolean holdAnyway) throws IOException {
    if (mayPassThrough) {
      switchToPassThrough(reason);
    } else if (!holdAnyway) {
      abandon(reason);
    }
  }

  private boolean holding() {
    return mode == holding;
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

  /** What the writer holds is discarded with the held body, so it goes in first. */
  private void syncWriterBeforeDiscarding() {
    if (holding()) {
      syncWriter();
    }
  }

  // ------------------------------------------------------------------------ status and errors

  @Override
  public void setStatus(int sc) {
    synchronized (lock) {
      mode.setStatus(sc);
    }
  }

  @Override
  public int getStatus() {
    return mode.getStatus();
  }

  @Override
  public void sendError(int sc) throws IOException {
    sendError(sc, null);
  }

  @Override
  public void sendError(int sc, @Nullable String msg) throws IOException {
    syncWriterBeforeDiscarding();
    synchronized (lock) {
      mode.sendError(sc, msg);
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
    syncWriterBeforeDiscarding();
    synchronized (lock) {
      mode.sendRedirect(location, sc, clearBuffer);
    }
  }

  // ------------------------------------------------------------------------ commit and buffer

  @Override
  public boolean isCommitted() {
    return mode.isCommitted();
  }

  @Override
  public void flushBuffer() throws IOException {
    syncWriter();
    synchronized (lock) {
      mode.flushBuffer();
    }
  }

  @Override
  public void resetBuffer() {
    syncWriterBeforeDiscarding();
    synchronized (lock) {
      mode.resetBuffer();
    }
  }

  @Override
  public void reset() {
    synchronized (lock) {
      boolean wasHolding = holding();
      mode.reset();
      if (wasHolding) { // the handler may choose its output again
        writer = null;
        usingStream = false;
        usingWriter = false;
      }
    }
  }

  @Override
  public void setBufferSize(int size) {
    syncWriter();
    synchronized (lock) {
      mode.setBufferSize(size);
    }
  }

  @Override
  public int getBufferSize() {
    return mode.getBufferSize();
  }

  @Override
  public void setContentLength(int len) {
    setContentLengthLong(len);
  }

  @Override
  public void setContentLengthLong(long len) {
    synchronized (lock) {
      mode.setContentLengthLong(len);
    }
  }

  // ------------------------------------------------------------------------ content type

  @Override
  public void setContentType(@Nullable String type) {
    synchronized (lock) {
      mode.setContentType(type);
    }
  }

  @Override
  public @Nullable String getContentType() {
    return mode.getContentType();
  }

  @Override
  public void setCharacterEncoding(@Nullable String encoding) {
    synchronized (lock) {
      mode.setCharacterEncoding(encoding);
    }
  }

  @Override
  public void setCharacterEncoding(@Nullable Charset encoding) {
    setCharacterEncoding(encoding == null ? null : encoding.name());
  }

  @Override
  public String getCharacterEncoding() {
    return mode.getCharacterEncoding();
  }

  @Override
  public void setLocale(Locale loc) {
    synchronized (lock) {
      mode.setLocale(loc);
    }
  }

  @Override
  public Locale getLocale() {
    return mode.getLocale();
  }

  // ------------------------------------------------------------------------ output

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
      ResponseMode current = mode;
      String name = current.getCharacterEncoding();
      Charset cs;
      try {
        cs = Charset.forName(name);
      } catch (IllegalCharsetNameException | UnsupportedCharsetException e) {
        UnsupportedEncodingException unsupported = new UnsupportedEncodingException(name);
        unsupported.initCause(e);
        throw unsupported;
      }
      current.writerUses(name);
      writer = new PrintWriter(new OutputStreamWriter(sink, cs), false);
      usingWriter = true;
    }
    return writer;
  }

  /** The handler's output stream: each call goes to the mode of the moment, under the lock. */
  private final class Sink extends ServletOutputStream {

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      synchronized (lock) {
        mode.write(b, off, len);
      }
    }

    @Override
    public void flush() throws IOException {
      synchronized (lock) {
        if (!syncing) { // moving the writer's characters into the body is no flush of the handler's
          mode.flushOutput();
        }
      }
    }

    @Override
    public void close() throws IOException {
      synchronized (lock) {
        mode.closeOutput(syncing);
      }
    }

    @Override
    public boolean isReady() {
      synchronized (lock) {
        return mode.isReady();
      }
    }

    @Override
    public void setWriteListener(WriteListener listener) {
      synchronized (lock) {
        try {
          cannotHold("the handler writes without blocking", false);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        mode.setWriteListener(listener);
      }
    }
  }

  // ------------------------------------------------------------------------ headers

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
      if (replace) {
        mode.setHeader(name, value);
      } else {
        mode.addHeader(name, value);
      }
    }
  }

  @Override
  public void addCookie(Cookie cookie) {
    synchronized (lock) {
      mode.addCookie(cookie);
    }
  }

  @Override
  public boolean containsHeader(String name) {
    return mode.containsHeader(name);
  }

  @Override
  public @Nullable String getHeader(String name) {
    return mode.getHeader(name);
  }

  @Override
  public Collection<String> getHeaders(String name) {
    return mode.getHeaders(name);
  }

  @Override
  public Collection<String> getHeaderNames() {
    return mode.getHeaderNames();
  }

  @Override
  public void setTrailerFields(Supplier<Map<String, String>> supplier) {
    synchronized (lock) {
      mode.setTrailerFields(supplier);
    }
  }

  @Override
  public @Nullable Supplier<Map<String, String>> getTrailerFields() {
    return mode.getTrailerFields();
  }
}
