package dev.once.servlet.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.Cookie;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
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
    capture.setStatus(500); // ignored once committed
    capture.setHeader("X-Late", "1"); // ignored once committed
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
  void aWriterThreadLosesNoBytesWhileTheFilterSwitchesToPassThrough() throws Exception {
    ServletOutputStream out = capture.getOutputStream();
    out.write("held.".getBytes(StandardCharsets.US_ASCII));
    CountDownLatch switching = new CountDownLatch(1);
    AtomicBoolean writing = new AtomicBoolean();
    AtomicBoolean written = new AtomicBoolean();
    Thread writer =
        new Thread(
            () -> {
              try {
                switching.await();
                writing.set(true);
                out.write("late.".getBytes(StandardCharsets.US_ASCII));
                written.set(true);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            "async-writer");
    writer.start();
    // The switch is under way (the held bytes are going out) when the writer thread writes: it must
    // neither
    // write into the buffer being emptied nor overtake the held bytes.
    real.beforeFirstWrite =
        () -> {
          switching.countDown();
          await()
              .atMost(Duration.ofSeconds(10))
              .until(
                  () ->
                      written.get()
                          || (writing.get() && writer.getState() == Thread.State.BLOCKED));
        };
    capture.startPassThrough("the handler started asynchronous processing");
    writer.join(10_000);
    assertThat(written).isTrue();
    assertThat(real.body.toString(StandardCharsets.US_ASCII)).isEqualTo("held.late.");
  }

  @Test
  void manyWriterThreadsAndASwitchKeepEveryByte() throws Exception {
    int threads = 4;
    int lines = 2_000;
    ServletOutputStream out =
        capture.getOutputStream(); // the 1 KiB limit is passed early: a second switch
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> writers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread w =
          new Thread(
              () -> {
                try {
                  start.await();
                  for (int i = 0; i < lines; i++) {
                    out.write((id + ":" + i + "\n").getBytes(StandardCharsets.US_ASCII));
                  }
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      w.start();
      writers.add(w);
    }
    start.countDown();
    capture.startPassThrough("the handler started asynchronous processing");
    for (Thread w : writers) {
      w.join(30_000);
    }
    String[] received = real.body.toString(StandardCharsets.US_ASCII).split("\n");
    assertThat(received).hasSize(threads * lines);
    int[] next = new int[threads];
    for (String line : received) {
      int id = Integer.parseInt(line.substring(0, line.indexOf(':')));
      assertThat(line).as("writer %d's lines arrive in order", id).isEqualTo(id + ":" + next[id]++);
    }
  }

  @Test
  void theSwitchNeverWaitsForAWriterThatAWriterThreadHolds() throws Exception {
    PrintWriter out = capture.getWriter();
    out.write("held.");
    capture.finish();
    CountDownLatch switching = new CountDownLatch(1);
    AtomicBoolean written = new AtomicBoolean();
    Thread writer =
        new Thread(
            () -> {
              try {
                switching.await();
                out.write("late.");
                out.flush(); // takes the writer's lock, then waits for the response's
                written.set(true);
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            },
            "async-writer");
    writer.setDaemon(true); // a deadlocked thread must not keep the test JVM alive
    writer.start();
    // The switch holds the response's lock when the writer thread flushes: were the switch to wait
    // for the writer's lock now, neither would move.
    real.beforeFirstWrite =
        () -> {
          switching.countDown();
          await()
              .atMost(Duration.ofSeconds(10))
              .until(() -> written.get() || writer.getState() == Thread.State.BLOCKED);
        };
    Thread filter =
        new Thread(
            () -> {
              try {
                capture.startPassThrough("the handler started asynchronous processing");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            "filter");
    filter.setDaemon(true);
    filter.start();
    filter.join(10_000);
    writer.join(10_000);
    assertThat(filter.isAlive()).as("the switch finished").isFalse();
    assertThat(written).isTrue();
    assertThat(real.body.toString(StandardCharsets.US_ASCII)).isEqualTo("held.late.");
  }

  @Test
  void writerThreadsAndASwitchNeitherDeadlockNorLoseCharacters() throws Exception {
    int threads = 4;
    int lines = 2_000;
    // Each flush takes the writer's lock, then the response's: the switch must never take them in
    // the other order. The 1 KiB limit is passed early, so a writer thread switches too.
    PrintWriter out = capture.getWriter();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> writers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread w =
          new Thread(
              () -> {
                try {
                  start.await();
                  for (int i = 0; i < lines; i++) {
                    out.write(id + ":" + i + "\n");
                    if (i % 50 == 0) {
                      out.flush();
                    }
                  }
                  out.flush();
                } catch (InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              });
      w.setDaemon(true); // a deadlocked writer must not keep the test JVM alive
      w.start();
      writers.add(w);
    }
    start.countDown();
    capture.startPassThrough("the handler started asynchronous processing");
    capture.finish();
    for (Thread w : writers) {
      w.join(30_000);
      assertThat(w.isAlive()).as("writer %s finished", w.getName()).isFalse();
    }
    String[] received = real.body.toString(StandardCharsets.US_ASCII).split("\n");
    assertThat(received).hasSize(threads * lines);
    int[] next = new int[threads];
    for (String line : received) {
      int id = Integer.parseInt(line.substring(0, line.indexOf(':')));
      assertThat(line).as("writer %d's lines arrive in order", id).isEqualTo(id + ":" + next[id]++);
    }
  }

  @Test
  void writerThreadsOfAnAbandonedResponseReachNobody() throws Exception {
    Fakes.Response client = new Fakes.Response();
    CapturingResponse held = new CapturingResponse(client.proxy, 1 << 20, false);
    ServletOutputStream out = held.getOutputStream();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> writers = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread w =
          new Thread(
              () -> {
                try {
                  start.await();
                  for (int i = 0; i < 2_000; i++) {
                    out.write(new byte[] {'x', '\n'});
                  }
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      w.start();
      writers.add(w);
    }
    start.countDown();
    held.abandon("the handler started asynchronous processing");
    for (Thread w : writers) {
      w.join(30_000);
    }
    assertThat(held.unholdable()).isEqualTo("the handler started asynchronous processing");
    assertThat(held.captured().body()).isEmpty();
    assertThat(client.body.size()).isZero();
    assertThat(client.committed).isFalse();
  }

  @Test
  void heldResponsesNeverReachTheClientBeforeTheFilterDecides() throws Exception {
    Fakes.Response client = new Fakes.Response();
    CapturingResponse held = new CapturingResponse(client.proxy, 10, false);
    held.setContentType("text/event-stream");
    held.getWriter().write("data: 1\n\n");
    held.getWriter().flush();
    assertThat(held.passThrough()).isNull();
    assertThat(held.unholdable()).isNull();
    assertThat(held.captured().body())
        .isEqualTo("data: 1\n\n".getBytes(StandardCharsets.ISO_8859_1));
    held.getWriter().write("data: 2\n\n"); // past the limit: given up, not sent
    held.getWriter().flush();
    assertThat(held.unholdable()).contains("exceeds 10 bytes");
    assertThat(held.captured().body()).isEmpty();
    assertThat(client.body.size()).isZero();
    assertThat(client.committed).isFalse();
    assertThatThrownBy(() -> held.startPassThrough("async"))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(
            () ->
                new CapturingResponse(new Fakes.Response().proxy, 10, false)
                    .getOutputStream()
                    .setWriteListener(null))
        .isInstanceOf(IllegalStateException.class);
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
