/**
 * Implementation of the NATS consumer, not public API: the in-progress ticker that keeps a long
 * batch's messages from being redelivered, and failpoints for the crash tests.
 */
@NullMarked
package dev.once.nats.internal;

import org.jspecify.annotations.NullMarked;
