/** The outbox's machinery: ids, header encoding, each dialect's statements. Not public API. */
@NullMarked
package dev.once.outbox.internal;

import org.jspecify.annotations.NullMarked;
