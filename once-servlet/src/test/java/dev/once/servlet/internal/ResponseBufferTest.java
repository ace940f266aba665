package dev.once.servlet.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.servlet.internal.CapturingResponse.Header;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The held response alone: no servlet types, no real response, no threads. */
class ResponseBufferTest {

  /** The response before the handler ran: a charset, a content type and headers set upstream. */
  private static final class Before implements ResponseBuffer.Upstream {
    String charset;
    String contentType;
    final Map<String, List<String>> headers = new LinkedHashMap<>();

    @Override
    public String getCharacterEncoding() {
      return charset;
    }

    @Override
    public String getContentType() {
      return contentType;
    }

    @Override
    public int getBufferSize() {
      return 4096;
    }

    @Override
    public Locale getLocale() {
      return Locale.ROOT;
    }

    @Override
    public boolean containsHeader(String name) {
      return headers.containsKey(name);
    }

    @Override
    public String getHeader(String name) {
      List<String> values = headers.get(name);
      return values == null ? null : values.get(0);
    }

    @Override
    public Collection<String> getHeaders(String name) {
      return headers.getOrDefault(name, List.of());
    }

    @Override
    public Collection<String> getHeaderNames() {
      return new ArrayList<>(headers.keySet());
    }
  }

  private final Before before = new Before();
  private final ResponseBuffer<String> buffer = new ResponseBuffer<>(8, before);

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private boolean write(String s) {
    byte[] b = ascii(s);
    return buffer.write(b, 0, b.length);
  }

  @Test
  void startsFromWhatTheResponseHadBeforeTheHandler() {
    before.charset = "UTF-8";
    before.contentType = "text/html;charset=UTF-8";
    ResponseBuffer<String> fresh = new ResponseBuffer<>(8, before);
    assertThat(fresh.status()).isEqualTo(200);
    assertThat(fresh.charset()).isEqualTo("UTF-8");
    assertThat(fresh.contentType()).isEqualTo("text/html;charset=UTF-8");
    assertThat(fresh.bufferSize()).isEqualTo(4096);
    assertThat(fresh.locale()).isEqualTo(Locale.ROOT);

    assertThat(buffer.charset()).isEqualTo("ISO-8859-1"); // no charset upstream: the HTTP default
    assertThat(buffer.contentType()).isNull();
  }

  @Test
  void theBodyIsBoundedByTheLimit() {
    assertThat(write("12345678")).isFalse();
    assertThat(buffer.body()).isEqualTo(ascii("12345678"));
    assertThat(write("9")).as("one byte beyond the limit").isTrue();
    assertThat(buffer.bodySize()).isEqualTo(9); // kept: the owner decides what happens to it
  }

  @Test
  void aDiscardedBodyStaysEmptyEvenAfterAReset() {
    write("abc");
    buffer.discard();
    assertThat(write("def")).isFalse();
    buffer.reset();
    write("ghi");
    assertThat(buffer.body()).isEmpty();
  }

  @Test
  void movingTheBodyOutEmptiesIt() throws Exception {
    write("abc");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    buffer.moveBodyTo(out);
    write("d");
    assertThat(out.toByteArray()).isEqualTo(ascii("abc"));
    assertThat(buffer.body()).isEqualTo(ascii("d"));
  }

