package dev.once.spring.boot;

import dev.once.OnceListener;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.JdbcInbox;
import dev.once.nats.NatsInboxConsumer;
import dev.once.spring.boot.internal.BoundConnection;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;

/**
 * Builds {@link NatsInboxConsumer}s on the application's database, and starts and stops every
 * {@code NatsInboxConsumer} bean with the application context. The handler of a consumer built here
 * runs inside the batch's transaction (the inbox markers' transaction): {@code JdbcTemplate},
 * {@code JdbcClient} and {@code @Transactional} code on the application's {@code DataSource} join
 * it, so the message's effect and its marker commit together.
 *
 * <pre>{@code
 * @Bean
 * NatsInboxConsumer orders(OnceNatsConsumers consumers, Connection nats, JdbcTemplate jdbc) {
 *   return consumers
 *       .consumer(nats, "ORDERS", "orders-service", m -> jdbc.update("INSERT ...", ...))
 *       .deadLetterSubject("orders.dead")
 *       .build();
 * }
 * }</pre>
 *
 * <p>The handler's transaction is the inbox's own JDBC transaction, not one Spring began: Spring's
 * transaction synchronizations ({@code TransactionSynchronizationManager.registerSynchronization},
 * {@code @TransactionalEventListener}) are not active in it, and a {@code REQUIRES_NEW} method runs
 * in a transaction of its own that does not roll back with the batch.
 */
public final class OnceNatsConsumers implements SmartLifecycle {

  /** Applies one fresh message; throw to fail it (it is retried, then dead-lettered). */
  @FunctionalInterface
  public interface Handler {
    /**
     * Applies {@code message} on the application's DataSource, inside the batch's transaction.
     *
     * @param message the JetStream message
     * @throws Exception to fail the message
     */
    void handle(Message message) throws Exception;
  }

  private final DataSource dataSource;
  private final JdbcIdempotencyStore store;
  private final OnceListener listener;
  private final Duration retention;
  private final ObjectProvider<NatsInboxConsumer> consumers;
  private final List<NatsInboxConsumer> started = new ArrayList<>();
  private volatile boolean running;

  OnceNatsConsumers(
      DataSource dataSource,
      JdbcIdempotencyStore store,
      OnceListener listener,
      Duration retention,
      ObjectProvider<NatsInboxConsumer> consumers) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.store = Objects.requireNonNull(store, "store");
    this.listener = Objects.requireNonNull(listener, "listener");
    this.retention = Objects.requireNonNull(retention, "retention");
    this.consumers = Objects.requireNonNull(consumers, "consumers");
  }

  /**
   * A consumer of the durable pull consumer {@code durable} on {@code stream}, its inbox on the
   * application's database (the {@code once.jdbc.table} table, ids remembered for {@code
   * once.nats.retention}, every {@link OnceListener} bean told of duplicates and dead letters). Set
   * the rest (batch size, attempts, dead-letter subject) on the builder; declare what {@code
   * build()} returns as a bean and the context starts and closes it.
   *
   * @param nats the application's NATS connection
   * @param stream the stream's name
   * @param durable the durable consumer's name; also scopes the message ids
   * @param handler applies each fresh message inside the batch's transaction
   * @return the builder, its handler set
   */
  public NatsInboxConsumer.Builder consumer(
      Connection nats, String stream, String durable, Handler handler) {
    Objects.requireNonNull(handler, "handler");
    JdbcInbox inbox =
        JdbcInbox.builder(dataSource, store)
            .consumer(durable)
            .retention(retention)
            .listener(listener)
            .build();
    return NatsInboxConsumer.builder(nats, stream, durable, inbox)
        .handler(
            (connection, message) ->
                BoundConnection.run(dataSource, connection, () -> handler.handle(message)));
  }

  /** Starts every {@link NatsInboxConsumer} bean; a consumer that cannot start fails the start. */
  @Override
  public void start() {
    synchronized (started) {
      for (NatsInboxConsumer consumer : consumers.orderedStream().toList()) {
        try {
          consumer.start();
        } catch (IOException | JetStreamApiException e) {
          throw new IllegalStateException("a NatsInboxConsumer bean could not start: " + e, e);
        }
        started.add(consumer);
      }
      running = true;
    }
  }

  /** Closes the consumers this started: each finishes the batch in hand. */
  @Override
  public void stop() {
    synchronized (started) {
      started.forEach(NatsInboxConsumer::close);
      started.clear();
      running = false;
    }
  }

  @Override
  public boolean isRunning() {
    return running;
  }
}
