package dev.once.jdbc;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Completion;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.KeyPolicy;
import dev.once.OnceListener;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.StoreException;
import dev.once.internal.InboxDecisions;
import dev.once.jdbc.internal.SqlErrors;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The idempotent consumer's core: applies a batch of messages in ONE database transaction, each
 * message id at most once. The batch's ids are claimed in one statement, the handler runs only for
 * fresh ones on the same connection, and the dedupe markers commit with the handler's writes. A
 * crash anywhere before the commit leaves nothing; after it, a redelivery is skipped. Broker
 * adapters acknowledge only after {@link #process} returns.
 *
 * <pre>{@code
 * JdbcIdempotencyStore store = JdbcIdempotencyStore.builder(dataSource).build();
 * JdbcInbox inbox = JdbcInbox.builder(dataSource, store).consumer("payments-consumer").build();
 * Batch<ConsumerRecord<String, String>> done = inbox.process(records, r -> header(r, "message-id"),
 *     (connection, r) -> applyTransfer(connection, r.value()));
 * }</pre>
 *
 * <p><b>Scope of the ids.</b> The broker adapters pass the source of each message (the Kafka
 * consumer group and topic, the RabbitMQ queue) with {@link #process(List, Function, Function,
 * Handler, BatchHook)}, and an id is deduped within its source and the inbox's {@link
 * Builder#consumer consumer name}: a queue and a topic whose ids overlap ({@code m-1}, sequence
 * numbers) never skip each other's messages, even on one inbox. An inbox built with {@link
 * Builder#sharedScope} ignores the sources and dedupes every id within that one name, on purpose: a
 * message published to two sources is then applied once in all. {@link #process(List, Function,
 * Handler)} (no source) dedupes within the name alone.
 *
 * <p>Whatever the store's {@link ConcurrentClaimPolicy}, an id that another open transaction holds
 * (a rebalanced duplicate) waits for that transaction to end, then answers as what it committed. On
 * PostgreSQL and MariaDB the markers are written completed by the claim statement itself (they
 * commit or roll back with the effect), so a batch costs one write per fresh id; SQLite and H2
 * complete them in one extra round trip.
 *
 * <p>A batch that loses a deadlock is rolled back and run again (up to 8 times). A handler
 * exception rolls the whole batch back (no marker is kept for any message of it) and surfaces as
 * {@link HandlerFailedException} naming the message, so the caller can retry, or dead-letter that
 * one message and process the rest again.
 */
public final class JdbcInbox {

  private static final int MAX_ATTEMPTS = 8;

  private final DataSource dataSource;
  private final JdbcIdempotencyStore store;
  private final String consumer;
  private final boolean sharedScope;
  private final Duration retention;
  private final KeyPolicy keyPolicy;
  private final OnceListener listener;

  private JdbcInbox(Builder b) {
    this.dataSource = b.dataSource;
    this.store = b.store;
    this.consumer = b.consumer;
    this.sharedScope = b.sharedScope;
    this.retention = b.retention;
    this.keyPolicy = b.keyPolicy;
    this.listener = OnceListener.guarded(b.listener);
  }

  /**
   * {@return the listener this inbox reports to, guarded} The broker adapters report their dead
   * letters to it ({@link OnceListener#deadLettered}).
   */
  public OnceListener listener() {
    return listener;
  }

  /** {@return the consumer's name (or the shared scope's), as the listener is told it} */
  public String consumer() {
    return consumer;
  }

  /**
   * Starts a builder, with the defaults documented on its setters.
   *
   * @param dataSource where the batch transactions' connections come from; the same database as
   *     {@code store}
   * @param store the store whose table keeps the markers
   * @return a new builder
   */
  public static Builder builder(DataSource dataSource, JdbcIdempotencyStore store) {
    return new Builder(dataSource, store);
  }

  /**
   * Applies one message inside the batch's transaction.
   *
   * @param <M> the message type
   */
  @FunctionalInterface
  public interface Handler<M> {
    /**
     * Applies {@code message}. Write on {@code connection} only: it is the batch's transaction, and
     * do not commit, roll back or close it.
     *
     * @param connection the batch's connection, its transaction open
     * @param message a message whose id was not applied before
     * @throws Exception to roll the whole batch back; it surfaces in a {@link
     *     HandlerFailedException}
     */
    void handle(Connection connection, M message) throws Exception;
  }

