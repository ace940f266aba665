package dev.once.servlet.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.servlet.http.Cookie;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CapturingResponseTest {

  private final Fakes.Response real = new Fakes.Response();
  private final CapturingResponse capture = new CapturingResponse(real.proxy, 1024);

  @Test
  void nothingReachesTheClientWhileCaptured() throws Exception {
    capture.setStatus(201);
    capture.setHeader("Location", "/orders/1");
    capture.addCookie(new Cookie("s", "1"));
    capture.setContentType("application/json");
    capture.getOutputStream().write("{}".getBytes(StandardCharsets.UTF_8));
    capture.flushBuffer();
    assertThat(real.status).isEqualTo(200);
    assertThat(real.headers).isEmpty();
    assertThat(real.body.size()).isZero();
    assertThat(real.committed).isFalse();

    CapturingResponse.Captured c = capture.captured();
    assertThat(c.status()).isEqualTo(201);
    assertThat(c.contentType()).isEqualTo("application/json");
    assertThat(c.body()).isEqualTo("{}".getBytes(StandardCharsets.UTF_8));
    assertThat(c.cookies()).hasSize(1);
    assertThat(capture.getHeader("Location")).isEqualTo("/orders/1");
    assertThat(capture.containsHeader("Set-Cookie")).isTrue();
  }

  @Test
  void flushingCommitsAsAContainerWould() throws Exception {
    capture.setStatus(201);
    capture.getOutputStream().write('x');
    capture.getOutputStream().flush();
    assertThat(capture.isCommitted()).isTrue();
    capture.setStatus(500);               // ignored once committed
    capture.setHeader("X-Late", "1");     // ignored once committed
    assertThat(capture.getStatus()).isEqualTo(201);
    assertThat(capture.containsHeader("X-Late")).isFalse();
    assertThatThrownBy(() -> capture.sendError(500)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(capture::reset).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(capture::resetBuffer).isInstanceOf(IllegalStateException.class);
    capture.getOutputStream().write('y'); // writing on after a flush is fine
    assertThat(capture.captured().body()).containsExactly('x', 'y');
  }

  @Test
  void reachingTheDeclaredLengthCommits() throws Exception {
    capture.setContentLength(2);
    capture.getOutputStream().write('a');
    assertThat(capture.isCommitted()).isFalse();
    capture.getOutputStream().write('b');
    assertThat(capture.isCommitted()).isTrue();
  }

  @Test
  void writerAndStreamExcludeEachOtherAndTheWriterNamesItsCharset() throws Exception {
    capture.setContentType("text/plain");
    PrintWriter w = capture.getWriter();
    assertThatThrownBy(capture::getOutputStream).isInstanceOf(IllegalStateException.class);
    w.write("caf\u00e9");
    capture.setCharacterEncoding("UTF-8"); // too late, as in a container
    CapturingResponse.Captured c = capture.captured();
    assertThat(c.contentType()).isEqualTo("text/plain;charset=ISO-8859-1");
    assertThat(c.body()).isEqualTo("caf\u00e9".getBytes(StandardCharsets.ISO_8859_1));

    CapturingResponse other = new CapturingResponse(new Fakes.Response().proxy, 1024);
    other.setContentType("application/json; charset=utf-8");
    other.getWriter().write("\u00e9");
    assertThat(other.captured().contentType()).isEqualTo("application/json;charset=utf-8");
    assertThat(other.captured().body()).isEqualTo("\u00e9".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void sendErrorAndSendRedirectAreRecordedAndEndTheOutput() throws Exception {
    capture.getOutputStream().write('x');
    capture.sendError(402, "card declined");
    capture.getOutputStream().write('y');
    CapturingResponse.Captured c = capture.captured();
    assertThat(c.errorSent()).isTrue();
    assertThat(c.status()).isEqualTo(402);
    assertThat(c.errorMessage()).isEqualTo("card declined");
    assertThat(c.body()).isEmpty();
    assertThat(real.sentError).isNull();

    CapturingResponse redirect = new CapturingResponse(new Fakes.Response().proxy, 1024);
    redirect.sendRedirect("/orders/7", 303);
    assertThat(redirect.captured().status()).isEqualTo(303);
    assertThat(redirect.getHeader("Location")).isEqualTo("/orders/7");
    assertThat(redirect.isCommitted()).isTrue();
  }

  @Test
  void resetClearsWhatWasCaptured() throws Exception {
    capture.setStatus(400);
    capture.setHeader("X-A", "1");
    capture.getWriter().write("partial");
    capture.reset();
    capture.getOutputStream().write('z'); // after reset the other output kind is allowed again
    CapturingResponse.Captured c = capture.captured();
    assertThat(c.status()).isEqualTo(200);
    assertThat(c.headers()).isEmpty();
    assertThat(c.body()).containsExactly('z');
  }

  @Test
  void setHeaderReplacesAndAddHeaderAppends() {
    capture.addHeader("Vary", "Accept");
    capture.addHeader("vary", "Origin");
    assertThat(capture.getHeaders("Vary")).containsExactly("Accept", "Origin");
    capture.setHeader("VARY", "Cookie");
    assertThat(capture.getHeaders("Vary")).containsExactly("Cookie");
    capture.setHeader("Vary", null);
    assertThat(capture.containsHeader("Vary")).isFalse();
    capture.setHeader("Content-Type", "text/csv");
    assertThat(capture.getContentType()).isEqualTo("text/csv");
    capture.setDateHeader("Last-Modified", 0);
    assertThat(capture.getHeader("Last-Modified")).isEqualTo("Thu, 01 Jan 1970 00:00:00 GMT");
  }

  @Test
  void f37_eventStreamsAndOversizedBodiesPassThrough() throws Exception {
    capture.setStatus(200);
    capture.setHeader("Cache-Control", "no-cache");
    capture.setContentType("text/event-stream");
    assertThat(capture.passThrough()).contains("event-stream");
    assertThat(real.contentType).isEqualTo("text/event-stream");
    assertThat(real.headers.get("cache-control")).containsExactly("no-cache");
    PrintWriter w = capture.getWriter();
    w.write("data: 1\n\n");
    w.flush();
    assertThat(real.body.toString(StandardCharsets.ISO_8859_1)).isEqualTo("data: 1\n\n");
    assertThat(real.committed).isTrue();

    Fakes.Response other = new Fakes.Response();
    CapturingResponse big = new CapturingResponse(other.proxy, 10);
    big.getOutputStream().write(new byte[8]);
    assertThat(big.passThrough()).isNull();
    big.getOutputStream().write(new byte[8]);
    assertThat(big.passThrough()).contains("exceeds 10 bytes");
    assertThat(other.body.size()).isEqualTo(16);
  }
}
