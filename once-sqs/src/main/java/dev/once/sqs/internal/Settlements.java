package dev.once.sqs.internal;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * How the consumer settles received messages with SQS: deleted after the commit, their visibility
 * extended while their batch runs, delayed after a failure, handed back at once, or given up to the
 * queue's redrive policy. None of these throws: a call SQS refuses or that does not arrive is
 * logged, and the message's own visibility timeout is the fallback (it comes back, and the inbox
 * skips it if its batch committed).
 */
public final class Settlements {

  private static final System.Logger LOG = System.getLogger(Settlements.class.getName());

  private final BatchCalls calls;
  private final String queueUrl;
  private final QueueSettings queue;
  private final Duration maxBackoff;

  /**
   * @param client the consumer's SQS client
   * @param queueUrl the consumed queue
   * @param queue its settings, read at start
   * @param maxBackoff the delay of a given-up message on a queue without a redrive policy
   */
  public Settlements(SqsClient client, String queueUrl, QueueSettings queue, Duration maxBackoff) {
    this.calls = new BatchCalls(client, queueUrl);
    this.queueUrl = Objects.requireNonNull(queueUrl, "queueUrl");
    this.queue = Objects.requireNonNull(queue, "queue");
    this.maxBackoff = Objects.requireNonNull(maxBackoff, "maxBackoff");
  }

  /**
   * How many times SQS handed this message out, this receive included ({@code
   * ApproximateReceiveCount}); 1 when it is missing or unreadable.
   */
  public static int receiveCount(Message message) {
    String count = message.attributes().get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT);
    if (count == null) {
      return 1;
    }
    try {
      return Math.max(1, Integer.parseInt(count.trim()));
    } catch (NumberFormatException e) {
      return 1;
    }
  }

  /** Deletes a committed batch. */
  public void deleteCommitted(List<Message> committed) {
    try {
      List<String> refused = calls.delete(committed);
      if (!refused.isEmpty()) {
        LOG.log(
            System.Logger.Level.WARNING,
            "SQS did not delete "
                + refused
                + " of "
                + queueUrl
                + " after commit; they come back after their visibility timeout and are skipped"
                + " as duplicates");
      }
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "deleting a committed batch of "
              + committed.size()
              + " from "
              + queueUrl
              + " failed; it comes back after its visibility timeout and is skipped as duplicates: "
              + e);
    }
  }

  /**
   * Another full visibility timeout for the batch in hand (the ticker's job; it logs a failed
   * call).
   */
  public void extend(List<Message> messages) {
    List<String> refused = calls.changeVisibility(messages, queue.visibilityTimeoutSeconds());
    if (!refused.isEmpty()) {
      LOG.log(
          System.Logger.Level.WARNING,
          "SQS did not extend the visibility of "
              + refused
              + " of "
              + queueUrl
              + "; another consumer may receive them, and skips them if this batch commits");
    }
  }

  /** Hands unsettled messages back to the queue at once, for another consumer. */
  public void release(List<Message> messages) {
    setVisibility(messages, 0, "make messages visible again");
  }

  /**
   * A failed message: visible again after {@code delayNanos}, rounded up to whole seconds.
   *
   * @param attempt its failed attempts, this one included
   */
  public void retryLater(
      Message m,
      String id,
      int attempt,
      int maxAttempts,
      long delayNanos,
      @Nullable Throwable cause) {
    int delay = ceilSeconds(delayNanos);
    LOG.log(
        System.Logger.Level.INFO,
        "message "
            + id
            + " of "
            + queueUrl
            + " failed (attempt "
            + attempt
            + " of "
            + maxAttempts
            + "); visible again in "
            + delay
            + " s: "
            + cause);
    setVisibility(List.of(m), delay, "delay a failed message");
  }

  /**
   * A message that will not be applied: left to the queue's redrive policy (visible at once, so the
   * queue moves it to its dead-letter queue on the receive past maxReceiveCount), or, without one,
   * kept and tried again after {@code maxBackoff}.
   */
  public void giveUp(Message m, String reason) {
    String oneLine = reason.replaceAll("[\\r\\n]+", " ");
    if (queue.maxReceiveCount() != null) {
      LOG.log(
          System.Logger.Level.WARNING,
          "message "
              + m.messageId()
              + " of "
              + queueUrl
              + " given up, left to the redrive policy (receive "
              + receiveCount(m)
              + ", maxReceiveCount "
              + queue.maxReceiveCount()
              + ", dead-letter queue "
              + queue.deadLetterTargetArn()
              + "): "
              + oneLine);
      setVisibility(List.of(m), 0, "hand a given-up message to the redrive policy");
      return;
    }
    LOG.log(
        System.Logger.Level.ERROR,
        "message "
            + m.messageId()
            + " of "
            + queueUrl
            + " given up, but the queue has no redrive policy: kept, visible again in "
            + maxBackoff
            + ": "
            + oneLine);
    setVisibility(List.of(m), ceilSeconds(maxBackoff.toNanos()), "delay a given-up message");
  }

  private void setVisibility(List<Message> messages, int seconds, String why) {
    try {
      List<String> refused = calls.changeVisibility(messages, seconds);
      if (!refused.isEmpty()) {
        LOG.log(
            System.Logger.Level.WARNING,
            "SQS refused to " + why + " for " + refused + " of " + queueUrl);
      }
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "could not " + why + " for " + messages.size() + " messages of " + queueUrl + ": " + e);
    }
  }

  /** Whole seconds, rounded up (SQS's unit), at most SQS's longest visibility timeout. */
  static int ceilSeconds(long nanos) {
    long second = TimeUnit.SECONDS.toNanos(1);
    long seconds = nanos <= 0 ? 0 : (nanos - 1) / second + 1;
    return (int) Math.min(seconds, BatchCalls.MAX_VISIBILITY_SECONDS);
  }
}
