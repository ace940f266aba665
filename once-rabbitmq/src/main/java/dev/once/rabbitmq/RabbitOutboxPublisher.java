package dev.once.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ShutdownSignalException;
import dev.once.outbox.OutboxMessage;
import dev.once.outbox.OutboxPublisher;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Publishes outbox messages to RabbitMQ with publisher confirms: exchange = the message's
 * destination, routing key = its key ({@code ""} when it has none), the AMQP {@code message-id}
 * property = its id (what {@link RabbitInboxConsumer} reads by default, so a message the relay
 * publishes twice is applied once), its headers as AMQP headers, persistent delivery mode.
 *
 * <pre>{@code
 * ConnectionFactory factory = new ConnectionFactory();
 * factory.setUri("amqp://user:secret@rabbit:5672/orders");
 * RabbitOutboxPublisher publisher = RabbitOutboxPublisher.builder(factory)
 *     .timeout(Duration.ofSeconds(30))
 *     .build();
 * }</pre>
 *
 * <p><b>Acknowledged means confirmed and routed.</b> Messages are published {@code mandatory} on a
 * channel in confirm mode; a message is reported acknowledged only when the broker confirmed it
 * ({@code basic.ack}) and did not return it as unroutable ({@code basic.return}). A nack, a return,
 * an exchange that does not exist, a channel or connection that closes before the confirm, and no
 * confirm within the {@link Builder#timeout timeout} (from the start of the call) are reported as
 * refusals. A refused message may still have reached a queue (the confirm was lost with the
 * connection): the relay publishes it again and the inbox downstream skips the second copy.
 *
 * <p><b>Connections.</b> The publisher opens its own connection from a copy of the factory, with
 * amqp-client's automatic recovery turned off: a publish either completes on the channel it started
 * on or reports its unconfirmed messages refused. After a broker restart or a lost connection, the
 * next {@link #publish} opens a new connection; until the broker answers again, {@code publish}
 * throws, which counts every message of the batch as not acknowledged.
 *
 * <p><b>Order.</b> One channel publishes the batch in list order, so messages of a key that reach
 * the same queue are queued in that order. <em>A refusal does not hold back the later messages of
 * its key:</em> those the broker confirms are reported acknowledged, and the refused one is
 * published again when the relay retries it, so consumers see it after them. Refusals that hit one
 * message and not the next of its key are rare (a nack is an internal broker error); a missing
 * exchange or a lost connection refuses every later message of the batch too.
 *
 * <p>Exchanges are checked with a passive declare the first time a connection meets them, so a
 * message to a missing exchange is refused without closing the publishing channel (RabbitMQ closes
 * a channel that publishes to a missing exchange; if an exchange is deleted later, that happens,
 * and the rest of the batch is refused).
 *
 * <p>{@link #publish} is meant for one relay thread at a time (calls are serialized); {@link
 * #close()} closes the connection.
 */
public final class RabbitOutboxPublisher implements OutboxPublisher {

  /** How long {@link #publish} waits for confirms by default. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /** The AMQP reply code of a channel closed because something does not exist. */
  private static final int NOT_FOUND = 404;

  private static final int PERSISTENT = 2;

  private final ConnectionFactory factory;
  private final Duration timeout;
  private final String connectionName;

  private @Nullable Connection connection;
  private @Nullable Channel channel;
  private final Set<String> knownExchanges = new HashSet<>();

  /** The batch whose confirms the channel's listeners are waiting for. */
  private volatile @Nullable Confirms current;

  private RabbitOutboxPublisher(Builder b) {
    this.factory = b.factory.clone();
    this.factory.setAutomaticRecoveryEnabled(false);
    this.factory.setTopologyRecoveryEnabled(false);
    this.timeout = b.timeout;
    this.connectionName = b.connectionName;
  }

  /**
   * Starts a builder.
   *
   * @param factory where and how to connect; the publisher works on a copy (with automatic recovery
   *     off) and opens its connection on the first {@link #publish}
   * @return a new builder
   */
  public static Builder builder(ConnectionFactory factory) {
    return new Builder(factory);
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalStateException if the broker cannot be reached (every message of the batch
   *     counts as not acknowledged); the next call connects again
   */
  @Override
  public synchronized Map<UUID, Exception> publish(List<OutboxMessage> messages)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<UUID, Exception> refused = new LinkedHashMap<>();
    if (messages.isEmpty()) {
      return refused;
    }
    Channel ch = openChannel();
    Map<String, Exception> missing = checkExchanges(messages);
    Confirms confirms = new Confirms();
    current = confirms;
    boolean writeFailed = false;
    try {
      for (int i = 0; i < messages.size(); i++) {
        OutboxMessage message = messages.get(i);
        Exception exchangeMissing = missing.get(message.destination());
        if (exchangeMissing != null) {
          refused.put(message.id(), exchangeMissing);
          continue;
        }
        try {
          confirms.sent(ch.getNextPublishSeqNo(), message.id());
          ch.basicPublish(
              message.destination(),
              message.key() == null ? "" : message.key(),
              true,
              properties(message),
              message.payload());
        } catch (IOException | RuntimeException e) {
          // The channel is gone: nothing more can be confirmed on it. The client may not have
          // noticed yet (a failed write does not close the connection; its reader thread does,
          // later), so the channel can still say it is open: drop it ourselves below.
          writeFailed = true;
          confirms.closed(e);
          for (OutboxMessage unsent : messages.subList(i + 1, messages.size())) {
            refused.putIfAbsent(
                unsent.id(), new IOException("not published: the channel closed", e));
          }
          break;
        }
      }
      boolean complete = confirms.await(deadline);
      refused.putAll(confirms.refused());
      if (!complete || writeFailed || !ch.isOpen()) {
        reset();
      }
      return refused;
    } finally {
      current = null;
    }
  }

  private static AMQP.BasicProperties properties(OutboxMessage message) {
    Map<String, Object> headers = new HashMap<>(message.headers());
    return new AMQP.BasicProperties.Builder()
        .messageId(message.id().toString())
        .headers(headers)
        .deliveryMode(PERSISTENT)
        .build();
  }

  /** The publishing channel, on a new connection if the last one closed. */
  private Channel openChannel() {
    Channel ch = channel;
    if (ch != null && ch.isOpen()) {
      return ch;
    }
    try {
      Connection c = connection;
      if (c == null || !c.isOpen()) {
        reset();
        c = factory.newConnection(connectionName);
        connection = c;
      }
      Channel opened = c.createChannel();
      if (opened == null) {
        throw new IOException("the connection has no channel left");
      }
      opened.confirmSelect();
      opened.addConfirmListener(
          (tag, multiple) -> whenListening(batch -> batch.acked(tag, multiple)),
          (tag, multiple) -> whenListening(batch -> batch.nacked(tag, multiple)));
      opened.addReturnListener(
          returned ->
              whenListening(
                  batch ->
                      batch.returned(
                          returned.getProperties().getMessageId(),
                          returned.getReplyCode(),
                          returned.getReplyText(),
                          returned.getExchange(),
                          returned.getRoutingKey())));
      opened.addShutdownListener(cause -> whenListening(batch -> batch.closed(cause)));
      channel = opened;
      return opened;
    } catch (IOException | TimeoutException | RuntimeException e) {
      reset();
      throw new IllegalStateException(
          "cannot reach RabbitMQ at "
              + factory.getHost()
              + ":"
              + factory.getPort()
              + "; nothing of this batch was published: "
              + e,
          e);
    }
  }

  /** Hands a broker event to the batch in flight; between batches there is nothing to settle. */
  private void whenListening(java.util.function.Consumer<Confirms> event) {
    Confirms c = current;
    if (c != null) {
      event.accept(c);
    }
  }

  /**
   * Passive-declares each destination this connection has not met yet, on a channel of its own (a
   * missing exchange closes the channel that asked).
   *
   * @return the missing ones, with the reason
   */
  private Map<String, Exception> checkExchanges(List<OutboxMessage> messages) {
    Map<String, Exception> missing = new HashMap<>();
    Connection c = Objects.requireNonNull(connection, "openChannel() connected");
    for (OutboxMessage message : messages) {
      String exchange = message.destination();
      if (exchange.isEmpty()
          || knownExchanges.contains(exchange)
          || missing.containsKey(exchange)) {
        continue;
      }
      try {
        Channel probe = c.createChannel();
        if (probe == null) {
          continue; // no channel to ask on: publishing tells
        }
        try {
          probe.exchangeDeclarePassive(exchange);
          knownExchanges.add(exchange);
        } finally {
          if (probe.isOpen()) {
            probe.abort();
          }
        }
      } catch (IOException e) {
        if (notFound(e)) {
          missing.put(exchange, new IOException("exchange '" + exchange + "' does not exist", e));
        }
        // Anything else: publishing tells.
      }
    }
    return missing;
  }

  private static boolean notFound(IOException e) {
    return e.getCause() instanceof ShutdownSignalException signal
        && signal.getReason() instanceof AMQP.Channel.Close close
        && close.getReplyCode() == NOT_FOUND;
  }

  /** Drops the channel and connection; the next publish connects again. */
  private void reset() {
    knownExchanges.clear();
    Connection c = connection;
    channel = null;
    connection = null;
    if (c != null) {
      c.abort(1000);
    }
  }

  /** Closes the connection. */
  @Override
  public synchronized void close() {
    reset();
  }

  /** The confirms of one batch, filled by the channel's listeners, awaited by {@link #publish}. */
  private static final class Confirms {

    private final Map<Long, UUID> unconfirmed = new LinkedHashMap<>();
    private final Map<UUID, Exception> refused = new LinkedHashMap<>();
    private final Map<UUID, Exception> returned = new HashMap<>();
    private @Nullable Exception closedBy;

    synchronized void sent(long seqNo, UUID id) {
      Exception closed = closedBy;
      if (closed != null) {
        refused.putIfAbsent(id, new IOException("the channel closed before the publish", closed));
      } else {
        unconfirmed.put(seqNo, id);
      }
    }

    synchronized void acked(long seqNo, boolean multiple) {
      settle(seqNo, multiple, null);
    }

    synchronized void nacked(long seqNo, boolean multiple) {
      settle(seqNo, multiple, new IOException("the broker nacked the message (basic.nack)"));
    }

    /** RabbitMQ sends a mandatory message's basic.return before its basic.ack. */
    synchronized void returned(
        @Nullable String messageId, int code, String text, String exchange, String routingKey) {
      if (messageId == null) {
        return;
      }
      try {
        returned.put(
            UUID.fromString(messageId),
            new IOException(
                "unroutable: exchange '"
                    + exchange
                    + "' has no queue for routing key '"
                    + routingKey
                    + "' (basic.return "
                    + code
                    + " "
                    + text
                    + ")"));
      } catch (IllegalArgumentException notOurs) {
        // not a message of this publisher's
      }
    }

    synchronized void closed(Exception cause) {
      if (closedBy == null) {
        closedBy = cause;
      }
      for (UUID id : unconfirmed.values()) {
        refused.putIfAbsent(id, new IOException("the channel closed before the confirm", cause));
      }
      unconfirmed.clear();
      notifyAll();
    }

    private void settle(long seqNo, boolean multiple, @Nullable Exception failure) {
      var it = unconfirmed.entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<Long, UUID> e = it.next();
        long tag = e.getKey();
        if (tag == seqNo || (multiple && tag < seqNo)) {
          UUID id = e.getValue();
          Exception reason = failure != null ? failure : returned.get(id);
          if (reason != null) {
            refused.put(id, reason);
          }
          it.remove();
        }
      }
      notifyAll();
    }

    /**
     * Waits until every sent message is settled or the deadline passes; the unsettled ones are then
     * refused.
     *
     * @return whether every message was settled in time
     */
    synchronized boolean await(long deadline) throws InterruptedException {
      while (!unconfirmed.isEmpty()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          for (UUID id : unconfirmed.values()) {
            refused.putIfAbsent(
                id, new TimeoutException("no confirm within the publisher's timeout"));
          }
          unconfirmed.clear();
          return false;
        }
        long millis = Math.max(1, left / 1_000_000);
        wait(millis);
      }
      return true;
    }

    synchronized Map<UUID, Exception> refused() {
      return new LinkedHashMap<>(refused);
    }
  }

  /** Settings of a {@link RabbitOutboxPublisher}. */
  public static final class Builder {

    private final ConnectionFactory factory;
    private Duration timeout = DEFAULT_TIMEOUT;
    private String connectionName = "once-outbox-publisher";

    private Builder(ConnectionFactory factory) {
      this.factory = Objects.requireNonNull(factory, "factory");
    }

    /**
     * How long one {@link RabbitOutboxPublisher#publish} waits for confirms, from its start;
     * messages still unconfirmed then are reported refused. Default {@link #DEFAULT_TIMEOUT}.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder timeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive, was " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * The client-provided name of the publisher's connection, as the management UI shows it.
     * Default {@code once-outbox-publisher}.
     *
     * @param name the name
     * @return this builder
     */
    public Builder connectionName(String name) {
      this.connectionName = Objects.requireNonNull(name, "name");
      return this;
    }

    /**
     * Builds the publisher; it connects on its first {@link RabbitOutboxPublisher#publish}.
     *
     * @return the publisher
     */
    public RabbitOutboxPublisher build() {
      return new RabbitOutboxPublisher(this);
    }
  }
}
