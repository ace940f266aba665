package dev.once.nats.internal;

import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Ends a message for good: publishes it to the dead-letter subject (when there is one) and
 * terminates it ({@code term}) only after JetStream stored the dead letter; if that publish fails,
 * the message is nacked instead, so a dead letter is never lost. Without a subject the message is
 * only terminated (JetStream's {@code MSG_TERMINATED} advisory reports it).
 */
public final class DeadLetters {

  /** Why a message was dead-lettered: one line, at most {@value #MAX_REASON_LENGTH} characters. */
  public static final String REASON_HEADER = "Once-Dead-Letter-Reason";

  static final int MAX_REASON_LENGTH = 500;

  private static final System.Logger LOG = System.getLogger(DeadLetters.class.getName());

  private final JetStream jetStream;
  private final String stream;
  private final @Nullable String subject;
  private final Supplier<Duration> nakDelay;

  /**
   * @param jetStream publishes the dead letters
   * @param stream the consumed stream's name, for the headers and logs
   * @param subject where dead letters go; {@code null}: terminate only
   * @param nakDelay the redelivery delay of a message whose dead letter could not be published
   */
  public DeadLetters(
      JetStream jetStream, String stream, @Nullable String subject, Supplier<Duration> nakDelay) {
    this.jetStream = Objects.requireNonNull(jetStream, "jetStream");
    this.stream = Objects.requireNonNull(stream, "stream");
    this.subject = subject;
    this.nakDelay = Objects.requireNonNull(nakDelay, "nakDelay");
  }

  /**
   * Dead-letters {@code m}: its data and headers plus {@link #REASON_HEADER}, {@code
   * Once-Original-Subject}, {@code Once-Original-Stream}, {@code Once-Original-Sequence} and {@code
   * Once-Deliveries}.
   *
   * @return whether the message is dead for good (false: its dead letter could not be published and
   *     it was nacked instead)
   */
  public boolean send(Message m, String reason) {
    String oneLine = reason.replaceAll("[\\r\\n]+", " ");
    if (oneLine.length() > MAX_REASON_LENGTH) {
      oneLine = oneLine.substring(0, MAX_REASON_LENGTH);
    }
    LOG.log(
        System.Logger.Level.WARNING,
        "message "
            + m.metaData().streamSequence()
            + " of stream "
            + stream
            + " dead-lettered"
            + (subject == null ? "" : " to " + subject)
            + ": "
            + oneLine);
    if (subject != null) {
      Headers headers = m.getHeaders() == null ? new Headers() : new Headers(m.getHeaders());
      headers.put(REASON_HEADER, oneLine);
      headers.put("Once-Original-Subject", m.getSubject());
      headers.put("Once-Original-Stream", stream);
      headers.put("Once-Original-Sequence", Long.toString(m.metaData().streamSequence()));
      headers.put("Once-Deliveries", Long.toString(m.metaData().deliveredCount()));
      byte[] data = m.getData() == null ? new byte[0] : m.getData();
      try {
        jetStream.publish(
            NatsMessage.builder().subject(subject).headers(headers).data(data).build());
      } catch (IOException | JetStreamApiException | RuntimeException e) {
        LOG.log(
            System.Logger.Level.ERROR,
            "could not publish a dead letter to " + subject + "; the message is nacked",
            e);
        m.nakWithDelay(nakDelay.get());
        return false;
      }
    }
    m.term();
    return true;
  }
}
