package dev.once.spring.boot.internal;

import java.lang.reflect.Method;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;
import org.springframework.core.KotlinDetector;
import org.springframework.core.ReactiveAdapterRegistry;
import org.springframework.core.ResolvableType;
import org.springframework.http.HttpEntity;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.context.request.async.WebAsyncTask;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyEmitter;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;

/**
 * Which Spring MVC handler methods answer after they return: their return value makes Spring MVC
 * start asynchronous processing and write the response from another thread, after the filter's
 * transaction would have committed. Such a handler cannot run on a route whose response is held
 * until a commit.
 */
public final class DeferredResponses {

  /**
   * Return types Spring MVC answers asynchronously (subtypes included: {@code SseEmitter}, {@code
   * CompletableFuture}).
   */
  private static final List<Class<?>> DEFERRED =
      List.of(
          StreamingResponseBody.class,
          ResponseBodyEmitter.class,
          DeferredResult.class,
          WebAsyncTask.class,
          Callable.class,
          CompletionStage.class);

  private DeferredResponses() {}

  /**
   * What makes {@code handler} answer after it returns, as a phrase for an error message ("returns
   * StreamingResponseBody"), or {@code null} when its declared return type answers before it
   * returns. A handler declared to return {@code Object}, or that starts asynchronous processing
   * itself, is not recognised here; the filter refuses it when it happens.
   */
  public static @Nullable String describe(HandlerMethod handler) {
    Method method = handler.getMethod();
    if (KotlinDetector.isSuspendingFunction(method)) {
      return "is a Kotlin suspending function";
    }
    ResolvableType type = ResolvableType.forMethodReturnType(method, handler.getBeanType());
    if (HttpEntity.class.isAssignableFrom(type.toClass())) {
      type =
          type.as(HttpEntity.class)
              .getGeneric(0); // ResponseEntity<StreamingResponseBody> and the like
    }
    Class<?> returned = type.toClass();
    for (Class<?> deferred : DEFERRED) {
      if (deferred.isAssignableFrom(returned)) {
        return "returns " + returned.getSimpleName();
      }
    }
    if (returned != Object.class
        && ReactiveAdapterRegistry.getSharedInstance().getAdapter(returned) != null) {
      return "returns " + returned.getSimpleName() + ", a reactive type";
    }
    return null;
  }
}
