package dev.once.spring.boot.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.kafka.KafkaException;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.KafkaMessageListenerContainer;
import org.springframework.kafka.listener.ListenerExecutionFailedException;
import org.springframework.kafka.listener.MessageListenerContainer;

/**
 * The routing of {@link KafkaOutageErrorHandler}, on Kafka's own {@code MockConsumer}; the real run
 * is in the IT.
 */
class KafkaOutageErrorHandlerTest {

  private static final TopicPartition P0 = new TopicPartition("payments", 0);
  private static final TopicPartition P1 = new TopicPartition("payments", 1);

  /** The application's handler: records what reached it. */
  static final class Recording implements CommonErrorHandler {
    final List<Exception> seen = new ArrayList<>();
    final boolean seeks;

    Recording(boolean seeks) {
      this.seeks = seeks;
    }

    @Override
    public boolean seeksAfterHandling() {
      return seeks;
    }

    @Override
    public void handleRemaining(
        Exception e,
        List<ConsumerRecord<?, ?>> records,
        Consumer<?, ?> consumer,
        MessageListenerContainer container) {
      seen.add(e);
    }

    @Override
    public boolean handleOne(
        Exception e,
        ConsumerRecord<?, ?> record,
        Consumer<?, ?> consumer,
        MessageListenerContainer container) {
      seen.add(e);
      return true;
    }

    @Override
    public void handleBatch(
        Exception e,
        ConsumerRecords<?, ?> data,
        Consumer<?, ?> consumer,
        MessageListenerContainer container,
        Runnable invokeListener) {
      seen.add(e);
    }
  }

  private final MockConsumer<String, String> consumer = new MockConsumer<>("earliest");
  // Not running: the outage wait ends at once (it stops when the container stops).
  private final MessageListenerContainer container =
      new KafkaMessageListenerContainer<>(
          new DefaultKafkaConsumerFactory<>(Map.of()), new ContainerProperties("payments"));
  private final List<ConsumerRecord<?, ?>> failed =
      List.of(record(P0, 5), record(P0, 6), record(P1, 3));

  @BeforeEach
  void assign() {
    consumer.assign(List.of(P0, P1));
    consumer.updateBeginningOffsets(Map.of(P0, 0L, P1, 0L));
    consumer.seek(P0, 7);
    consumer.seek(P1, 4);
  }

  @Test
  void
      anOutageSeeksEveryPartitionBackToItsFirstFailedRecordAndNeverReachesTheApplicationsHandler() {
    Recording application = new Recording(true);
    CommonErrorHandler handler = KafkaOutageErrorHandler.around(application);

    assertThatThrownBy(() -> handler.handleRemaining(outage(), failed, consumer, container))
        .isInstanceOf(KafkaException.class);

    assertThat(consumer.position(P0)).isEqualTo(5);
    assertThat(consumer.position(P1)).isEqualTo(3);
    assertThat(application.seen).isEmpty();
  }

  @Test
  void aBatchOutageSeeksThePollBackAndNeverReachesTheApplicationsHandler() {
    Recording application = new Recording(true);
    CommonErrorHandler handler = KafkaOutageErrorHandler.around(application);
    ConsumerRecords<?, ?> poll =
        new ConsumerRecords<>(
            Map.of(P0, List.of(record(P0, 5), record(P0, 6)), P1, List.of(record(P1, 3))),
            Map.of());

    assertThatThrownBy(() -> handler.handleBatch(outage(), poll, consumer, container, () -> {}))
        .isInstanceOf(KafkaException.class);
    assertThatThrownBy(
            () ->
                handler.handleBatchAndReturnRemaining(
                    outage(), poll, consumer, container, () -> {}))
        .isInstanceOf(KafkaException.class);

    assertThat(consumer.position(P0)).isEqualTo(5);
    assertThat(consumer.position(P1)).isEqualTo(3);
    assertThat(application.seen).isEmpty();
  }

  @Test
  void underAHandlerThatDoesNotSeekAnOutageIsLeftUnhandledSoThatTheContainerResubmitsTheRecords() {
    Recording application = new Recording(false);
    CommonErrorHandler handler = KafkaOutageErrorHandler.around(application);

    assertThat(handler.seeksAfterHandling()).isFalse();
    assertThat(handler.handleOne(outage(), failed.get(0), consumer, container)).isFalse();
    assertThat(application.seen).isEmpty();
  }

  @Test
  void anyOtherFailureReachesTheApplicationsHandlerUnchanged() {
    Recording application = new Recording(true);
    CommonErrorHandler handler = KafkaOutageErrorHandler.around(application);
    Exception poison =
        new ListenerExecutionFailedException(
            "listener failed", new IllegalStateException("poison payment"));

    handler.handleRemaining(poison, failed, consumer, container);

    assertThat(application.seen).containsExactly(poison);
    assertThat(consumer.position(P0)).isEqualTo(7);
    assertThat(KafkaOutageErrorHandler.around(handler)).as("wrapped once").isSameAs(handler);
  }

  /** As the container hands it over: wrapped in a ListenerExecutionFailedException. */
  private static Exception outage() {
    return new ListenerExecutionFailedException(
        "listener failed", new DatabaseOutage(new SQLException("connection lost", "08006"), 1, 0));
  }

  private static ConsumerRecord<String, String> record(TopicPartition tp, long offset) {
    return new ConsumerRecord<>(tp.topic(), tp.partition(), offset, "k", "v");
  }
}
