package dev.once.servlet.internal;

import jakarta.servlet.WriteListener;
import jakarta.servlet.http.Cookie;
import java.io.IOException;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * What {@link CapturingResponse} does with the handler's calls: {@link HoldingMode} keeps them in
 * memory until the filter decides, {@link PassThroughMode} sends them to the client. The methods
 * are the response's own, plus the handler's output stream's; {@link CapturingResponse} calls the
 * ones that change anything under its lock.
 */
sealed interface ResponseMode permits HoldingMode, PassThroughMode {

  void setStatus(int sc);

  int getStatus();

  void sendError(int sc, @Nullable String msg) throws IOException;

  void sendRedirect(String location, int sc, boolean clearBuffer) throws IOException;

  boolean isCommitted();

  void flushBuffer() throws IOException;

  void resetBuffer();

  void reset();

  void setBufferSize(int size);

  int getBufferSize();

  void setContentLengthLong(long len);

  void setContentType(@Nullable String type);

  @Nullable String getContentType();

  void setCharacterEncoding(@Nullable String encoding);

  String getCharacterEncoding();

  /** The handler took a writer that encodes with {@code charset}. */
  void writerUses(String charset);

  void setLocale(Locale loc);

  Locale getLocale();

  void setHeader(String name, String value);

  void addHeader(String name, String value);

  void addCookie(Cookie cookie);

  boolean containsHeader(String name);

  @Nullable String getHeader(String name);

  Collection<String> getHeaders(String name);

  Collection<String> getHeaderNames();

  void setTrailerFields(Supplier<Map<String, String>> supplier);

  @Nullable Supplier<Map<String, String>> getTrailerFields();

  // ------------------------------------------------------------- the handler's output stream

  void write(byte[] b, int off, int len) throws IOException;

  /** The handler flushed its stream or writer. */
  void flushOutput() throws IOException;

  /**
   * The handler closed its stream or writer; {@code movingWriterChars} when this happens while
   * characters the writer held are being moved into the stream.
   */
  void closeOutput(boolean movingWriterChars) throws IOException;

  boolean isReady();

  void setWriteListener(WriteListener listener);
}
