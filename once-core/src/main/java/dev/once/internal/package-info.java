/**
 * Implementation shared by the modules, not public API: the decisions every inbox adapter takes
 * alike, the ticker that keeps a long batch from being redelivered, and SHA-256 digests.
 */
@NullMarked
package dev.once.internal;

import org.jspecify.annotations.NullMarked;