  /**
   * Applies the fresh messages of a batch in one call inside its transaction, e.g. as one JDBC
   * batch.
   *
   * <pre>{@code
   * inbox.processAll(records, idOf, (connection, fresh) -> {
   *   try (PreparedStatement ps = connection.prepareStatement("INSERT INTO ledger (id, amount) VALUES (?, ?)")) {
   *     for (var r : fresh) { ps.setString(1, r.key()); ps.setLong(2, amount(r)); ps.addBatch(); }
   *     ps.executeBatch();
   *   }
   * }, null);
   * }</pre>
   *
   * @param <M> the message type
   */
  @FunctionalInterface
  public interface BatchHandler<M> {
    /**
     * Applies the fresh messages. Write on {@code connection} only, and do not commit, roll back or
     * close it.
     *
     * @param connection the batch's connection, its transaction open
     * @param fresh the messages whose ids were not applied before, in batch order; never empty;
     *     unmodifiable
     * @throws Exception to roll the whole batch back; it surfaces in a {@link
     *     HandlerFailedException} with index -1
     */
    void handle(Connection connection, List<M> fresh) throws Exception;
  }

  /** How the fresh messages of a batch are applied: one by one, or all at once. */
  @FunctionalInterface
  private interface Applier<M> {
    void apply(Connection connection, List<M> fresh, List<Integer> positions);
  }

  /**
   * What a committed batch did.
   *
   * @param applied messages whose handler ran and committed, in batch order
   * @param duplicates messages skipped because their id was already applied (earlier, or earlier in
   *     this batch)
   * @param <M> the message type
   */
  public record Batch<M>(List<M> applied, List<M> duplicates) {}

  /** A handler failed; the batch's transaction was rolled back, nothing of it is committed. */
  public static final class HandlerFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient @Nullable Object failedMessage;

    /** Position of the failed message in the batch, or -1 for a {@link BatchHandler}. */
    private final int index;

    HandlerFailedException(int index, @Nullable Object message, Throwable cause) {
      super(
          (index < 0
                  ? "the batch handler failed"
                  : "handler failed for message " + index + " of the batch")
              + "; the batch was rolled back: "
              + cause,
          cause);
      this.index = index;
      this.failedMessage = message;
    }

    /**
     * Position of the failed message in the batch; -1 when a {@link BatchHandler} failed for the
     * batch as a whole.
     *
     * @return the position, or -1
     */
    public int index() {
      return index;
    }

