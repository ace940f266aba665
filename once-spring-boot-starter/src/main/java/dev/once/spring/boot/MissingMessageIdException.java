package dev.once.spring.boot;

import org.springframework.messaging.converter.MessageConversionException;

/**
 * A delivery to an idempotent listener has no usable message id (none, blank, or one the key policy
 * refuses), so it cannot be told apart from its own redelivery and is never processed unprotected.
 *
 * <p>It is a {@link MessageConversionException} on purpose: Spring Kafka's {@code
 * DefaultErrorHandler} and Spring AMQP's {@code ConditionalRejectingErrorHandler} both classify
 * that as fatal, so without any extra configuration the record goes straight to the recoverer (the
 * dead-letter topic with a {@code DeadLetterPublishingRecoverer}) and the AMQP message is rejected
 * without requeue (to the queue's dead-letter exchange), with no retries.
 */
public class MissingMessageIdException extends MessageConversionException {

  private static final long serialVersionUID = 1L;

  /** Where the delivery came from: {@code topic-partition@offset}, or the queue. */
  private final String source;

  /**
   * Creates the exception; the message says the delivery is not processed.
   *
   * @param source where the delivery came from, e.g. {@code payments-0@42} or the queue name
   * @param detail what was wrong with the id
   */
  public MissingMessageIdException(String source, String detail) {
    super(
        "no usable message id on the delivery from "
            + source
            + " ("
            + detail
            + "); it is not processed, so that it can never be applied twice");
    this.source = source;
  }

  /** {@return where the delivery came from: {@code topic-partition@offset}, or the queue} */
  public String source() {
    return source;
  }
}