  @Test
  void committingFreezesTheHeadButNotTheBody() {
    buffer.setStatus(201);
    buffer.header("X-A", "1", true);
    buffer.addCookie("s=1");
    buffer.commit();
    buffer.setStatus(500);
    buffer.header("X-B", "2", true);
    buffer.addCookie("t=2");
    buffer.setContentType("text/plain");
    buffer.setContentLength(3);
    buffer.setLocale(Locale.GERMAN);
    assertThat(buffer.status()).isEqualTo(201);
    assertThat(buffer.headers()).containsExactly(new Header("X-A", "1", true));
    assertThat(buffer.cookies()).containsExactly("s=1");
    assertThat(buffer.contentType()).isNull();
    assertThat(buffer.declaredLength()).isEqualTo(-1);
    assertThat(write("xy")).isFalse();
    assertThat(buffer.body()).isEqualTo(ascii("xy"));
    assertThatThrownBy(() -> buffer.sendError(500, null)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> buffer.sendRedirect("/x", 302, true))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(buffer::reset).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(buffer::resetBuffer).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> buffer.setBufferSize(1)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> buffer.setTrailerFields(Map::of))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void writingTheDeclaredLengthCommits() {
    buffer.setContentLength(3);
    write("ab");
    assertThat(buffer.isCommitted()).isFalse();
    write("c");
    assertThat(buffer.isCommitted()).isTrue();
  }

  @Test
  void endingTheOutputIgnoresWhatComesAfter() {
    write("ab");
    buffer.end();
    assertThat(write("cd")).isFalse();
    assertThat(buffer.body()).isEqualTo(ascii("ab"));
    assertThat(buffer.isCommitted()).isTrue();
  }

  @Test
  void sendErrorDropsTheBodyAndEndsTheOutput() {
    write("partial");
    buffer.sendError(402, "card declined");
    write("more");
    assertThat(buffer.errorSent()).isTrue();
    assertThat(buffer.status()).isEqualTo(402);
    assertThat(buffer.errorMessage()).isEqualTo("card declined");
    assertThat(buffer.body()).isEmpty();
    assertThat(buffer.isCommitted()).isTrue();
  }

