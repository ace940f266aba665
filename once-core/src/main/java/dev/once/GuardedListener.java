package dev.once;

import java.time.Duration;
import java.util.Objects;

/** Calls a listener and logs what it throws, so a faulty listener never leaves a key claimed. */
final class GuardedListener implements OnceListener {

  private static final System.Logger LOG = System.getLogger(OnceListener.class.getName());

  private final OnceListener delegate;

  private GuardedListener(OnceListener delegate) {
    this.delegate = delegate;
  }

  static OnceListener of(OnceListener listener) {
    Objects.requireNonNull(listener, "listener");
    return listener instanceof GuardedListener || listener == NOOP
        ? listener
        : new GuardedListener(listener);
  }

  private void guard(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "OnceListener " + delegate.getClass().getName() + " threw; ignored",
          e);
    }
  }

  @Override
  public void claimed(Scope scope, String store, ClaimResult.Status status, Duration latency) {
    guard(() -> delegate.claimed(scope, store, status, latency));
  }

  @Override
  public void completed(Scope scope, String store, Duration latency) {
    guard(() -> delegate.completed(scope, store, latency));
  }

  @Override
  public void failed(Scope scope, String store, Throwable failure, boolean stored) {
    guard(() -> delegate.failed(scope, store, failure, stored));
  }

  @Override
  public void leaseLost(Scope scope, String store) {
    guard(() -> delegate.leaseLost(scope, store));
  }

  @Override
  public void storeFailed(Scope scope, String store, StoreException failure) {
    guard(() -> delegate.storeFailed(scope, store, failure));
  }

  @Override
  public void renewalFailed(Scope scope, String store, OnceException failure) {
    guard(() -> delegate.renewalFailed(scope, store, failure));
  }

  @Override
  public void leaseTakenOver(Scope scope, String store) {
    guard(() -> delegate.leaseTakenOver(scope, store));
  }

  @Override
  public void claiming(IdempotencyKey key, String store) {
    guard(() -> delegate.claiming(key, store));
  }

  @Override
  public void claimed(
      IdempotencyKey key, String store, ClaimResult.Status status, Duration latency) {
    guard(() -> delegate.claimed(key, store, status, latency));
  }

  @Override
  public void completed(IdempotencyKey key, String store, Duration latency) {
    guard(() -> delegate.completed(key, store, latency));
  }

  @Override
  public void failed(IdempotencyKey key, String store, Throwable failure, boolean stored) {
    guard(() -> delegate.failed(key, store, failure, stored));
  }

  @Override
  public void leaseLost(IdempotencyKey key, String store) {
    guard(() -> delegate.leaseLost(key, store));
  }

  @Override
  public void storeFailed(IdempotencyKey key, String store, StoreException failure) {
    guard(() -> delegate.storeFailed(key, store, failure));
  }

  @Override
  public void renewalFailed(IdempotencyKey key, String store, OnceException failure) {
    guard(() -> delegate.renewalFailed(key, store, failure));
  }

  @Override
  public void leaseTakenOver(IdempotencyKey key, String store) {
    guard(() -> delegate.leaseTakenOver(key, store));
  }

  @Override
  public void inboxDuplicates(String consumer, String source, String store, int count) {
    guard(() -> delegate.inboxDuplicates(consumer, source, store, count));
  }

  @Override
  public void deadLettered(String consumer, String source, String reason) {
    guard(() -> delegate.deadLettered(consumer, source, reason));
  }

  @Override
  public String toString() {
    return "guarded " + delegate;
  }
}
