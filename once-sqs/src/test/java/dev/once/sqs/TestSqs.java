package dev.once.sqs;

import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * A real SQS-compatible server for the tests: ElasticMQ, started once in this JVM on a free port
 * (child JVMs reach it over HTTP), and queues with unique names per test.
 */
final class TestSqs implements AutoCloseable {

  /** The message attribute the tests' producers put their command id in. */
  static final String ID_ATTRIBUTE = "Once-Id";

  private static SQSRestServer server;
  private static String endpoint;
  private static final AtomicInteger QUEUES = new AtomicInteger();

  final SqsClient client;
  private final String prefix;
  private final List<String> created = new ArrayList<>();

  TestSqs(String prefix) {
    this.prefix = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    this.client = client(endpoint(), new ExecutionInterceptor[0]);
  }

  /** The server's URL, starting it on first use. */
  static synchronized String endpoint() {
    if (server == null) {
      server = SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
      int port = server.waitUntilStarted().localAddress().getPort();
      endpoint = "http://127.0.0.1:" + port;
      SQSRestServer started = server;
      Runtime.getRuntime().addShutdownHook(new Thread(started::stopAndWait));
    }
    return endpoint;
  }

  /** A client of {@code endpoint}, with the SDK's retries, through these interceptors. */
  static SqsClient client(String endpoint, ExecutionInterceptor... interceptors) {
    return SqsClient.builder()
        .endpointOverride(URI.create(endpoint))
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
        .httpClient(UrlConnectionHttpClient.create())
        .overrideConfiguration(c -> c.executionInterceptors(List.of(interceptors)))
        .build();
  }

  /** A new standard queue with this visibility timeout and no redrive policy. */
  String queue(int visibilitySeconds) {
    return create(
        prefix + "-" + QUEUES.incrementAndGet(),
        Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, Integer.toString(visibilitySeconds)));
  }

  /** A new dead-letter queue. */
  String deadLetterQueue() {
    return create(prefix + "-dlq-" + QUEUES.incrementAndGet(), Map.of());
  }

  /** A new standard queue whose redrive policy moves a message to {@code dlq} after maxReceive. */
  String queue(int visibilitySeconds, String dlq, int maxReceiveCount) {
    String arn =
        client
            .getQueueAttributes(b -> b.queueUrl(dlq).attributeNames(QueueAttributeName.QUEUE_ARN))
            .attributes()
            .get(QueueAttributeName.QUEUE_ARN);
    Map<QueueAttributeName, String> attributes = new HashMap<>();
    attributes.put(QueueAttributeName.VISIBILITY_TIMEOUT, Integer.toString(visibilitySeconds));
    attributes.put(
        QueueAttributeName.REDRIVE_POLICY,
        "{\"deadLetterTargetArn\":\""
            + arn
            + "\",\"maxReceiveCount\":\""
            + maxReceiveCount
            + "\"}");
    return create(prefix + "-" + QUEUES.incrementAndGet(), attributes);
  }

  String create(String name, Map<QueueAttributeName, String> attributes) {
    String url = client.createQueue(b -> b.queueName(name).attributes(attributes)).queueUrl();
    created.add(url);
    return url;
  }

  /** Sends {@code id -> body} pairs in order, the id in {@link #ID_ATTRIBUTE}. */
  void sendAll(String queueUrl, List<Map.Entry<String, String>> messages) {
    for (int from = 0; from < messages.size(); from += 10) {
      List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
      for (int i = from; i < Math.min(from + 10, messages.size()); i++) {
        Map.Entry<String, String> m = messages.get(i);
        entries.add(
            SendMessageBatchRequestEntry.builder()
                .id(Integer.toString(i - from))
                .messageBody(m.getValue())
                .messageAttributes(
                    Map.of(
                        ID_ATTRIBUTE,
                        MessageAttributeValue.builder()
                            .dataType("String")
                            .stringValue(m.getKey())
                            .build()))
                .build());
      }
      var response = client.sendMessageBatch(b -> b.queueUrl(queueUrl).entries(entries));
      if (!response.failed().isEmpty()) {
        throw new IllegalStateException("sends failed: " + response.failed());
      }
    }
  }

  void send(String queueUrl, String id, String body) {
    sendAll(queueUrl, List.of(Map.entry(id, body)));
  }

  /** Messages on the queue, visible, in flight or delayed: 0 once everything was deleted. */
  long unsettled(String queueUrl) {
    Map<QueueAttributeName, String> a =
        client
            .getQueueAttributes(
                b ->
                    b.queueUrl(queueUrl)
                        .attributeNames(
                            QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                            QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE,
                            QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_DELAYED))
            .attributes();
    return Long.parseLong(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
        + Long.parseLong(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))
        + Long.parseLong(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_DELAYED));
  }

  /** Messages in flight (received, not deleted, visibility timeout running). */
  long inFlight(String queueUrl) {
    return Long.parseLong(
        client
            .getQueueAttributes(
                b ->
                    b.queueUrl(queueUrl)
                        .attributeNames(
                            QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))
            .attributes()
            .get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE));
  }

  @Override
  public void close() {
    try {
      for (String url : created) {
        try {
          client.deleteQueue(b -> b.queueUrl(url));
        } catch (RuntimeException e) {
          // already gone
        }
      }
    } finally {
      client.close();
    }
  }
}