    /**
     * {@return the message whose handler threw} {@code null} when a {@link BatchHandler} failed.
     */
    public @Nullable Object failedMessage() {
      return failedMessage;
    }
  }

  /**
   * Applies the batch in one transaction and commits it.
   *
   * @param <M> the message type
   * @param messages the batch, in delivery order; may be empty
   * @param idOf the message's id (e.g. a header or a business key); must satisfy the key policy
   * @param handler applies each fresh message
   * @return which messages were applied and which skipped as duplicates
   * @throws HandlerFailedException if a handler threw (everything rolled back)
   * @throws StoreException if the database failed (everything rolled back);
   *     StoreUnavailableException if it is down
   */
  public <M> Batch<M> process(List<M> messages, Function<M, String> idOf, Handler<M> handler) {
    return process(messages, idOf, handler, null);
  }

  /**
   * Runs once per attempt, on the batch's connection, after every handler and before the commit:
   * its writes (a broker adapter's consumer offsets, for example) commit with the batch or roll
   * back with it.
   */
  @FunctionalInterface
  public interface BatchHook {
    /**
     * Writes what must commit with the batch.
     *
     * @param connection the batch's connection, its transaction open
     * @throws Exception to roll the batch back; it is rethrown
     */
    void beforeCommit(Connection connection) throws Exception;
  }

  /**
   * Like {@link #process(List, Function, Handler)}, and runs {@code afterBatch} in the same
   * transaction after the handlers, before the commit. An exception from it rolls the batch back
   * and is rethrown (a {@link StoreException} for an {@link SQLException}, unchecked exceptions as
   * they are). Not called for an empty batch.
   *
   * @param <M> the message type
   * @param messages the batch, in delivery order; may be empty
   * @param idOf the message's id; must satisfy the key policy
   * @param handler applies each fresh message
   * @param afterBatch may be {@code null} (then this is {@link #process(List, Function, Handler)})
   * @return which messages were applied and which skipped as duplicates
   */
  public <M> Batch<M> process(
      List<M> messages,
      Function<M, String> idOf,
      Handler<M> handler,
      @Nullable BatchHook afterBatch) {
    return process(messages, m -> "", idOf, handler, afterBatch);
  }

  /**
   * Like {@link #process(List, Function, Handler, BatchHook)}, with the ids deduped per source: a
   * message's id is skipped only if a message of the same source had it (unless the inbox was built
   * with {@link Builder#sharedScope}, which makes every source share the name's ids). What broker
   * adapters call.
   *
   * @param <M> the message type
   * @param messages the batch, in delivery order; may be empty
   * @param sourceOf where the message came from, e.g. {@code kafka:<group>/<topic>} or {@code
   *     rabbitmq:<queue>}; the empty string means no source (the consumer name's ids)
   * @param idOf the message's id; must satisfy the key policy
   * @param handler applies each fresh message
   * @param afterBatch runs before the commit; may be {@code null}
   * @return which messages were applied and which skipped as duplicates
   */
  public <M> Batch<M> process(
      List<M> messages,
      Function<M, String> sourceOf,
      Function<M, String> idOf,
      Handler<M> handler,
      @Nullable BatchHook afterBatch) {
    Objects.requireNonNull(handler, "handler");
    return run(
        messages,
        sourceOf,
        idOf,
        (c, fresh, positions) -> {
          for (int i = 0; i < fresh.size(); i++) {
            try {
              handler.handle(c, fresh.get(i));
            } catch (Exception e) {
              throw new HandlerFailedException(positions.get(i), fresh.get(i), e);
            }
          }
        },
        afterBatch);
  }

  /**
   * Like {@link #process(List, Function, Handler, BatchHook)}, but the fresh messages go to {@code
   * handler} in one call (not called when there are none). If it throws, the batch is rolled back
   * and {@link HandlerFailedException} has index -1: to find the poison message, process the batch
   * again message by message.
   *
   * @param <M> the message type
   * @param messages the batch, in delivery order; may be empty
   * @param idOf the message's id; must satisfy the key policy
   * @param handler applies the fresh messages in one call
   * @param afterBatch runs before the commit; may be {@code null}
   * @return which messages were applied and which skipped as duplicates
   */
  public <M> Batch<M> processAll(
      List<M> messages,
      Function<M, String> idOf,
      BatchHandler<M> handler,
      @Nullable BatchHook afterBatch) {
    return processAll(messages, m -> "", idOf, handler, afterBatch);
  }

  /**
   * Like {@link #processAll(List, Function, BatchHandler, BatchHook)}, with the ids deduped per
   * source as in {@link #process(List, Function, Function, Handler, BatchHook)}.
   *
   * @param <M> the message type
   * @param messages the batch, in delivery order; may be empty
   * @param sourceOf where the message came from; the empty string means no source
   * @param idOf the message's id; must satisfy the key policy
   * @param handler applies the fresh messages in one call
   * @param afterBatch runs before the commit; may be {@code null}
   * @return which messages were applied and which skipped as duplicates
   */
  public <M> Batch<M> processAll(
      List<M> messages,
      Function<M, String> sourceOf,
      Function<M, String> idOf,
      BatchHandler<M> handler,
      @Nullable BatchHook afterBatch) {
    Objects.requireNonNull(handler, "handler");
    return run(
        messages,
        sourceOf,
        idOf,
        (c, fresh, positions) -> {
          if (fresh.isEmpty()) {
            return;
          }
          try {
            handler.handle(c, Collections.unmodifiableList(fresh));
          } catch (Exception e) {
            throw new HandlerFailedException(-1, null, e);
          }
        },
        afterBatch);
  }

  /**
   * For callers that own the transaction (a framework's listener container): claims {@code ids} on
   * the caller's connection, inside its open transaction, and writes their markers, so the caller
   * applies the fresh messages on the same connection and commits or rolls back effects and markers
   * together. A repeated id is fresh only at its first position. An id that another open
   * transaction holds is waited for.
   *
   * @param connection the caller's connection, its transaction open; not {@code null}
   * @param ids the messages' ids, in batch order; each must satisfy the key policy
   * @return per id, whether it is fresh (apply it) or a duplicate (skip it)
   * @throws StoreException if the database failed, or an id is held by a claim outside any
   *     transaction (retry)
   */
  public boolean[] claimInTransaction(Connection connection, List<String> ids) {
    Objects.requireNonNull(connection, "connection");
    boolean[] fresh = new boolean[ids.size()];
    if (ids.isEmpty()) {
      return fresh;
    }
    for (int i : claim(connection, requests(ids, id -> "", Function.identity())).fresh()) {
      fresh[i] = true;
    }
    int duplicates = 0;
    for (boolean f : fresh) {
      duplicates += f ? 0 : 1;
    }
    if (duplicates > 0) {
      // The caller's transaction has not committed yet: a rolled-back batch is counted again when
      // it is redelivered.
      listener.inboxDuplicates(consumer, "", store.name(), duplicates);
    }
    return fresh;
  }

  /**
   * Whether a failed batch is worth running again at once: it lost a deadlock or a serialization
   * check, or an id was held by another consumer's claim. {@link #process} retries these itself;
   * callers of {@link #claimInTransaction} roll back and retry.
   *
   * @param e what a batch or a claim threw
   * @return whether to run it again at once
   */
  public static boolean isTransient(StoreException e) {
    return e instanceof HeldElsewhereException
        || e.getCause() instanceof SQLException s && SqlErrors.isSerializationFailure(s);
  }

  /**
   * Whether {@code failure} (a handler's exception, say) says the database connection or server is
   * gone, exactly as the store classifies {@link dev.once.StoreUnavailableException}: an outage to
   * wait out, not the message's fault.
   *
   * @param failure the exception to classify, with its causes
   * @return whether it is a lost connection
   */
  public static boolean isConnectionLost(Throwable failure) {
    return InboxDecisions.isConnectionLost(failure);
  }

  /**
   * The scope of the ids of {@code source}: the source is the scope's tenant, so no choice of names
   * can make two sources' ids meet, and the empty source (or a shared scope) is the consumer name's
   * scope of earlier versions.
   */
  private Scope scopeOf(String source) {
    return sharedScope || source.isEmpty() ? Scope.global(consumer) : Scope.of(source, consumer);
  }

  private <M> List<ClaimRequest> requests(
      List<M> messages, Function<M, String> sourceOf, Function<M, String> idOf) {
    Map<String, Scope> scopes = new HashMap<>();
    List<ClaimRequest> requests = new ArrayList<>(messages.size());
    for (M m : messages) {
      Scope scope =
          scopes.computeIfAbsent(
              Objects.requireNonNull(sourceOf.apply(m), "source"), this::scopeOf);
      // The id alone identifies a message: a redelivery must match whatever its payload bytes look
      // like.
      requests.add(
          new ClaimRequest(
              keyPolicy.key(scope, idOf.apply(m)),
              Fingerprint.empty(),
              Duration.ofMinutes(5),
              retention));
    }
    return requests;
  }

  /**
   * Positions of the fresh requests, ascending (the rest are duplicates); their markers are
   * written, completed.
   */
  private record Claimed(List<Integer> fresh) {}

  private Claimed claim(Connection c, List<ClaimRequest> requests) {
    // A repeated id is a duplicate of its first occurrence in the batch: claim each id once.
    Map<IdempotencyKey, Integer> first = new HashMap<>();
    List<ClaimRequest> distinct = new ArrayList<>(requests.size());
    for (int i = 0; i < requests.size(); i++) {
      if (first.putIfAbsent(requests.get(i).key(), i) == null) {
        distinct.add(requests.get(i));
      }
    }
    JdbcIdempotencyStore.InboxClaims claims = store.claimForInbox(c, distinct);
    List<Integer> fresh = new ArrayList<>();
    List<Completion> completions = new ArrayList<>();
    for (int j = 0; j < distinct.size(); j++) {
      ClaimResult claim = claims.results().get(j);
      IdempotencyKey key = distinct.get(j).key();
      if (claim instanceof ClaimResult.Acquired acquired) {
        fresh.add(first.get(key));
        if (!claims.completed()) {
          completions.add(new Completion(key, acquired.token(), Outcome.empty(), retention));
        }
      } else if (!(claim instanceof ClaimResult.Completed)) {
        // Held by a live lease outside this transaction: neither apply nor skip; the caller
        // redelivers later.
        throw new HeldElsewhereException(
            "message id "
                + first.get(key)
                + " of the batch is held by another consumer ("
                + claim
                + "); retry the batch",
            store.name(),
            key.scope());
      }
    }
    // Dialects that cannot write the markers completed in the claim complete them now, in one round
    // trip: within
    // this transaction, before or after the effects makes no difference.
    store.onConnection(c).completeAll(completions);
    Collections.sort(fresh);
    return new Claimed(fresh);
  }

  private <M> Batch<M> run(
      List<M> messages,
      Function<M, String> sourceOf,
      Function<M, String> idOf,
      Applier<M> handler,
      @Nullable BatchHook afterBatch) {
    if (messages.isEmpty()) {
      return new Batch<>(List.of(), List.of());
    }
    for (int attempt = 1; ; attempt++) {
      try {
        return processOnce(messages, sourceOf, idOf, handler, afterBatch);
      } catch (StoreException e) {
        // A deadlock victim, a serialization failure, or an id another consumer holds right now:
        // the batch
        // was rolled back whole, so run it again a little later.
        if (attempt >= MAX_ATTEMPTS || !isTransient(e)) {
          throw e;
        }
        LockSupport.parkNanos(
            ThreadLocalRandom.current().nextLong(1_000_000L, 20_000_000L) * attempt);
      }
    }
  }

  private <M> Batch<M> processOnce(
      List<M> messages,
      Function<M, String> sourceOf,
      Function<M, String> idOf,
      Applier<M> handler,
      @Nullable BatchHook afterBatch) {
    List<ClaimRequest> requests = requests(messages, sourceOf, idOf);
    Scope scope = requests.get(0).key().scope();
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      Batch<M> batch;
      try {
        batch = apply(c, messages, requests, handler);
        if (afterBatch != null) {
          runHook(afterBatch, c);
        }
        c.commit();
      } catch (RuntimeException | SQLException e) {
        rollback(c, e);
        // On a connection that died under the batch this fails too; the batch's own failure (a
        // handler's, naming its
        // message and cause) is what the caller must see, so the adapters can tell an outage from a
        // poison message.
        restoreAutoCommit(c, autoCommit, e);
        throw e;
      }
      c.setAutoCommit(autoCommit);
      reportDuplicates(batch.duplicates(), sourceOf);
      return batch;
    } catch (SQLException e) {
      throw SqlErrors.translate(e, store.name(), scope, "inbox batch");
    }
  }

  private <M> Batch<M> apply(
      Connection c, List<M> messages, List<ClaimRequest> requests, Applier<M> handler) {
    List<Integer> positions = claim(c, requests).fresh();
    List<M> applied = new ArrayList<>(positions.size());
    for (int i : positions) {
      applied.add(messages.get(i));
    }
    List<M> duplicates = new ArrayList<>(messages.size() - positions.size());
    for (int i = 0, next = 0; i < messages.size(); i++) {
      if (next < positions.size() && positions.get(next) == i) {
        next++;
      } else {
        duplicates.add(messages.get(i));
      }
    }
    handler.apply(c, applied, positions);
    return new Batch<>(applied, duplicates);
  }

  /** Tells the listener how many messages of each source were skipped, once they are committed. */
  private <M> void reportDuplicates(List<M> duplicates, Function<M, String> sourceOf) {
    if (duplicates.isEmpty()) {
      return;
    }
    Map<String, Integer> bySource = new HashMap<>();
    for (M m : duplicates) {
      bySource.merge(sourceOf.apply(m), 1, Integer::sum);
    }
    bySource.forEach(
        (source, count) -> listener.inboxDuplicates(consumer, source, store.name(), count));
  }

  private static void runHook(BatchHook hook, Connection c) throws SQLException {
    try {
      hook.beforeCommit(c);
    } catch (SQLException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("the batch hook failed; the batch was rolled back: " + e, e);
    }
  }

  private static void restoreAutoCommit(Connection c, boolean autoCommit, Exception failure) {
    try {
      c.setAutoCommit(autoCommit);
    } catch (SQLException e) {
      failure.addSuppressed(e);
    }
  }

  private static void rollback(Connection c, Exception failure) {
    try {
      c.rollback();
    } catch (SQLException e) {
      failure.addSuppressed(e);
    }
  }

  /**
   * A message id held by another consumer's live claim: neither applied nor skipped; the batch is
   * retried.
   */
  private static final class HeldElsewhereException extends StoreException {
    private static final long serialVersionUID = 1L;

    HeldElsewhereException(String message, String store, Scope scope) {
      super(message, store, scope, null);
    }
  }

  /** Builds a {@link JdbcInbox}. */
  public static final class Builder {
    private final DataSource dataSource;
    private final JdbcIdempotencyStore store;
    private String consumer = "inbox";
    private boolean sharedScope;
    private Duration retention = Duration.ofDays(7);
    private KeyPolicy keyPolicy = KeyPolicy.defaults();
    private OnceListener listener = OnceListener.NOOP;

    private Builder(DataSource dataSource, JdbcIdempotencyStore store) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
      this.store = Objects.requireNonNull(store, "store");
    }

    /**
     * The consumer's name. Its message ids are deduped per source within it: the same id from two
     * sources (a queue and a topic) is applied once for each. Default {@code inbox}. Replaces a
     * {@link #sharedScope} set before.
     *
     * @param consumer not {@code null}
     * @return this builder
     */
    public Builder consumer(String consumer) {
      this.consumer = Objects.requireNonNull(consumer, "consumer");
      this.sharedScope = false;
      return this;
    }

    /**
     * Dedupe the ids of every source in ONE scope named {@code name}, on purpose: a message id
     * applied from one source (a Kafka topic, a RabbitMQ queue) is skipped from every other. Only
     * for sources that carry the same messages under the same ids (a message fanned out to a queue
     * and a topic, a migration from one broker to another); sources whose ids merely look alike
     * ({@code m-1}, sequence numbers) would skip each other's messages. This is also the scope
     * versions before per-source scoping used for {@code consumer(name)}, so it keeps their
     * markers. Replaces a {@link #consumer} set before.
     *
     * @param name the one scope's name; not {@code null}
     * @return this builder
     */
    public Builder sharedScope(String name) {
      this.consumer = Objects.requireNonNull(name, "name");
      this.sharedScope = true;
      return this;
    }

    /**
     * How long an applied id is remembered; longer than any redelivery or replay you expect.
     * Default 7 days.
     *
     * @param retention positive
     * @return this builder
     * @throws IllegalArgumentException if {@code retention} is {@code null}, zero or negative
     */
    public Builder retention(Duration retention) {
      if (retention == null || retention.isNegative() || retention.isZero()) {
        throw new IllegalArgumentException("retention must be positive, but was " + retention);
      }
      this.retention = retention;
      return this;
    }

    /**
     * Which message ids are accepted. Default {@link KeyPolicy#defaults()}.
     *
     * @param keyPolicy not {@code null}
     * @return this builder
     */
    public Builder keyPolicy(KeyPolicy keyPolicy) {
      this.keyPolicy = Objects.requireNonNull(keyPolicy, "keyPolicy");
      return this;
    }

    /**
     * Told of the messages each committed batch skipped as duplicates ({@link
     * OnceListener#inboxDuplicates}) and, by the broker adapters, of the messages they dead-letter.
     * Default: none.
     *
     * @param listener not {@code null}; {@link OnceListener#NOOP} for none
     * @return this builder
     */
    public Builder listener(OnceListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** {@return the inbox with these settings; thread-safe} */
    public JdbcInbox build() {
      return new JdbcInbox(this);
    }
  }
}
