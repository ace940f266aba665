/**
 * An Idempotency-Key filter for Jakarta Servlet: {@link dev.once.servlet.IdempotencyFilter} replays
 * a completed request's response, answers a retry that is still running, and refuses a key reused
 * for another request.
 */
@NullMarked
package dev.once.servlet;

import org.jspecify.annotations.NullMarked;
