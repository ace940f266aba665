package dev.once;

import java.time.Duration;

/**
 * Hears what {@link Once} (and the HTTP filter and consumers built on {@link OnceEngine}) does, for
 * metrics, tracing and logs. Every method has a no-op default; an implementation overrides what it
 * needs. It should not throw; if it does, the exception is logged and ignored ({@link #guarded}),
 * so a faulty listener never leaves a key claimed. Arguments are low-cardinality on purpose: the
 * scope's operation and the store name make good tags, the key never appears.
 *
 * <p><b>Two forms of each step.</b> The engine calls the forms that take the {@link
 * IdempotencyKey}; each of them, by default, calls the form that takes only the key's {@link
 * Scope}. Metrics override the scope forms; a listener that must tell executions apart (a log line,
 * a trace) overrides the key forms and uses {@link IdempotencyKey#digestHex()}, never {@link
 * IdempotencyKey#value()}: the raw key, like the tenant, is sensitive.
 *
 * <p><b>Inbox steps.</b> The inbox adapters also report {@link #inboxDuplicates} and {@link
 * #deadLettered}, naming the consumer and its source (topic or queue).
 */
public interface OnceListener {

  /** {@link #deadLettered} reason: the handler failed as many times as allowed. */
  String DEAD_LETTER_FAILED = "failed";

  /** {@link #deadLettered} reason: the message had no usable id, so it was never applied. */
  String DEAD_LETTER_REJECTED = "rejected";

  /** The listener that does nothing. */
  OnceListener NOOP = new OnceListener() {};

  /**
   * A claim was answered.
   *
   * @param scope the key's scope
   * @param store the store's {@link IdempotencyStore#name() name}
   * @param status the answer
   * @param latency how long the store took to answer
   */
  default void claimed(Scope scope, String store, ClaimResult.Status status, Duration latency) {}

  /**
   * A fresh execution's outcome was stored.
   *
   * @param scope the key's scope
   * @param store the store's name
   * @param latency from the claim being held to the outcome being stored
   */
  default void completed(Scope scope, String store, Duration latency) {}

  /**
   * A failed execution released its key (or stored its failure when {@code stored}).
   *
   * @param scope the key's scope
   * @param store the store's name
   * @param failure what the execution threw
   * @param stored whether the failure was stored as the key's final answer
   */
  default void failed(Scope scope, String store, Throwable failure, boolean stored) {}

  /**
   * Completing or releasing was refused because another worker took the key over.
   *
   * @param scope the key's scope
   * @param store the store's name
   */
  default void leaseLost(Scope scope, String store) {}

  /**
   * The store failed or could not be reached.
   *
   * @param scope the key's scope
   * @param store the store's name
   * @param failure what the store threw
   */
  default void storeFailed(Scope scope, String store, StoreException failure) {}

  /**
   * The background heartbeat that renews a running execution's lease failed. {@code failure} is a
   * {@link LeaseLostException} when the lease was already taken over (renewal stops; the
   * execution's result will not be stored, and its effect may run twice), or a {@link
   * StoreException} when the store could not be reached (renewal goes on at the next beat).
   *
   * @param scope the key's scope
   * @param store the store's name
   * @param failure what the renewal threw
   */
  default void renewalFailed(Scope scope, String store, OnceException failure) {}

  /**
   * A claim took over a key that was in progress under another claim whose lease had expired
   * ({@link ClaimResult.Acquired#takeover()}): its holder crashed, paused or overran, and its
   * effect may already have run, so this execution may run it a second time. Reported after {@link
   * #claimed(Scope, String, ClaimResult.Status, Duration) claimed}, on the same thread.
   *
   * @param scope the key's scope
   * @param store the store's name
   */
  default void leaseTakenOver(Scope scope, String store) {}

