/**
 * Spring Boot auto-configuration for Once: the Idempotency-Key filter for {@link
 * dev.once.spring.boot.Idempotent} handlers, the store chosen by properties, and idempotent Kafka
 * and RabbitMQ listener containers.
 */
@NullMarked
package dev.once.spring.boot;

import org.jspecify.annotations.NullMarked;