  @Test
  void sendRedirectSetsTheLocationAndKeepsTheBodyUnlessCleared() {
    write("see");
    buffer.sendRedirect("/orders/7", 303, false);
    assertThat(buffer.status()).isEqualTo(303);
    assertThat(buffer.getHeader("location")).isEqualTo("/orders/7");
    assertThat(buffer.body()).isEqualTo(ascii("see"));
    assertThat(buffer.isCommitted()).isTrue();
    assertThatThrownBy(() -> new ResponseBuffer<>(8, before).sendRedirect(null, 302, true))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void resetForgetsAllButTheTrailersAndTheBufferSize() {
    Supplier<Map<String, String>> trailers = () -> Map.of("X-Checksum", "1");
    buffer.setBufferSize(100);
    buffer.setTrailerFields(trailers);
    buffer.setStatus(400);
    buffer.header("X-A", "1", false);
    buffer.addCookie("s=1");
    buffer.setContentType("application/json;charset=UTF-8");
    buffer.setLocale(Locale.GERMAN);
    buffer.setContentLength(5);
    buffer.fixCharset();
    write("abc");
    buffer.reset();
    assertThat(buffer.status()).isEqualTo(200);
    assertThat(buffer.headers()).isEmpty();
    assertThat(buffer.cookies()).isEmpty();
    assertThat(buffer.contentType()).isNull();
    assertThat(buffer.charset()).isEqualTo("ISO-8859-1");
    assertThat(buffer.charsetSet()).isFalse();
    assertThat(buffer.locale()).isEqualTo(Locale.ROOT);
    assertThat(buffer.declaredLength()).isEqualTo(-1);
    assertThat(buffer.body()).isEmpty();
    assertThat(buffer.trailers()).isSameAs(trailers);
    assertThat(buffer.bufferSize()).isEqualTo(100);
    buffer.setCharacterEncoding("UTF-8"); // the writer's charset is free again
    assertThat(buffer.charset()).isEqualTo("UTF-8");
  }

  @Test
  void theContentTypeCarriesTheCharsetOnceChosen() {
    buffer.setContentType("text/plain");
    assertThat(buffer.contentType()).isEqualTo("text/plain");
    buffer.setCharacterEncoding("UTF-8");
    assertThat(buffer.contentType()).isEqualTo("text/plain;charset=UTF-8");
    buffer.setContentType("application/json; charset=utf-16");
    assertThat(buffer.contentType()).isEqualTo("application/json;charset=utf-16");
    buffer.setContentType(null);
    assertThat(buffer.contentType()).isNull();
    assertThat(buffer.charset()).isEqualTo("ISO-8859-1");
  }

  @Test
  void aWriterFixesTheCharsetItEncodesWith() {
    buffer.setContentType("text/plain");
    buffer.fixCharset();
    assertThat(buffer.contentType()).isEqualTo("text/plain;charset=ISO-8859-1");
    buffer.setCharacterEncoding("UTF-8");
    buffer.setContentType("text/csv;charset=UTF-8");
    buffer.setContentType(null);
    buffer.setContentType("text/csv");
    assertThat(buffer.contentType()).isEqualTo("text/csv;charset=ISO-8859-1");
  }

  @Test
  void contentTypeAndContentLengthHeadersSetThemselves() {
    buffer.header("content-type", "text/csv", false);
    buffer.header("Content-Length", " 12 ", true);
    assertThat(buffer.contentType()).isEqualTo("text/csv");
    assertThat(buffer.declaredLength()).isEqualTo(12);
    assertThat(buffer.headers()).isEmpty();
    assertThat(buffer.getHeader("Content-Length")).isEqualTo("12");
    assertThat(buffer.getHeaders("content-type")).containsExactly("text/csv");

    buffer.header("Content-Length", "twelve", true); // as Tomcat: ignored
    assertThat(buffer.declaredLength()).isEqualTo(12);
    buffer.header("Content-Length", null, false); // adding nothing changes nothing
    assertThat(buffer.declaredLength()).isEqualTo(12);
    buffer.header("Content-Length", null, true);
    assertThat(buffer.containsHeader("Content-Length")).isFalse();
    buffer.header("Content-Type", null, false);
    assertThat(buffer.contentType()).isEqualTo("text/csv");
    buffer.header("Content-Type", null, true);
    assertThat(buffer.containsHeader("Content-Type")).isFalse();
  }

  @Test
  void headersSetUpstreamShowWhereTheHandlerSetNone() {
    before.headers.put("Vary", List.of("Origin"));
    before.headers.put("X-Trace", List.of("t1"));
    buffer.header("Vary", "Accept", false);
    buffer.header("X-Own", "1", false);
    buffer.addCookie("s=1");
    buffer.setContentType("text/plain");

    assertThat(buffer.getHeaders("Vary")).containsExactly("Accept");
    assertThat(buffer.getHeader("X-Trace")).isEqualTo("t1");
    assertThat(buffer.getHeaders("X-Trace")).containsExactly("t1");
    assertThat(buffer.containsHeader("X-Trace")).isTrue();
    assertThat(buffer.containsHeader("Set-Cookie")).isTrue();
    assertThat(buffer.containsHeader("X-None")).isFalse();
    assertThat(buffer.getHeaderNames()).containsExactly("Vary", "X-Trace", "X-Own", "Content-Type");
  }

  @Test
  void setReplacesEveryCaseOfANameAndNullRemoves() {
    buffer.header("Vary", "Accept", false);
    buffer.header("vary", "Origin", false);
    buffer.header("VARY", "Cookie", true);
    assertThat(buffer.headers()).containsExactly(new Header("VARY", "Cookie", true));
    buffer.header("Vary", null, true);
    assertThat(buffer.headers()).isEmpty();
    buffer.setLocale(Locale.CANADA_FRENCH);
    assertThat(buffer.headers()).containsExactly(new Header("Content-Language", "fr-CA", true));
    assertThat(buffer.locale()).isEqualTo(Locale.CANADA_FRENCH);
  }

  @Test
  void theBufferSizeIsFixedOnceContentIsWritten() {
    buffer.setBufferSize(10);
    assertThat(buffer.bufferSize()).isEqualTo(10);
    write("a");
    assertThatThrownBy(() -> buffer.setBufferSize(20)).isInstanceOf(IllegalStateException.class);
  }
}
