package dev.once.spring.boot;

import dev.once.Purger;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.springframework.context.SmartLifecycle;

/**
 * The purgers of the application's stores as a Spring bean: one {@link Purger} per {@code
 * IdempotencyStore} bean, whose background threads start when the application context starts and
 * stop, after the batch they are deleting, when the context stops or closes. A context stopped and
 * started again gets new purgers with the same settings (and fresh {@link Purger#progress()}).
 *
 * <p>Its phase is {@link SmartLifecycle#DEFAULT_PHASE}, the last: it starts after, and stops
 * before, the lifecycle beans of lower phases.
 */
public final class OncePurgers implements SmartLifecycle {

  private final Supplier<List<Purger>> purgers;
  private final Object lock = new Object();
  private List<Purger> running = List.of(); // guarded by lock
  private boolean started; // guarded by lock

  /**
   * Purgers started and stopped with the context.
   *
   * @param purgers builds the purgers, not started, each time the context starts
   */
  public OncePurgers(Supplier<List<Purger>> purgers) {
    this.purgers = Objects.requireNonNull(purgers, "purgers");
  }

  @Override
  public void start() {
    synchronized (lock) {
      if (started) {
        return;
      }
      List<Purger> built = List.copyOf(purgers.get());
      built.forEach(Purger::start);
      running = built;
      started = true;
    }
  }

  @Override
  public void stop() {
    List<Purger> stopping;
    synchronized (lock) {
      stopping = running;
      running = List.of();
      started = false;
    }
    stopping.forEach(Purger::close);
  }

  @Override
  public boolean isRunning() {
    synchronized (lock) {
      return started;
    }
  }

  /** {@return the running purgers, one per store; empty while stopped} */
  public List<Purger> purgers() {
    synchronized (lock) {
      return running;
    }
  }

  @Override
  public String toString() {
    return "OncePurgers" + purgers();
  }
}
