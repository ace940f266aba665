package dev.once.sqs.internal;

import java.util.Map;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.protocols.jsoncore.JsonNode;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * What the consumer needs to know of its queue, read once at start.
 *
 * @param visibilityTimeoutSeconds the queue's default visibility timeout
 * @param maxReceiveCount the redrive policy's receive limit, or {@code null} when the queue has no
 *     redrive policy (no dead-letter queue)
 * @param deadLetterTargetArn the redrive policy's dead-letter queue, or {@code null}
 */
public record QueueSettings(
    int visibilityTimeoutSeconds,
    @Nullable Integer maxReceiveCount,
    @Nullable String deadLetterTargetArn) {

  /**
   * Asks the queue for its visibility timeout and redrive policy.
   *
   * @throws software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException if it has none
   * @throws IllegalStateException if the redrive policy cannot be read
   */
  public static QueueSettings read(SqsClient client, String queueUrl) {
    return of(
        queueUrl,
        client
            .getQueueAttributes(
                b ->
                    b.queueUrl(queueUrl)
                        .attributeNames(
                            QueueAttributeName.VISIBILITY_TIMEOUT,
                            QueueAttributeName.REDRIVE_POLICY))
            .attributes());
  }

  /**
   * Reads the settings from the queue's attributes.
   *
   * @param queueUrl for the error message
   * @param attributes as {@code GetQueueAttributes} answers them
   * @throws IllegalStateException if the visibility timeout or the redrive policy cannot be read
   */
  static QueueSettings of(String queueUrl, Map<QueueAttributeName, String> attributes) {
    String visibility = attributes.get(QueueAttributeName.VISIBILITY_TIMEOUT);
    int visibilitySeconds;
    try {
      visibilitySeconds = visibility == null ? 30 : Integer.parseInt(visibility.trim());
    } catch (NumberFormatException e) {
      throw new IllegalStateException(
          "the VisibilityTimeout of " + queueUrl + " is not a number: " + visibility, e);
    }
    String policy = attributes.get(QueueAttributeName.REDRIVE_POLICY);
    if (policy == null || policy.isBlank()) {
      return new QueueSettings(visibilitySeconds, null, null);
    }
    try {
      JsonNode redrive = JsonNode.parser().parse(policy);
      // SQS answers maxReceiveCount as a number; policies set through some tools hold a string.
      Integer maxReceiveCount =
          redrive
              .field("maxReceiveCount")
              .map(n -> Integer.parseInt((n.isNumber() ? n.asNumber() : n.asString()).trim()))
              .orElse(null);
      String target = redrive.field("deadLetterTargetArn").map(JsonNode::asString).orElse(null);
      return new QueueSettings(visibilitySeconds, maxReceiveCount, target);
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "the RedrivePolicy of " + queueUrl + " cannot be read: " + policy, e);
    }
  }
}
