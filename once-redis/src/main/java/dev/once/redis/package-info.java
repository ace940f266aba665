/**
 * A Redis idempotency store on Lettuce: {@link dev.once.redis.RedisIdempotencyStore} runs each step
 * as one atomic Lua script, with leases and retention timed by the server.
 */
@NullMarked
package dev.once.redis;

import org.jspecify.annotations.NullMarked;
