package dev.once.spring.boot.internal;

import dev.once.ClaimResult;
import dev.once.IdempotencyKey;
import dev.once.OnceException;
import dev.once.OnceListener;
import dev.once.Scope;
import dev.once.StoreException;
import java.time.Duration;
import java.util.List;

/** Tells every listener bean, in order; one that throws is logged and does not stop the others. */
public final class CompositeListener implements OnceListener {

  private final List<OnceListener> listeners;

  public CompositeListener(List<OnceListener> listeners) {
    this.listeners = listeners.stream().map(OnceListener::guarded).toList();
  }

  /**
   * What a component built by the starter reports to: {@link OnceListener#NOOP} for no listener
   * bean, the bean itself for one, else a composite of them, in order.
   */
  public static OnceListener of(List<OnceListener> listeners) {
    return switch (listeners.size()) {
      case 0 -> OnceListener.NOOP;
      case 1 -> listeners.get(0);
      default -> new CompositeListener(listeners);
    };
  }

  @Override
  public void claimed(Scope scope, String store, ClaimResult.Status status, Duration latency) {
    listeners.forEach(l -> l.claimed(scope, store, status, latency));
  }

  @Override
  public void completed(Scope scope, String store, Duration latency) {
    listeners.forEach(l -> l.completed(scope, store, latency));
  }

  @Override
  public void failed(Scope scope, String store, Throwable failure, boolean stored) {
    listeners.forEach(l -> l.failed(scope, store, failure, stored));
  }

  @Override
  public void leaseLost(Scope scope, String store) {
    listeners.forEach(l -> l.leaseLost(scope, store));
  }

  @Override
  public void storeFailed(Scope scope, String store, StoreException failure) {
    listeners.forEach(l -> l.storeFailed(scope, store, failure));
  }

  @Override
  public void renewalFailed(Scope scope, String store, OnceException failure) {
    listeners.forEach(l -> l.renewalFailed(scope, store, failure));
  }

  @Override
  public void leaseTakenOver(Scope scope, String store) {
    listeners.forEach(l -> l.leaseTakenOver(scope, store));
  }

  @Override
  public void claiming(IdempotencyKey key, String store) {
    listeners.forEach(l -> l.claiming(key, store));
  }

  @Override
  public void claimed(
      IdempotencyKey key, String store, ClaimResult.Status status, Duration latency) {
    listeners.forEach(l -> l.claimed(key, store, status, latency));
  }

  @Override
  public void completed(IdempotencyKey key, String store, Duration latency) {
    listeners.forEach(l -> l.completed(key, store, latency));
  }

  @Override
  public void failed(IdempotencyKey key, String store, Throwable failure, boolean stored) {
    listeners.forEach(l -> l.failed(key, store, failure, stored));
  }

  @Override
  public void leaseLost(IdempotencyKey key, String store) {
    listeners.forEach(l -> l.leaseLost(key, store));
  }

  @Override
  public void storeFailed(IdempotencyKey key, String store, StoreException failure) {
    listeners.forEach(l -> l.storeFailed(key, store, failure));
  }

  @Override
  public void renewalFailed(IdempotencyKey key, String store, OnceException failure) {
    listeners.forEach(l -> l.renewalFailed(key, store, failure));
  }

  @Override
  public void leaseTakenOver(IdempotencyKey key, String store) {
    listeners.forEach(l -> l.leaseTakenOver(key, store));
  }

  @Override
  public void inboxDuplicates(String consumer, String source, String store, int count) {
    listeners.forEach(l -> l.inboxDuplicates(consumer, source, store, count));
  }

  @Override
  public void deadLettered(String consumer, String source, String reason) {
    listeners.forEach(l -> l.deadLettered(consumer, source, reason));
  }
}
