package dev.once.servlet.internal;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Minimal in-memory stand-ins for the container's request and response, for unit tests. */
final class Fakes {

  private Fakes() {}

  /** A response that records what reaches it, as the client would see it. */
  static final class Response {
    int status = 200;
    final Map<String, List<String>> headers = new LinkedHashMap<>();
    String contentType;
    String charset = "ISO-8859-1";
    final ByteArrayOutputStream body = new ByteArrayOutputStream();
    boolean committed;
    int flushes;
    String sentError;

    /**
     * Runs on the first write to the client's stream, on the writing thread, before the byte is
     * written.
     */
    volatile Runnable beforeFirstWrite;

    final HttpServletResponse proxy;

    Response() {
      ServletOutputStream out =
          new ServletOutputStream() {
            @Override
            public void write(int b) {
              Runnable hook = beforeFirstWrite;
              beforeFirstWrite = null;
              if (hook != null) {
                hook.run();
              }
              synchronized (body) {
                body.write(b);
              }
            }

            @Override
            public void flush() {
              committed = true;
              flushes++;
            }

            @Override
            public boolean isReady() {
              return true;
            }

            @Override
            public void setWriteListener(WriteListener listener) {}
          };
      proxy =
          (HttpServletResponse)
              Proxy.newProxyInstance(
                  Fakes.class.getClassLoader(),
                  new Class<?>[] {HttpServletResponse.class},
                  (p, m, args) -> {
                    switch (m.getName()) {
                      case "setStatus":
                        status = (Integer) args[0];
                        return null;
                      case "getStatus":
                        return status;
                      case "setHeader":
                        headers.put(lower(args[0]), new ArrayList<>(List.of((String) args[1])));
                        return null;
                      case "addHeader":
                        headers
                            .computeIfAbsent(lower(args[0]), k -> new ArrayList<>())
                            .add((String) args[1]);
                        return null;
                      case "getHeader":
                        {
                          List<String> v = headers.get(lower(args[0]));
                          return v == null ? null : v.get(0);
                        }
                      case "getHeaders":
                        return headers.getOrDefault(lower(args[0]), List.of());
                      case "getHeaderNames":
                        return new ArrayList<>(headers.keySet());
                      case "containsHeader":
                        return headers.containsKey(lower(args[0]));
                      case "setContentType":
                        contentType = (String) args[0];
                        return null;
                      case "getContentType":
                        return contentType;
                      case "getCharacterEncoding":
                        return charset;
                      case "setCharacterEncoding":
                        charset = String.valueOf(args[0]);
                        return null;
                      case "getBufferSize":
                        return 8192;
                      case "getOutputStream":
                        return out;
                      case "isCommitted":
                        return committed;
                      case "flushBuffer":
                        committed = true;
                        flushes++;
                        return null;
                      case "sendError":
                        sentError = args[0] + (args.length > 1 ? " " + args[1] : "");
                        committed = true;
                        return null;
                      case "getLocale":
                        return Locale.ROOT;
                      case "setContentLength":
                      case "setContentLengthLong":
                        headers.put(
                            "content-length", new ArrayList<>(List.of(String.valueOf(args[0]))));
                        return null;
                      case "reset":
                        headers.clear();
                        status = 200;
                        contentType = null;
                        return null;
                      case "hashCode":
                        return System.identityHashCode(p);
                      case "equals":
                        return p == args[0];
                      case "toString":
                        return "FakeResponse";
                      default:
                        return null;
                    }
                  });
    }

    private static String lower(Object name) {
      return ((String) name).toLowerCase(Locale.ROOT);
    }
  }

  /** A request with these headers and body; the body stream can be read once. */
  static HttpServletRequest request(
      String method,
      String contentType,
      String encoding,
      String query,
      byte[] body,
      Map<String, String[]> containerParameters) {
    ByteArrayInputStream in = new ByteArrayInputStream(body);
    ServletInputStream stream =
        new ServletInputStream() {
          @Override
          public int read() {
            return in.read();
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
          public void setReadListener(ReadListener listener) {}
        };
    return (HttpServletRequest)
        Proxy.newProxyInstance(
            Fakes.class.getClassLoader(),
            new Class<?>[] {HttpServletRequest.class},
            (p, m, args) -> {
              switch (m.getName()) {
                case "getMethod":
                  return method;
                case "getContentType":
                  return contentType;
                case "getCharacterEncoding":
                  return encoding;
                case "getQueryString":
                  return query;
                case "getInputStream":
                  return stream;
                case "getContentLengthLong":
                  return (long) body.length;
                case "getContentLength":
                  return body.length;
                case "getParameterMap":
                  return containerParameters;
                case "getParameter":
                  {
                    String[] v = containerParameters.get((String) args[0]);
                    return v == null ? null : v[0];
                  }
                case "getParameterNames":
                  return Collections.enumeration(containerParameters.keySet());
                case "getParameterValues":
                  return containerParameters.get((String) args[0]);
                case "isAsyncStarted":
                  return false;
                case "hashCode":
                  return System.identityHashCode(p);
                case "equals":
                  return p == args[0];
                case "toString":
                  return "FakeRequest";
                default:
                  return null;
              }
            });
  }
}
