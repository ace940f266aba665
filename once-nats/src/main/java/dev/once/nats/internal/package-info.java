/**
 * Implementation of the NATS consumer, not public API: the dead letters (publish, then terminate).
 */
@NullMarked
package dev.once.nats.internal;

import org.jspecify.annotations.NullMarked;
