package dev.once.servlet.internal;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UnsupportedEncodingException;
import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.UnsupportedCharsetException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The request the handler sees: the body the filter already read (to fingerprint it) is served
 * again by {@link #getInputStream()} and {@link #getReader()}, and for a form POST by the parameter
 * methods, so body binding downstream works as without the filter. As the container does, it
 * refuses {@code getReader()} after {@code getInputStream()} and the reverse.
 */
public final class CachedBodyRequest extends HttpServletRequestWrapper {

  private final byte[] body;
  private final boolean ownsFormParameters;
  private @Nullable BodyStream stream;
  private @Nullable BufferedReader reader;
  private @Nullable Map<String, String[]> parameters;

  /**
   * @param body the complete body the filter read
   * @param ownsFormParameters whether this wrapper must parse the form body for the parameter
   *     methods (the container can no longer read it)
   */
  public CachedBodyRequest(HttpServletRequest request, byte[] body, boolean ownsFormParameters) {
    super(request);
    this.body = body;
    this.ownsFormParameters = ownsFormParameters;
  }

  /**
   * Reads at most {@code limit} bytes of {@code in}.
   *
   * @return the bytes, or {@code null} if there were more than {@code limit}
   */
  public static byte @Nullable [] readBody(InputStream in, long declaredLength, long limit)
      throws IOException {
    int initial = (int) Math.min(limit, declaredLength > 0 ? declaredLength : 8192);
    ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(initial, 32));
    byte[] buffer = new byte[8192];
    long total = 0;
    for (int n; (n = in.read(buffer)) != -1; ) {
      total += n;
      if (total > limit) {
        return null;
      }
      out.write(buffer, 0, n);
    }
    return out.toByteArray();
  }

  @Override
  public ServletInputStream getInputStream() {
    if (reader != null) {
      throw new IllegalStateException("getReader() has already been called for this request");
    }
    if (stream == null) {
      stream = new BodyStream(body);
    }
    return stream;
  }

  @Override
  public BufferedReader getReader() throws IOException {
    if (stream != null) {
      throw new IllegalStateException("getInputStream() has already been called for this request");
    }
    if (reader == null) {
      reader =
          new BufferedReader(new InputStreamReader(new ByteArrayInputStream(body), bodyCharset()));
    }
    return reader;
  }

  private Charset bodyCharset() throws UnsupportedEncodingException {
    String name = getCharacterEncoding();
    if (name == null) {
      return StandardCharsets.ISO_8859_1; // the Servlet specification's default
    }
    try {
      return Charset.forName(name);
    } catch (IllegalCharsetNameException | UnsupportedCharsetException e) {
      UnsupportedEncodingException unsupported = new UnsupportedEncodingException(name);
      unsupported.initCause(e);
      throw unsupported;
    }
  }

  @Override
  public @Nullable String getParameter(String name) {
    if (!ownsFormParameters) {
      return super.getParameter(name);
    }
    String[] values = parameters().get(name);
    return values == null ? null : values[0];
  }

  @Override
  public Map<String, String[]> getParameterMap() {
    return ownsFormParameters ? parameters() : super.getParameterMap();
  }

  @Override
  public Enumeration<String> getParameterNames() {
    return ownsFormParameters
        ? Collections.enumeration(parameters().keySet())
        : super.getParameterNames();
  }

  @Override
  public String @Nullable [] getParameterValues(String name) {
    if (!ownsFormParameters) {
      return super.getParameterValues(name);
    }
    String[] values = parameters().get(name);
    return values == null ? null : values.clone();
  }

  /**
   * Query parameters (UTF-8, the container's default URI encoding) then form parameters, as Tomcat
   * orders them.
   */
  private Map<String, String[]> parameters() {
    if (parameters == null) {
      Charset charset;
      try {
        charset = bodyCharset();
      } catch (UnsupportedEncodingException e) {
        charset = StandardCharsets.ISO_8859_1;
      }
      Map<String, List<String>> collected = new LinkedHashMap<>();
      List<FormData.Pair> pairs =
          new ArrayList<>(FormData.parse(getQueryString(), StandardCharsets.UTF_8));
      pairs.addAll(FormData.parse(new String(body, StandardCharsets.ISO_8859_1), charset));
      for (FormData.Pair p : pairs) {
        collected.computeIfAbsent(p.name(), k -> new ArrayList<>()).add(p.value());
      }
      Map<String, String[]> map = new LinkedHashMap<>();
      collected.forEach((k, v) -> map.put(k, v.toArray(new String[0])));
      parameters = Collections.unmodifiableMap(map);
    }
    return parameters;
  }

  /** The buffered body as a servlet stream; always ready. */
  private static final class BodyStream extends ServletInputStream {
    private final ByteArrayInputStream in;

    BodyStream(byte[] body) {
      this.in = new ByteArrayInputStream(body);
    }

    @Override
    public int read() {
      return in.read();
    }

    @Override
    public int read(byte[] b, int off, int len) {
      return in.read(b, off, len);
    }

    @Override
    public int available() {
      return in.available();
    }

    @Override
    public boolean isFinished() {
      return in.available() == 0;
    }

    @Override
    public boolean isReady() {
      return true;
    }

    @Override
    public void setReadListener(ReadListener listener) {
      if (listener == null) {
        throw new NullPointerException("listener");
      }
      // Everything is already here: report it at once, as a container does for a fully received
      // body.
      try {
        if (!isFinished()) {
          listener.onDataAvailable();
        }
        listener.onAllDataRead();
      } catch (IOException | RuntimeException e) {
        listener.onError(e);
      }
    }
  }
}
