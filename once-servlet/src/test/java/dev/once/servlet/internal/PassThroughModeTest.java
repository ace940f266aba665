package dev.once.servlet.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.servlet.http.Cookie;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The pass-through mode alone: what was held reaches the client first, then every call. */
class PassThroughModeTest {

  private final Fakes.Response client = new Fakes.Response();
  private final ResponseBuffer<Cookie> held =
      new HoldingMode(new Fakes.Response().proxy, 1024, (reason, holdAnyway) -> {}).buffer();

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void theHeldResponseGoesOutFirst() throws Exception {
    held.setStatus(201);
    held.header("Location", "/orders/1", true);
    held.header("Vary", "Accept", false);
    held.setContentType("text/plain");
    held.setCharacterEncoding("UTF-8");
    held.setContentLength(10);
    held.write(ascii("held."), 0, 5);
    PassThroughMode passing = new PassThroughMode(client.proxy, held.errorSent());
    passing.sendHeld(held);
    passing.write(ascii("late."), 0, 5);

    assertThat(client.status).isEqualTo(201);
    assertThat(client.headers.get("location")).containsExactly("/orders/1");
    assertThat(client.headers.get("vary")).containsExactly("Accept");
    assertThat(client.headers.get("content-length")).containsExactly("10");
    assertThat(client.contentType).isEqualTo("text/plain;charset=UTF-8");
    assertThat(client.charset).isEqualTo("UTF-8");
    assertThat(client.body.toString(StandardCharsets.US_ASCII)).isEqualTo("held.late.");
    assertThat(client.committed).as("the handler had not flushed").isFalse();
    assertThat(held.bodySize()).isZero();
  }

  @Test
  void aHeldFlushIsRepeatedOnTheClient() throws Exception {
    held.write(ascii("x"), 0, 1);
    held.commit();
    new PassThroughMode(client.proxy, false).sendHeld(held);
    assertThat(client.committed).isTrue();
    assertThat(client.flushes).isEqualTo(1);
  }

  @Test
  void aHeldErrorIsSentAndLaterOutputDropped() throws Exception {
    held.sendError(503, "busy");
    PassThroughMode passing = new PassThroughMode(client.proxy, held.errorSent());
    passing.sendHeld(held);
    passing.write(ascii("ignored"), 0, 7);
    passing.flushOutput();
    assertThat(client.sentError).isEqualTo("503 busy");
    assertThat(client.body.size()).isZero();
    assertThat(client.flushes).isZero();
    assertThatThrownBy(() -> passing.setWriteListener(null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("sendError");
  }

  @Test
  void everyCallAfterGoesToTheClient() throws Exception {
    PassThroughMode passing = new PassThroughMode(client.proxy, false);
    passing.sendHeld(held);
    assertThat(passing.isReady()).as("no stream taken yet").isTrue();
    passing.setStatus(202);
    passing.setHeader("X-A", "1");
    passing.addHeader("X-A", "2");
    passing.setContentType("application/json");
    passing.writerUses("UTF-16");
    passing.setLocale(Locale.GERMAN);
    passing.flushOutput();
    assertThat(passing.getStatus()).isEqualTo(202);
    assertThat(passing.getHeaders("X-A")).containsExactly("1", "2");
    assertThat(passing.getContentType()).isEqualTo("application/json");
    assertThat(passing.getCharacterEncoding()).isEqualTo("UTF-16");
    assertThat(passing.getLocale()).isEqualTo(Locale.ROOT); // the fake client ignores setLocale
    assertThat(client.committed).isTrue();
    assertThat(passing.isCommitted()).isTrue();
  }
}
