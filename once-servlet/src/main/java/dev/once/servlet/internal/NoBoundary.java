package dev.once.servlet.internal;

import dev.once.IdempotencyStore;
import dev.once.servlet.ExchangeBoundary;
import jakarta.servlet.ServletException;
import java.io.IOException;

/**
 * {@link ExchangeBoundary#none()}: a singleton, so the filter can tell lease mode from atomic mode.
 */
public final class NoBoundary implements ExchangeBoundary {

  public static final NoBoundary INSTANCE = new NoBoundary();

  private NoBoundary() {}

  @Override
  public <T> T run(IdempotencyStore routeStore, Exchange<T> exchange)
      throws IOException, ServletException {
    return exchange.run(routeStore);
  }

  @Override
  public String toString() {
    return "ExchangeBoundary.none()";
  }
}
