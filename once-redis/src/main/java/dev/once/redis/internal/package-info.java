/**
 * Implementation of the Redis store, not public API: the Lua scripts and their runner, key names,
 * reply parsing and the sorting of Redis failures.
 */
@NullMarked
package dev.once.redis.internal;

import org.jspecify.annotations.NullMarked;
