package dev.once.spring.boot.internal;

import dev.once.ClaimResult;
import dev.once.OnceListener;
import dev.once.Scope;
import dev.once.StoreException;
import java.time.Duration;
import java.util.List;

/** Tells every listener bean, in order; one that throws does not stop the others. */
public final class CompositeListener implements OnceListener {

  private final List<OnceListener> listeners;

  public CompositeListener(List<OnceListener> listeners) {
    this.listeners = List.copyOf(listeners);
  }

  private void each(java.util.function.Consumer<OnceListener> call) {
    for (OnceListener l : listeners) {
      try {
        call.accept(l);
      } catch (RuntimeException ignored) {
        // Listeners must not throw (OnceListener's contract); one that does must not silence the rest.
      }
    }
  }

  @Override
  public void claimed(Scope scope, String store, ClaimResult.Status status, Duration latency) {
    each(l -> l.claimed(scope, store, status, latency));
  }

  @Override
  public void completed(Scope scope, String store, Duration latency) {
    each(l -> l.completed(scope, store, latency));
  }

  @Override
  public void failed(Scope scope, String store, Throwable failure, boolean stored) {
    each(l -> l.failed(scope, store, failure, stored));
  }

  @Override
  public void leaseLost(Scope scope, String store) {
    each(l -> l.leaseLost(scope, store));
  }

  @Override
  public void storeFailed(Scope scope, String store, StoreException failure) {
    each(l -> l.storeFailed(scope, store, failure));
  }
}
