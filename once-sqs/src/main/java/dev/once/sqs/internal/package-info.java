/**
 * Implementation of the SQS consumer, not public API: the queue's settings read at start, and the
 * batch calls (visibility changes, deletes) in chunks of ten.
 */
@NullMarked
package dev.once.sqs.internal;

import org.jspecify.annotations.NullMarked;
