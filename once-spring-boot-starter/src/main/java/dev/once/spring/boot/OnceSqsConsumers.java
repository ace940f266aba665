package dev.once.spring.boot;

import dev.once.OnceListener;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.JdbcInbox;
import dev.once.spring.boot.internal.BoundConnection;
import dev.once.sqs.SqsInboxConsumer;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * Builds {@link SqsInboxConsumer}s on the application's database, and starts and stops every {@code
 * SqsInboxConsumer} bean with the application context. The handler of a consumer built here runs
 * inside the batch's transaction (the inbox markers' transaction): {@code JdbcTemplate}, {@code
 * JdbcClient} and {@code @Transactional} code on the application's {@code DataSource} join it, so
 * the message's effect and its marker commit together, before the message is deleted.
 *
 * <pre>{@code
 * @Bean
 * SqsInboxConsumer payments(OnceSqsConsumers consumers, SqsClient sqs, JdbcTemplate jdbc) {
 *   return consumers
 *       .consumer(sqs, queueUrl, message -> jdbc.update("INSERT ...", ...))
 *       .maxAttempts(5)   // the queue's RedrivePolicy maxReceiveCount
 *       .build();
 * }
 * }</pre>
 *
 * <p>The handler's transaction is the inbox's own JDBC transaction, not one Spring began: Spring's
 * transaction synchronizations are not active in it, and a {@code REQUIRES_NEW} method runs in a
 * transaction of its own that does not roll back with the batch.
 */
public final class OnceSqsConsumers implements SmartLifecycle {

  /** Applies one fresh message; throw to fail it (it comes back after a backoff). */
  @FunctionalInterface
  public interface Handler {
    /**
     * Applies {@code message} on the application's DataSource, inside the batch's transaction.
     *
     * @param message the SQS message
     * @throws Exception to fail the message
     */
    void handle(Message message) throws Exception;
  }

  private final DataSource dataSource;
  private final JdbcIdempotencyStore store;
  private final OnceListener listener;
  private final Duration retention;
  private final ObjectProvider<SqsInboxConsumer> consumers;
  // SQS's longest long poll, and a margin: stop() waits that long for the polls to end.
  private static final Duration POLL_END_WAIT = Duration.ofSeconds(25);

  private static final System.Logger LOG = System.getLogger(OnceSqsConsumers.class.getName());

  private final List<SqsInboxConsumer> started = new ArrayList<>();
  private volatile boolean running;

  OnceSqsConsumers(
      DataSource dataSource,
      JdbcIdempotencyStore store,
      OnceListener listener,
      Duration retention,
      ObjectProvider<SqsInboxConsumer> consumers) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.store = Objects.requireNonNull(store, "store");
    this.listener = Objects.requireNonNull(listener, "listener");
    this.retention = Objects.requireNonNull(retention, "retention");
    this.consumers = Objects.requireNonNull(consumers, "consumers");
  }

  /**
   * A consumer of the queue at {@code queueUrl}, its inbox on the application's database (the
   * {@code once.jdbc.table} table, ids remembered for {@code once.sqs.retention}, every {@link
   * OnceListener} bean told of duplicates). Set the rest (message ids, batch size, attempts) on the
   * builder; declare what {@code build()} returns as a bean and the context starts and closes it.
   *
   * @param sqs the application's SQS client
   * @param queueUrl the queue's URL
   * @param handler applies each fresh message inside the batch's transaction
   * @return the builder, its handler set
   */
  public SqsInboxConsumer.Builder consumer(SqsClient sqs, String queueUrl, Handler handler) {
    Objects.requireNonNull(handler, "handler");
    String path = URI.create(Objects.requireNonNull(queueUrl, "queueUrl")).getPath();
    String queue = path == null ? queueUrl : path.substring(path.lastIndexOf('/') + 1);
    JdbcInbox inbox =
        JdbcInbox.builder(dataSource, store)
            .consumer(queue.isEmpty() ? queueUrl : queue)
            .retention(retention)
            .listener(listener)
            .build();
    return SqsInboxConsumer.builder(sqs, queueUrl, inbox)
        .handler(
            (connection, message) ->
                BoundConnection.run(dataSource, connection, () -> handler.handle(message)));
  }

  /** Starts every {@link SqsInboxConsumer} bean; a consumer that cannot start fails the start. */
  @Override
  public void start() {
    synchronized (started) {
      for (SqsInboxConsumer consumer : consumers.orderedStream().toList()) {
        consumer.start();
        started.add(consumer);
      }
      running = true;
    }
  }

  /**
   * Closes the consumers this started: each finishes the batch in hand and abandons its long poll.
   * Then waits (up to SQS's longest poll, 20 s, and a margin, for all of them together) for those
   * polls to end and hand back what they took, while the application's {@code SqsClient} is still
   * open: otherwise a message taken by a poll at shutdown stays invisible for its visibility
   * timeout.
   */
  @Override
  public void stop() {
    synchronized (started) {
      started.forEach(SqsInboxConsumer::close);
      long deadline = System.nanoTime() + POLL_END_WAIT.toNanos();
      try {
        for (SqsInboxConsumer consumer : started) {
          Duration left = Duration.ofNanos(deadline - System.nanoTime());
          if (!consumer.awaitTermination(left)) {
            LOG.log(
                System.Logger.Level.WARNING,
                "an SQS consumer did not end within "
                    + POLL_END_WAIT
                    + "; a message its last poll took comes back after its visibility timeout");
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      started.clear();
      running = false;
    }
  }

  @Override
  public boolean isRunning() {
    return running;
  }
}
