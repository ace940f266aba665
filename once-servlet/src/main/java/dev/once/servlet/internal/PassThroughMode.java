package dev.once.servlet.internal;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.jspecify.annotations.Nullable;

/**
 * The mode in which the response goes straight to the client: {@link #sendHeld} writes what was
 * held before, and every call after goes to the real response, as the wrapper it extends forwards
 * them. Only the handler's output is its own: after a held {@code sendError} there is nothing more
 * to write, so that output is dropped.
 */
final class PassThroughMode extends HttpServletResponseWrapper implements ResponseMode {

  private final HttpServletResponse real;
  private final boolean errorSent;
  private @Nullable ServletOutputStream realOut;

  /**
   * @param real the response to the client
   * @param errorSent whether the held response was ended with {@code sendError}
   */
  PassThroughMode(HttpServletResponse real, boolean errorSent) {
    super(real);
    this.real = real;
    this.errorSent = errorSent;
  }

  /**
   * Writes what was held to the real response: status, headers, cookies, content type, charset,
   * length, trailers, then the error or the body, and a flush if the handler had flushed.
   */
  void sendHeld(ResponseBuffer<Cookie> held) throws IOException {
    real.setStatus(held.status());
    ResponseWriter.applyHeaders(real, held.headers());
    for (Cookie c : held.cookies()) {
      real.addCookie(c);
    }
    String contentType = held.contentType();
    if (contentType != null) {
      real.setContentType(contentType);
    }
    if (held.charsetSet()) {
      real.setCharacterEncoding(held.charset());
    }
    if (held.declaredLength() >= 0) {
      real.setContentLengthLong(held.declaredLength());
    }
    if (held.trailers() != null) {
      real.setTrailerFields(held.trailers());
    }
    if (held.errorSent()) {
      real.sendError(held.status(), held.errorMessage());
      return;
    }
    // The real stream is taken only when there is something to write: an async handler may still
    // choose the real response's writer.
    if (held.bodySize() > 0) {
      held.moveBodyTo(realOut());
    }
    if (held.isCommitted()) {
      real.flushBuffer();
    }
  }

  private ServletOutputStream realOut() throws IOException {
    if (realOut == null) {
      realOut = real.getOutputStream();
    }
    return realOut;
  }

  @Override
  public void writerUses(String charset) {
    setCharacterEncoding(charset);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    if (!errorSent) {
      realOut().write(b, off, len);
    }
  }

  @Override
  public void flushOutput() throws IOException {
    if (!errorSent) {
      realOut().flush();
    }
  }

  @Override
  public void closeOutput(boolean movingWriterChars) throws IOException {
    if (realOut != null) {
      realOut.close();
    }
  }

  @Override
  public boolean isReady() {
    return realOut == null || realOut.isReady();
  }

  @Override
  public void setWriteListener(WriteListener listener) {
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
