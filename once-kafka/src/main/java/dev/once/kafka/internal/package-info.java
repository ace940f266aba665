/**
 * Implementation of the Kafka consumers, not public API: batch processing, offsets kept beside the
 * effects, pausing, dead-lettering and the run/close handshake.
 */
@NullMarked
package dev.once.kafka.internal;

import org.jspecify.annotations.NullMarked;
