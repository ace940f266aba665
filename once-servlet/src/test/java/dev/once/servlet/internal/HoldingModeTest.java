package dev.once.servlet.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The holding mode alone: what it reports as unholdable, and where the real response shows. */
class HoldingModeTest {

  private final Fakes.Response real = new Fakes.Response();
  private final List<String> unholdable = new ArrayList<>();
  private final HoldingMode holding =
      new HoldingMode(
          real.proxy, 4, (reason, holdAnyway) -> unholdable.add(reason + " / " + holdAnyway));

  @Test
  void anEventStreamIsReportedAsHoldableOnlyWhole() {
    holding.setContentType("text/event-stream");
    holding.setHeader("Content-Type", "text/event-stream;charset=UTF-8");
    holding.addHeader("content-type", "text/event-stream");
    holding.setHeader("Content-Type", null);
    holding.setContentType("application/json");
    holding.setHeader("X-Content-Type", "text/event-stream");
    assertThat(unholdable)
        .containsExactly(
            "the response is a text/event-stream / true",
            "the response is a text/event-stream / true",
            "the response is a text/event-stream / true");
  }

  @Test
  void anEventStreamDeclaredAfterTheCommitIsIgnored() {
    holding.flushBuffer();
    holding.setContentType("text/event-stream");
    assertThat(unholdable).isEmpty();
    assertThat(holding.getContentType()).isNull();
  }

  @Test
  void aBodyBeyondTheLimitIsReportedAsUnholdable() throws Exception {
    holding.write("abcd".getBytes(StandardCharsets.US_ASCII), 0, 4);
    assertThat(unholdable).isEmpty();
    holding.write("e".getBytes(StandardCharsets.US_ASCII), 0, 1);
    assertThat(unholdable).containsExactly("the response body exceeds 4 bytes / false");
    assertThat(real.body.size()).isZero();
  }

  @Test
  void nothingReachesTheRealResponse() throws Exception {
    holding.setStatus(201);
    holding.setHeader("X-A", "1");
    holding.setContentType("text/plain");
    holding.setLocale(Locale.GERMAN);
    holding.write(new byte[] {'x'}, 0, 1);
    holding.flushOutput();
    holding.closeOutput(false);
    assertThatThrownBy(() -> holding.sendError(500, "late"))
        .isInstanceOf(IllegalStateException.class);
    assertThat(real.status).isEqualTo(200);
    assertThat(real.headers).isEmpty();
    assertThat(real.contentType).isNull();
    assertThat(real.body.size()).isZero();
    assertThat(real.committed).isFalse();
    assertThat(holding.isCommitted()).isTrue();
    assertThat(holding.buffer().body()).containsExactly('x');
  }

  @Test
  void closingWhileTheWriterMovesItsCharactersDoesNotEndTheOutput() throws Exception {
    holding.closeOutput(true);
    assertThat(holding.isCommitted()).isFalse();
    holding.write(new byte[] {'x'}, 0, 1);
    assertThat(holding.buffer().body()).containsExactly('x');
  }

  @Test
  void theRealResponseShowsWhereTheHandlerSetNothing() {
    real.headers.put("x-trace", new ArrayList<>(List.of("t1")));
    assertThat(holding.getHeader("X-Trace")).isEqualTo("t1");
    assertThat(holding.getLocale()).isEqualTo(Locale.ROOT);
    assertThat(holding.getBufferSize()).isEqualTo(8192);
    holding.reset(); // as without the wrapper: what was set before the handler goes too
    assertThat(real.headers).isEmpty();
    assertThat(holding.containsHeader("X-Trace")).isFalse();
  }

  @Test
  void aCommittedRealResponseIsNotReset() {
    real.headers.put("x-trace", new ArrayList<>(List.of("t1")));
    real.committed = true;
    holding.reset();
    assertThat(real.headers).containsKey("x-trace");
  }

  @Test
  void aWriterFixesTheHeldCharset() {
    holding.setContentType("text/plain");
    holding.writerUses(holding.getCharacterEncoding());
    holding.setCharacterEncoding("UTF-8");
    assertThat(holding.getContentType()).isEqualTo("text/plain;charset=ISO-8859-1");
    assertThat(real.charset).isEqualTo("ISO-8859-1");
  }

  @Test
  void nonBlockingOutputCannotBeHeld() {
    assertThat(holding.isReady()).isTrue();
    assertThatThrownBy(() -> holding.setWriteListener(null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("non-blocking output cannot be held");
  }
}
