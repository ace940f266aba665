/**
 * Once's listener SPI ({@link dev.once.OnceListener}) for operators: {@link
 * dev.once.micrometer.MicrometerOnceListener} counts and times every step as Micrometer meters,
 * {@link dev.once.micrometer.ObservationOnceListener} makes each claim a Micrometer Observation (a
 * span under Spring Boot's tracing bridges), and {@link dev.once.micrometer.LoggingOnceListener}
 * writes one structured log line per outcome.
 */
@NullMarked
package dev.once.micrometer;

import org.jspecify.annotations.NullMarked;
