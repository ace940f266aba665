package dev.once.drill.internal;

import dev.once.drill.DrillProgress;
import dev.once.drill.DrillRequest;
import dev.once.drill.Injection;
import dev.once.drill.Oracle;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** A drill's settings, checked by {@code Drill.Builder}. */
public record Settings(
    URI target,
    List<DrillRequest> requests,
    String keyHeader,
    String replayHeader,
    String replayValue,
    Map<Injection, Double> fractions,
    int concurrency,
    int slowRetries,
    Duration slowWindow,
    int workers,
    Duration requestTimeout,
    Duration maxDuration,
    long seed,
    String runId,
    @Nullable Oracle oracle,
    Set<Integer> inFlightStatuses,
    Set<Integer> mismatchStatuses,
    @Nullable Double maxReplaySlowdown,
    DrillProgress progress) {

  /** {@return the fraction of requests that get {@code injection}} */
  public double fraction(Injection injection) {
    return fractions.getOrDefault(injection, 0.0);
  }
}
