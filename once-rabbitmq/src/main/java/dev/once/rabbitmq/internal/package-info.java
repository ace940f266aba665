/** Implementation of the RabbitMQ consumer, not public API: failpoints for the crash tests. */
@NullMarked
package dev.once.rabbitmq.internal;

import org.jspecify.annotations.NullMarked;
