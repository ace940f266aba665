package dev.once.examples.payments;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Runs just inside the Idempotency-Key filter and, for a request with {@value #HEADER}, fails after
 * the handler has returned: its service transaction has ended and its response is written, but the
 * key is not yet completed. That is the window between "business insert" and "record completion"
 * that atomic mode closes.
 */
final class FailAfterHandlerFilter extends HttpFilter {
  private static final long serialVersionUID = 1L;

  static final String HEADER = "X-Test-Fail-After-Handler";

  @Override
  protected void doFilter(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    chain.doFilter(request, response);
    if (request.getHeader(HEADER) != null) {
      throw new ServletException("injected failure after the handler returned");
    }
  }
}