  /**
   * A claim is about to be sent to the store; {@link #claimed(IdempotencyKey, String,
   * ClaimResult.Status, Duration)} or {@link #storeFailed(IdempotencyKey, String, StoreException)}
   * follows on the same thread. For a trace that spans the claim. Default: nothing.
   *
   * @param key the key being claimed
   * @param store the store's {@link IdempotencyStore#name() name}
   */
  default void claiming(IdempotencyKey key, String store) {}

  /**
   * A claim was answered. Default: {@link #claimed(Scope, String, ClaimResult.Status, Duration)}.
   *
   * @param key the claimed key
   * @param store the store's {@link IdempotencyStore#name() name}
   * @param status the answer
   * @param latency how long the store took to answer
   */
  default void claimed(
      IdempotencyKey key, String store, ClaimResult.Status status, Duration latency) {
    claimed(key.scope(), store, status, latency);
  }

  /**
   * A fresh execution's outcome was stored. Default: {@link #completed(Scope, String, Duration)}.
   *
   * @param key the key
   * @param store the store's name
   * @param latency from the claim being held to the outcome being stored
   */
  default void completed(IdempotencyKey key, String store, Duration latency) {
    completed(key.scope(), store, latency);
  }

  /**
   * A failed execution released its key or stored its failure. Default: {@link #failed(Scope,
   * String, Throwable, boolean)}.
   *
   * @param key the key
   * @param store the store's name
   * @param failure what the execution threw
   * @param stored whether the failure was stored as the key's final answer
   */
  default void failed(IdempotencyKey key, String store, Throwable failure, boolean stored) {
    failed(key.scope(), store, failure, stored);
  }

  /**
   * Completing or releasing was refused because another worker took the key over. Default: {@link
   * #leaseLost(Scope, String)}.
   *
   * @param key the key
   * @param store the store's name
   */
  default void leaseLost(IdempotencyKey key, String store) {
    leaseLost(key.scope(), store);
  }

  /**
   * The store failed or could not be reached. Default: {@link #storeFailed(Scope, String,
   * StoreException)}.
   *
   * @param key the key
   * @param store the store's name
   * @param failure what the store threw
   */
  default void storeFailed(IdempotencyKey key, String store, StoreException failure) {
    storeFailed(key.scope(), store, failure);
  }

  /**
   * The lease heartbeat failed. Default: {@link #renewalFailed(Scope, String, OnceException)}.
   *
   * @param key the key
   * @param store the store's name
   * @param failure what the renewal threw
   */
  default void renewalFailed(IdempotencyKey key, String store, OnceException failure) {
    renewalFailed(key.scope(), store, failure);
  }

  /**
   * A claim took over another claim's expired lease. Default: {@link #leaseTakenOver(Scope,
   * String)}.
   *
   * @param key the key taken over
   * @param store the store's name
   */
  default void leaseTakenOver(IdempotencyKey key, String store) {
    leaseTakenOver(key.scope(), store);
  }

  /**
   * An inbox skipped messages whose id it had already applied (a redelivery, a producer retry).
   *
   * @param consumer the inbox's consumer name (or its shared scope's name)
   * @param source where the messages came from: the topic or queue; empty for none
   * @param store the store's name
   * @param count how many messages of one batch were skipped, at least 1
   */
  default void inboxDuplicates(String consumer, String source, String store, int count) {}

  /**
   * An inbox gave up on a message and sent it to the dead letters.
   *
   * @param consumer the inbox's consumer name
   * @param source the topic or queue the message came from
   * @param reason {@link #DEAD_LETTER_FAILED} or {@link #DEAD_LETTER_REJECTED}
   */
  default void deadLettered(String consumer, String source, String reason) {}

  /**
   * {@code listener}, with every call's exception logged (logger {@code dev.once.OnceListener}) and
   * ignored. Guarding an already guarded listener returns it unchanged.
   *
   * @param listener the listener to guard
   * @return the guarded listener
   */
  static OnceListener guarded(OnceListener listener) {
    return GuardedListener.of(listener);
  }
}
