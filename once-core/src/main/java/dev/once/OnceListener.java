package dev.once;

import java.time.Duration;

/**
 * Hears what {@link Once} (and the HTTP filter and consumers built on {@link OnceEngine}) does, for
 * metrics, tracing and logs. Every method has a no-op default; an implementation overrides what it
 * needs. It should not throw; if it does, the exception is logged and ignored ({@link #guarded}),
 * so a faulty listener never leaves a key claimed. Arguments are low-cardinality on purpose: the
 * scope's operation and the store name make good tags, the key never appears.
 */
public interface OnceListener {

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
