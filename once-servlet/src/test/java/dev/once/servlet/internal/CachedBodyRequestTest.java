package dev.once.servlet.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.servlet.ReadListener;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CachedBodyRequestTest {

  private static final byte[] JSON = "{\"item\":\"caf\u00e9\"}".getBytes(StandardCharsets.UTF_8);

  @Test
  void theBodyIsServedAgainThroughTheStream() throws Exception {
    CachedBodyRequest r =
        new CachedBodyRequest(
            Fakes.request("POST", "application/json", "UTF-8", null, new byte[0], Map.of()),
            JSON,
            false);
    assertThat(r.getInputStream().readAllBytes()).isEqualTo(JSON);
    assertThat(r.getInputStream().isFinished()).isTrue();
    assertThatThrownBy(r::getReader).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void theReaderDecodesWithTheRequestCharset() throws Exception {
    CachedBodyRequest utf8 =
        new CachedBodyRequest(
            Fakes.request("POST", "application/json", "UTF-8", null, new byte[0], Map.of()),
            JSON,
            false);
    assertThat(utf8.getReader().readLine()).isEqualTo("{\"item\":\"caf\u00e9\"}");
    assertThatThrownBy(utf8::getInputStream).isInstanceOf(IllegalStateException.class);

    CachedBodyRequest latin1 =
        new CachedBodyRequest(
            Fakes.request("POST", "application/json", null, null, new byte[0], Map.of()),
            "\u00e9".getBytes(StandardCharsets.ISO_8859_1),
            false);
    assertThat(latin1.getReader().readLine()).isEqualTo("\u00e9");
  }

  @Test
  void formParametersComeFromTheQueryAndTheBufferedBody() {
    byte[] form = "item=pen+set&qty=1&qty=2&note=caf%C3%A9".getBytes(StandardCharsets.US_ASCII);
    CachedBodyRequest r =
        new CachedBodyRequest(
            Fakes.request(
                "POST",
                "application/x-www-form-urlencoded",
                "UTF-8",
                "q=search&qty=0",
                new byte[0],
                Map.of()),
            form,
            true);
    assertThat(r.getParameter("item")).isEqualTo("pen set");
    assertThat(r.getParameterValues("qty")).containsExactly("0", "1", "2");
    assertThat(r.getParameter("q")).isEqualTo("search");
    assertThat(r.getParameter("note")).isEqualTo("caf\u00e9");
    assertThat(r.getParameterMap()).containsOnlyKeys("q", "qty", "item", "note");
  }

  @Test
  void otherwiseParametersAreTheContainers() {
    CachedBodyRequest r =
        new CachedBodyRequest(
            Fakes.request(
                "POST",
                "application/json",
                null,
                null,
                new byte[0],
                Map.of("a", new String[] {"1"})),
            JSON,
            false);
    assertThat(r.getParameter("a")).isEqualTo("1");
  }

  @Test
  void readListenersHearTheWholeBodyAtOnce() throws Exception {
    CachedBodyRequest r =
        new CachedBodyRequest(
            Fakes.request("POST", "application/json", null, null, new byte[0], Map.of()),
            JSON,
            false);
    AtomicInteger events = new AtomicInteger();
    r.getInputStream()
        .setReadListener(
            new ReadListener() {
              @Override
              public void onDataAvailable() {
                events.addAndGet(1);
              }

              @Override
              public void onAllDataRead() {
                events.addAndGet(10);
              }

              @Override
              public void onError(Throwable t) {
                events.addAndGet(100);
              }
            });
    assertThat(events).hasValue(11);
  }

  @Test
  void i47_readingStopsPastTheLimit() throws Exception {
    assertThat(CachedBodyRequest.readBody(new ByteArrayInputStream(new byte[10]), -1, 10))
        .hasSize(10);
    assertThat(CachedBodyRequest.readBody(new ByteArrayInputStream(new byte[11]), -1, 10)).isNull();
    assertThat(CachedBodyRequest.readBody(new ByteArrayInputStream(new byte[0]), 0, 10)).isEmpty();
  }
}
