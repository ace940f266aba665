package dev.once.micrometer;

import dev.once.ClaimResult;
import dev.once.IdempotencyKey;
import dev.once.OnceListener;
import dev.once.StoreException;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Each claim as one Micrometer {@link Observation} named {@value #CLAIM}: started when the claim is
 * sent, scoped on the claiming thread while the store answers (so a JDBC or Redis observation
 * inside it is its child, and the trace id is in the logging context), and stopped with the answer.
 * Its low-cardinality key values are {@code operation}, {@code store} and {@code outcome} ({@code
 * acquired}, {@code replayed}, {@code in_progress}, {@code mismatch}, or {@code store_error});
 * never the key or the tenant. Spring Boot's OpenTelemetry or Brave bridge exports it as a span,
 * and its meter handler as a timer {@code once.claim}. Thread-safe.
 *
 * <pre>{@code
 * Once once = Once.builder(store)
 *     .listener(ObservationOnceListener.of(observationRegistry))
 *     .build();
 * }</pre>
 */
public final class ObservationOnceListener implements OnceListener {

  /** The observation's name, and so the timer's and the span's. */
  public static final String CLAIM = "once.claim";

  private final ObservationRegistry registry;

  // The engine reports claiming and then claimed or storeFailed on the same thread, with no other
  // claim in between: one slot per thread is enough.
  private final ThreadLocal<@Nullable Running> running = new ThreadLocal<>();

  private record Running(Observation observation, Observation.Scope scope) {}

  private ObservationOnceListener(ObservationRegistry registry) {
    this.registry = registry;
  }

  /**
   * A listener that observes claims in {@code registry}.
   *
   * @param registry where the observations go; not {@code null}
   * @return the listener
   */
  public static ObservationOnceListener of(ObservationRegistry registry) {
    return new ObservationOnceListener(Objects.requireNonNull(registry, "registry"));
  }

  @Override
  public void claiming(IdempotencyKey key, String store) {
    // A claim whose store threw something other than a StoreException never reported its end.
    end("abandoned", null);
    Observation observation =
        Observation.createNotStarted(CLAIM, registry)
            .contextualName("once claim " + key.scope().operation())
            .lowCardinalityKeyValue("operation", key.scope().operation())
            .lowCardinalityKeyValue("store", store)
            .start();
    running.set(new Running(observation, observation.openScope()));
  }

  @Override
  public void claimed(
      IdempotencyKey key, String store, ClaimResult.Status status, Duration latency) {
    end(MicrometerOnceListener.outcome(status), null);
  }

  @Override
  public void storeFailed(IdempotencyKey key, String store, StoreException failure) {
    // Also told when completing or releasing fails; then no claim is running here.
    end("store_error", failure);
  }

  private void end(String outcome, @Nullable Throwable error) {
    Running r = running.get();
    if (r == null) {
      return;
    }
    running.remove();
    r.scope().close();
    r.observation().lowCardinalityKeyValue("outcome", outcome);
    if (error != null) {
      r.observation().error(error);
    }
    r.observation().stop();
  }

  @Override
  public String toString() {
    return "ObservationOnceListener";
  }
}
