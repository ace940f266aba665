package dev.once.nats;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.testkit.servers.TestNats;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The real NATS server for the tests ({@link TestNats#url()}): a stream {@code <prefix>} on the
 * subject {@code <prefix>.in}, a dead-letter stream {@code <prefix>-dlq} on {@code <prefix>.dead},
 * both with unique names, deleted on {@link #close}. The stream's duplicate window is the shortest
 * JetStream allows (100 ms), and {@link #publishAll} publishes a repeated {@code Nats-Msg-Id} again
 * until JetStream stores it, so the consumer sees the duplicates and the inbox is what dedupes
 * them.
 */
final class TestJetStream implements AutoCloseable {

  static final String DURABLE = "once-it";

  final String stream;
  final String subject;
  final String deadLetterSubject;
  final String deadLetterStream;
  private final Connection connection;
  private final JetStream js;
  private final JetStreamManagement jsm;

  TestJetStream(String name) throws Exception {
    stream = name + "-" + UUID.randomUUID().toString().substring(0, 8);
    subject = stream + ".in";
    deadLetterSubject = stream + ".dead";
    deadLetterStream = stream + "-dlq";
    connection = connect(url());
    js = connection.jetStream();
    jsm = connection.jetStreamManagement();
    jsm.addStream(
        StreamConfiguration.builder()
            .name(stream)
            .subjects(subject)
            .storageType(StorageType.File)
            .duplicateWindow(Duration.ofMillis(100))
            .build());
    addDeadLetterStream();
  }

  /** (Re)creates the dead-letter stream. */
  void addDeadLetterStream() throws Exception {
    jsm.addStream(
        StreamConfiguration.builder()
            .name(deadLetterStream)
            .subjects(deadLetterSubject)
            .storageType(StorageType.File)
            .build());
  }

  /** Deletes the dead-letter stream: a publish to its subject then fails. */
  void deleteDeadLetterStream() throws Exception {
    jsm.deleteStream(deadLetterStream);
  }

  static String url() {
    return TestNats.url();
  }

  static Connection connect(String url) throws Exception {
    return Nats.connect(
        new Options.Builder()
            .server(url)
            .connectionName("once-nats-test")
            .maxReconnects(-1)
            .reconnectWait(Duration.ofMillis(200))
            .build());
  }

  Connection connection() {
    return connection;
  }

  /** Creates the durable pull consumer {@link #DURABLE} with explicit acks. */
  void durable(Duration ackWait, long maxDeliver) throws Exception {
    jsm.addOrUpdateConsumer(
        stream,
        ConsumerConfiguration.builder()
            .durable(DURABLE)
            .ackPolicy(AckPolicy.Explicit)
            .ackWait(ackWait)
            .maxDeliver(maxDeliver)
            .maxAckPending(1000)
            .build());
  }

  ConsumerInfo consumerInfo() throws Exception {
    return jsm.getConsumerInfo(stream, DURABLE);
  }

  /** Publishes through JetStream (stored when this returns); a null id sends no header. */
  void publish(String id, String body) throws Exception {
    assertThat(store(id, body)).as("stored, not a duplicate within the window: " + id).isTrue();
  }

  /**
   * Publishes {@code id -> body} pairs in order; those JetStream took for duplicates of a publish
   * within its window are published again, after the others, until it stores them.
   */
  void publishAll(List<Map.Entry<String, String>> messages) throws Exception {
    List<Map.Entry<String, String>> left = messages;
    while (!left.isEmpty()) {
      List<Map.Entry<String, String>> again = new ArrayList<>();
      for (Map.Entry<String, String> m : left) {
        if (!store(m.getKey(), m.getValue())) {
          again.add(m);
        }
      }
      left = again;
    }
  }

  /** Whether JetStream stored it (false: a duplicate of a publish within the window). */
  private boolean store(String id, String body) throws Exception {
    Headers headers = new Headers();
    if (id != null) {
      headers.put(NatsInboxConsumer.MSG_ID_HEADER, id);
    }
    return !js.publish(
            NatsMessage.builder()
                .subject(subject)
                .headers(headers)
                .data(body.getBytes(StandardCharsets.UTF_8))
                .build())
        .isDuplicate();
  }

  /** Messages stored in the dead-letter stream. */
  long deadLetters() throws Exception {
    return jsm.getStreamInfo(deadLetterStream).getStreamState().getMsgCount();
  }

  /** Reads the dead letters (up to 100), in order. */
  List<Message> readDeadLetters() throws Exception {
    JetStreamSubscription sub =
        js.subscribe(
            deadLetterSubject,
            PullSubscribeOptions.builder().stream(deadLetterStream)
                .configuration(ConsumerConfiguration.builder().ackPolicy(AckPolicy.None).build())
                .build());
    List<Message> out = new ArrayList<>(sub.fetch(100, Duration.ofSeconds(1)));
    sub.unsubscribe();
    return out;
  }

  /** Fetched from the durable and not yet acknowledged, plus not yet delivered. */
  long unsettled() throws Exception {
    ConsumerInfo info = consumerInfo();
    return info.getNumAckPending() + info.getNumPending();
  }

  static String body(Message m) {
    return new String(m.getData(), StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws Exception {
    try {
      jsm.deleteStream(stream);
      jsm.deleteStream(deadLetterStream);
    } finally {
      connection.close();
    }
  }
}
