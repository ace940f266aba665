package dev.once;

import java.time.Duration;

/**
 * Hears what {@link Once} does, for metrics, tracing and logs. Every method has a no-op default; an
 * implementation overrides what it needs and must not throw. Arguments are low-cardinality on purpose: the
 * scope's operation and the store name make good tags, the key never appears.
 */
public interface OnceListener {

  /** The listener that does nothing. */
  OnceListener NOOP = new OnceListener() {
  };

  /** A claim was answered. */
  default void claimed(Scope scope, String store, ClaimResult.Status status, Duration latency) {
  }

  /** A fresh execution's outcome was stored. */
  default void completed(Scope scope, String store, Duration latency) {
  }

  /** A failed execution released its key (or stored its failure when {@code stored}). */
  default void failed(Scope scope, String store, Throwable failure, boolean stored) {
  }

  /** Completing or releasing was refused because another worker took the key over. */
  default void leaseLost(Scope scope, String store) {
  }

  /** The store failed or could not be reached. */
  default void storeFailed(Scope scope, String store, StoreException failure) {
  }
}
