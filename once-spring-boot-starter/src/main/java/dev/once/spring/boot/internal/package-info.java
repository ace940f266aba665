/**
 * Implementation of the starter, not public API: the listener adapters and their shared
 * transaction, deferred acknowledgments, and handler lookups ahead of the DispatcherServlet.
 */
@NullMarked
package dev.once.spring.boot.internal;

import org.jspecify.annotations.NullMarked;
