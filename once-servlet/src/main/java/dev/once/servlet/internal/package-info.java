/**
 * Implementation of the filter, not public API: header parsing, request fingerprints, response
 * capture and replay, route tables and problem responses.
 */
@NullMarked
package dev.once.servlet.internal;

import org.jspecify.annotations.NullMarked;
