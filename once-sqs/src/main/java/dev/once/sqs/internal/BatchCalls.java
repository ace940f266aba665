package dev.once.sqs.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * SQS's batch calls for a list of received messages of any length: in chunks of ten (the most one
 * call takes), each entry identified by its position in the chunk.
 */
public final class BatchCalls {

  /** The most entries one SQS batch call (receive, delete, change visibility) takes. */
  public static final int MAX_ENTRIES = 10;

  /** The longest visibility timeout SQS accepts: 12 hours. */
  public static final int MAX_VISIBILITY_SECONDS = 43_200;

  private final SqsClient client;
  private final String queueUrl;

  public BatchCalls(SqsClient client, String queueUrl) {
    this.client = Objects.requireNonNull(client, "client");
    this.queueUrl = Objects.requireNonNull(queueUrl, "queueUrl");
  }

  /**
   * Sets the messages' visibility timeout to {@code seconds} from now.
   *
   * @return the messages the queue refused it for (e.g. a receipt handle that expired), with why
   * @throws software.amazon.awssdk.core.exception.SdkException if a call failed as a whole
   */
  public List<String> changeVisibility(List<Message> messages, int seconds) {
    int visibility = Math.max(0, Math.min(seconds, MAX_VISIBILITY_SECONDS));
    List<String> refused = new ArrayList<>();
    for (int from = 0; from < messages.size(); from += MAX_ENTRIES) {
      List<Message> chunk = messages.subList(from, Math.min(from + MAX_ENTRIES, messages.size()));
      List<ChangeMessageVisibilityBatchRequestEntry> entries = new ArrayList<>(chunk.size());
      for (int i = 0; i < chunk.size(); i++) {
        entries.add(
            ChangeMessageVisibilityBatchRequestEntry.builder()
                .id(Integer.toString(i))
                .receiptHandle(chunk.get(i).receiptHandle())
                .visibilityTimeout(visibility)
                .build());
      }
      describe(
          chunk,
          client.changeMessageVisibilityBatch(b -> b.queueUrl(queueUrl).entries(entries)).failed(),
          refused);
    }
    return refused;
  }

  /**
   * Deletes the messages.
   *
   * @return the messages the queue did not delete, with why
   * @throws software.amazon.awssdk.core.exception.SdkException if a call failed as a whole
   */
  public List<String> delete(List<Message> messages) {
    List<String> refused = new ArrayList<>();
    for (int from = 0; from < messages.size(); from += MAX_ENTRIES) {
      List<Message> chunk = messages.subList(from, Math.min(from + MAX_ENTRIES, messages.size()));
      List<DeleteMessageBatchRequestEntry> entries = new ArrayList<>(chunk.size());
      for (int i = 0; i < chunk.size(); i++) {
        entries.add(
            DeleteMessageBatchRequestEntry.builder()
                .id(Integer.toString(i))
                .receiptHandle(chunk.get(i).receiptHandle())
                .build());
      }
      describe(
          chunk,
          client.deleteMessageBatch(b -> b.queueUrl(queueUrl).entries(entries)).failed(),
          refused);
    }
    return refused;
  }

  private static void describe(
      List<Message> chunk, List<BatchResultErrorEntry> failed, List<String> into) {
    for (BatchResultErrorEntry f : failed) {
      String which;
      try {
        which = chunk.get(Integer.parseInt(f.id())).messageId();
      } catch (RuntimeException e) {
        which = "entry " + f.id();
      }
      into.add(which + " (" + f.code() + ": " + f.message() + ")");
    }
  }
}
