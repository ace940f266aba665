package dev.once.spring.boot.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.http.ResponseEntity;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.context.request.async.WebAsyncTask;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;

class DeferredResponsesTest {

  @SuppressWarnings("unused")
  static class Handlers {
    StreamingResponseBody streaming() {
      return out -> {};
    }

    ResponseEntity<StreamingResponseBody> streamingEntity() {
      return null;
    }

    SseEmitter events() {
      return null;
    }

    DeferredResult<String> deferred() {
      return null;
    }

    WebAsyncTask<String> task() {
      return null;
    }

    Callable<String> callable() {
      return null;
    }

    CompletableFuture<String> future() {
      return null;
    }

    String text() {
      return "";
    }

    ResponseEntity<byte[]> bytes() {
      return null;
    }

    void nothing() {}

    Object anything() {
      return null;
    }
  }

  private static String describe(String name) {
    HandlerMethod handler =
        new HandlerMethod(
            new Handlers(),
            Arrays.stream(Handlers.class.getDeclaredMethods())
                .filter(m -> m.getName().equals(name))
                .findFirst()
                .orElseThrow());
    return DeferredResponses.describe(handler);
  }

  @Test
  void handlersThatAnswerAfterTheyReturnAreNamedByTheirReturnType() {
    assertThat(describe("streaming")).isEqualTo("returns StreamingResponseBody");
    assertThat(describe("streamingEntity")).isEqualTo("returns StreamingResponseBody");
    assertThat(describe("events")).isEqualTo("returns SseEmitter");
    assertThat(describe("deferred")).isEqualTo("returns DeferredResult");
    assertThat(describe("task")).isEqualTo("returns WebAsyncTask");
    assertThat(describe("callable")).isEqualTo("returns Callable");
    assertThat(describe("future")).isEqualTo("returns CompletableFuture");
  }

  @Test
  void handlersThatAnswerBeforeTheyReturnAreNot() {
    assertThat(describe("text")).isNull();
    assertThat(describe("bytes")).isNull();
    assertThat(describe("nothing")).isNull();
    assertThat(describe("anything")).isNull();
  }
}
