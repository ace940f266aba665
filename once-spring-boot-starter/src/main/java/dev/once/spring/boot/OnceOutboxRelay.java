package dev.once.spring.boot;

import dev.once.outbox.OutboxRelay;
import java.util.Objects;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.springframework.context.SmartLifecycle;

/**
 * The outbox relay as a Spring bean: its background thread starts when the application context
 * starts and stops, after its current batch, when the context stops or closes. A context stopped
 * and started again gets a new relay with the same settings. The publisher is a bean of its own and
 * is closed by the context after the relay stopped.
 *
 * <p>Its phase is {@link SmartLifecycle#DEFAULT_PHASE}, the last: it starts after, and stops
 * before, the lifecycle beans of lower phases, such as the embedded web server.
 */
public final class OnceOutboxRelay implements SmartLifecycle {

  private final Supplier<OutboxRelay> relays;
  private final Object lock = new Object();
  private @Nullable OutboxRelay relay; // guarded by lock

  /**
   * A relay started and stopped with the context.
   *
   * @param relays builds a relay, not started, each time the context starts
   */
  public OnceOutboxRelay(Supplier<OutboxRelay> relays) {
    this.relays = Objects.requireNonNull(relays, "relays");
  }

  @Override
  public void start() {
    synchronized (lock) {
      if (relay != null) {
        return;
      }
      OutboxRelay started = relays.get();
      started.start();
      relay = started;
    }
  }

  @Override
  public void stop() {
    OutboxRelay stopping;
    synchronized (lock) {
      stopping = relay;
      relay = null;
    }
    if (stopping != null) {
      stopping.close();
    }
  }

  @Override
  public boolean isRunning() {
    synchronized (lock) {
      return relay != null;
    }
  }

  /** {@return the running relay, for {@code retryParked} and the like; null while stopped} */
  public @Nullable OutboxRelay relay() {
    synchronized (lock) {
      return relay;
    }
  }

  @Override
  public String toString() {
    OutboxRelay current = relay();
    return "OnceOutboxRelay[" + (current == null ? "stopped" : current) + "]";
  }
}
