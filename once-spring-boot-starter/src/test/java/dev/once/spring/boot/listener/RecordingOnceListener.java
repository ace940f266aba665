package dev.once.spring.boot.listener;

import dev.once.OnceListener;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.context.annotation.Bean;

/**
 * What the idempotent listener factories reported: skipped duplicates and dead letters, summed per
 * {@code consumer|source|store} and {@code consumer|source|reason}. Registered as a bean next to a
 * {@link SimpleMeterRegistry}, so the starter's {@code MicrometerOnceListener} hears the same calls
 * and the meters can be checked too.
 */
final class RecordingOnceListener implements OnceListener {

  /** Adds this listener and a meter registry to a test application. */
  static class Beans {
    @Bean
    RecordingOnceListener recordingOnceListener() {
      return new RecordingOnceListener();
    }

    @Bean
    MeterRegistry meterRegistry() {
      return new SimpleMeterRegistry();
    }
  }

  final Map<String, Integer> duplicates = new ConcurrentHashMap<>();
  final Map<String, Integer> deadLetters = new ConcurrentHashMap<>();

  @Override
  public void inboxDuplicates(String consumer, String source, String store, int count) {
    duplicates.merge(consumer + "|" + source + "|" + store, count, Integer::sum);
  }

  @Override
  public void deadLettered(String consumer, String source, String reason) {
    deadLetters.merge(consumer + "|" + source + "|" + reason, 1, Integer::sum);
  }
}
