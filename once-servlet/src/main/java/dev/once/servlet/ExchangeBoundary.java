package dev.once.servlet;

import dev.once.IdempotencyStore;
import dev.once.servlet.internal.NoBoundary;
import jakarta.servlet.ServletException;
import java.io.IOException;

/**
 * Runs one protected exchange (claim → handler → completion) inside a unit of work, e.g. a database
 * transaction, and supplies the store to use inside it (e.g. a JDBC store bound to that
 * transaction's connection). This is what makes "atomic with business data" possible: the
 * idempotency record and the handler's writes commit together or not at all.
 *
 * <pre>{@code
 * ExchangeBoundary jdbcTransaction = new ExchangeBoundary() {
 *   public <T> T run(IdempotencyStore routeStore, Exchange<T> exchange) throws IOException, ServletException {
 *     try (Connection c = dataSource.getConnection()) {        // the handler must use this connection too
 *       c.setAutoCommit(false);
 *       try {
 *         T result = exchange.run(jdbcStore.onConnection(c));
 *         c.commit();
 *         return result;
 *       } catch (Throwable t) {
 *         c.rollback();
 *         throw t;
 *       }
 *     } catch (SQLException e) {
 *       throw new ServletException(e);
 *     }
 *   }
 * };
 * }</pre>
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li>Call {@code exchange.run(store)} at most once, on the calling thread, and return its
 *       result.
 *   <li>When it returns normally, commit the unit of work. If the commit fails, throw: the filter
 *       then answers as if nothing happened (a {@link dev.once.StoreException} becomes 503,
 *       anything else propagates).
 *   <li>When it throws <em>anything</em> (checked exceptions included), roll back and rethrow the
 *       same exception unchanged. The filter throws on purpose to undo the handler's effects: when
 *       the handler failed or answered 5xx (unless {@link IdempotentRoute.Builder#storeServerErrors
 *       stored}), or when its result could not be stored because another request took the key over.
 * </ul>
 *
 * The filter writes the response to the client only after this method has returned, so a client
 * never sees a result whose transaction did not commit. On a route with a boundary nothing passes
 * through before that: a response the filter cannot hold (larger than {@link
 * IdempotencyFilter.Builder#maxResponseBytes}, or written asynchronously) is rolled back and
 * answered with a 500 problem, {@code response-not-holdable}.
 *
 * <p>A boundary that is not {@link #none()} is assumed to roll back. With {@link #none()} (lease
 * mode) a failed completion cannot undo what the handler did, so the filter still sends the
 * handler's response.
 */
public interface ExchangeBoundary {

  /**
   * Runs {@code exchange} inside the unit of work.
   *
   * @param <T> what the exchange returns
   * @param routeStore the store the route uses ({@link IdempotentRoute#store()} or the filter's
   *     default)
   * @param exchange the claim, the handler and the completion; run it exactly once
   * @return what {@code exchange} returned
   * @throws IOException what the exchange threw
   * @throws ServletException what the exchange threw
   */
  <T> T run(IdempotencyStore routeStore, Exchange<T> exchange) throws IOException, ServletException;

  /**
   * The claim, the handler and the completion, against the store it is given.
   *
   * @param <T> what the exchange returns
   */
  interface Exchange<T> {
    /**
     * Runs the exchange.
     *
     * @param store the store to claim and complete in: the route's, or a view of it bound to the
     *     unit of work
     * @return the exchange's result
     * @throws IOException if the request or response fails
     * @throws ServletException if the handler fails
     */
    T run(IdempotencyStore store) throws IOException, ServletException;
  }

  /**
   * {@return a boundary that runs the exchange directly with the route's store} No unit of work.
   */
  static ExchangeBoundary none() {
    return NoBoundary.INSTANCE;
  }
}
