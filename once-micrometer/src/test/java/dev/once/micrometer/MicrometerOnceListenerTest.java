package dev.once.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.ClaimRequest;
import dev.once.FailurePolicy;
import dev.once.Fingerprint;
import dev.once.FingerprintMismatchException;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.InMemoryIdempotencyStore;
import dev.once.InProgressException;
import dev.once.LeaseLostException;
import dev.once.Once;
import dev.once.OnceListener;
import dev.once.Purger;
import dev.once.ReplayedFailureException;
import dev.once.ResultCodec;
import dev.once.Scope;
import dev.once.StoreException;
import dev.once.StoreUnavailableException;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class MicrometerOnceListenerTest {

  private static final Scope SCOPE = Scope.of("tenant-secret", "POST /payments");
  private static final IdempotencyKey KEY = IdempotencyKey.of(SCOPE, "raw-key-secret");

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final MicrometerOnceListener listener = MicrometerOnceListener.of(registry);

  @Test
  void aChargeAReplayAConflictAndAMismatchAreCountedByOutcome() {
    IdempotencyStore store = IdempotencyStore.inMemory();
    Once once = Once.builder(store).listener(listener).build();

    assertThat(once.execute(KEY, Fingerprint.of("a"), ResultCodec.utf8(), () -> "paid").value())
        .isEqualTo("paid");
    assertThat(once.execute(KEY, Fingerprint.of("a"), ResultCodec.utf8(), () -> "again").replayed())
        .isTrue();
    assertThatThrownBy(
            () -> once.execute(KEY, Fingerprint.of("b"), ResultCodec.utf8(), () -> "other"))
        .isInstanceOf(FingerprintMismatchException.class);
    IdempotencyKey held = IdempotencyKey.of(SCOPE, "held");
    store.claim(
        new ClaimRequest(held, Fingerprint.of("a"), Duration.ofMinutes(1), Duration.ofHours(1)));
    assertThatThrownBy(() -> once.execute(held, Fingerprint.of("a"), ResultCodec.utf8(), () -> ""))
        .isInstanceOf(InProgressException.class);

    assertThat(claims("acquired")).isEqualTo(1);
    assertThat(claims("replayed")).isEqualTo(1);
    assertThat(claims("mismatch")).isEqualTo(1);
    assertThat(claims("in_progress")).isEqualTo(1);
    assertThat(
            registry
                .get(MicrometerOnceListener.STORE_LATENCY)
                .tags("operation", "POST /payments", "store", store.name())
                .timer()
                .count())
        .isEqualTo(4);
    assertThat(executions("completed")).isEqualTo(1);
    assertThat(registry.get(MicrometerOnceListener.EXECUTION_DURATION).timer().count())
        .isEqualTo(1);
  }

  @Test
  void aTakeoverOfAnExpiredLeaseIsCountedOnceAndAPlainExecutionIsNot() {
    TestClock clock = new TestClock();
    IdempotencyStore store = InMemoryIdempotencyStore.builder().clock(clock).build();
    Once once =
        Once.builder(store)
            .lease(Duration.ofMinutes(1))
            .retention(Duration.ofHours(1))
            .listener(listener)
            .build();

    once.execute(
        IdempotencyKey.of(SCOPE, "plain"), Fingerprint.of("a"), ResultCodec.utf8(), () -> "paid");
    assertThat(takeovers(store)).as("takeovers after a plain execution").isZero();

    // The first worker's lease runs out while its action still runs (the store's clock jumps past
    // it; the heartbeat would renew only after 20 real seconds), and a second worker takes the key
    // over.
    assertThatThrownBy(
            () ->
                once.execute(
                    KEY,
                    Fingerprint.of("a"),
                    ResultCodec.utf8(),
                    () -> {
                      clock.advance(Duration.ofMinutes(2));
                      return once.execute(
                              KEY, Fingerprint.of("a"), ResultCodec.utf8(), () -> "taker")
                          .value();
                    }))
        .isInstanceOf(LeaseLostException.class);

    assertThat(takeovers(store)).as("takeovers").isEqualTo(1);
    assertThat(executions("lease_lost")).isEqualTo(1);
    assertThat(claims("acquired")).isEqualTo(3);
  }

  private double takeovers(IdempotencyStore store) {
    return registry
        .find(MicrometerOnceListener.LEASE_TAKEOVERS)
        .tags("operation", SCOPE.operation(), "store", store.name())
        .counters()
        .stream()
        .mapToDouble(c -> c.count())
        .sum();
  }

  @Test
  void failedExecutionsAreCountedAsReleasedOrStored() {
    Once releasing = Once.builder(IdempotencyStore.inMemory()).listener(listener).build();
    assertThatThrownBy(
            () ->
                releasing.execute(
                    KEY,
                    Fingerprint.of("a"),
                    ResultCodec.utf8(),
                    () -> {
                      throw new IllegalStateException("declined");
                    }))
        .isInstanceOf(IllegalStateException.class);
    Once storing =
        Once.builder(IdempotencyStore.inMemory())
            .failurePolicy(FailurePolicy.storeWhen(IllegalStateException.class))
            .listener(listener)
            .build();
    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(
              () ->
                  storing.execute(
                      KEY,
                      Fingerprint.of("a"),
                      ResultCodec.utf8(),
                      () -> {
                        throw new IllegalStateException("declined");
                      }))
          .isInstanceOf(i == 0 ? IllegalStateException.class : ReplayedFailureException.class);
    }

    assertThat(executions("failed")).isEqualTo(1);
    assertThat(executions("failure_stored")).isEqualTo(1);
    assertThat(claims("replayed")).isEqualTo(1);
  }

  @Test
  void storeErrorsRenewalsAndInboxStepsAreCountedWithTheirReason() {
    StoreException unavailable = new StoreUnavailableException("refused", "jdbc", SCOPE, null);
    listener.storeFailed(KEY, "jdbc", unavailable);
    listener.storeFailed(KEY, "jdbc", new StoreException("bad sql", "jdbc", SCOPE, null));
    listener.renewalFailed(KEY, "jdbc", new LeaseLostException(SCOPE, "jdbc", 1, "renew"));
    listener.renewalFailed(KEY, "jdbc", unavailable);
    listener.leaseLost(KEY, "jdbc");
    listener.inboxDuplicates("payments", "orders", "jdbc", 3);
    listener.inboxDuplicates("payments", "orders", "jdbc", 2);
    listener.deadLettered("payments", "orders", OnceListener.DEAD_LETTER_FAILED);

    assertThat(count(MicrometerOnceListener.STORE_ERRORS, "reason", "unavailable")).isEqualTo(1);
    assertThat(count(MicrometerOnceListener.STORE_ERRORS, "reason", "failed")).isEqualTo(1);
    assertThat(count(MicrometerOnceListener.RENEWAL_FAILURES, "reason", "lease_lost")).isEqualTo(1);
    assertThat(count(MicrometerOnceListener.RENEWAL_FAILURES, "reason", "unavailable"))
        .isEqualTo(1);
    assertThat(executions("lease_lost")).isEqualTo(1);
    assertThat(count(MicrometerOnceListener.INBOX_DUPLICATES, "source", "orders")).isEqualTo(5);
    assertThat(count(MicrometerOnceListener.INBOX_DEAD_LETTERED, "reason", "failed")).isEqualTo(1);
  }

  @Test
  void aPurgersDeletionsAndFailuresAreCountedPerPurger() {
    listener.onBatch("jdbc", 1000);
    listener.onBatch("jdbc", 7);
    listener.onPurge("jdbc", 2, 1007);
    listener.onBatch("redis", 3);
    listener.onFailure("redis", new IllegalStateException("down"));

    assertThat(count(MicrometerOnceListener.PURGE_DELETED, "purger", "jdbc")).isEqualTo(1007);
    assertThat(count(MicrometerOnceListener.PURGE_DELETED, "purger", "redis")).isEqualTo(3);
    assertThat(count(MicrometerOnceListener.PURGE_FAILURES, "purger", "redis")).isEqualTo(1);
  }

  /**
   * Every callback of the SPI is called; if the SPI grows a callback, the count check fails until
   * the fixture calls it too, so no meter escapes the tag check.
   */
  @Test
  void noMeterCarriesATagOutsideTheDocumentedSetAndNoneCarriesTheKeyOrTheTenant() {
    MeterFixture.callEveryCallback(listener);
    MeterFixture.callEveryPurgeCallback(listener);
    assertThat(
            Arrays.stream(Purger.Listener.class.getDeclaredMethods())
                .filter(m -> !Modifier.isStatic(m.getModifiers()))
                .count())
        .as("callbacks of Purger.Listener that MeterFixture calls")
        .isEqualTo(MeterFixture.PURGE_CALLBACKS);
    long callbacks =
        Arrays.stream(OnceListener.class.getDeclaredMethods())
            .filter(m -> !Modifier.isStatic(m.getModifiers()))
            .map(MicrometerOnceListenerTest::signature)
            .distinct()
            .count();
    assertThat(callbacks)
        .as("callbacks of OnceListener that MeterFixture calls")
        .isEqualTo(MeterFixture.CALLBACKS);

    Map<String, Set<String>> seen = new HashMap<>();
    for (Meter meter : registry.getMeters()) {
      seen.computeIfAbsent(meter.getId().getName(), n -> new java.util.HashSet<>())
          .addAll(meter.getId().getTags().stream().map(Tag::getKey).toList());
      for (Tag tag : meter.getId().getTags()) {
        assertThat(tag.getValue()).doesNotContain("secret");
      }
    }
    assertThat(seen).isEqualTo(MicrometerOnceListener.METERS);
  }

  /** The table under "## Metrics" in docs/operations.md: each meter once, with exactly its tags. */
  @Test
  void theDocumentedTableIsTheMetersAndTheirTags() throws Exception {
    String doc = Files.readString(Path.of("..", "docs", "operations.md"));
    int start = doc.indexOf("\n## Metrics\n");
    assertThat(start).as("docs/operations.md has a Metrics section").isPositive();
    int end = doc.indexOf("\n## ", start + 1);
    Pattern row =
        Pattern.compile("^\\| `(once\\.[a-z.]+)` \\| [a-z]+ \\| ([^|]*) \\|", Pattern.MULTILINE);
    Matcher m = row.matcher(doc.substring(start, end < 0 ? doc.length() : end));
    Map<String, Set<String>> documented = new HashMap<>();
    while (m.find()) {
      Set<String> tags =
          Arrays.stream(m.group(2).split(","))
              .map(t -> t.strip().replace("`", ""))
              .filter(t -> !t.isEmpty())
              .collect(Collectors.toSet());
      assertThat(documented.put(m.group(1), tags)).as("documented twice: " + m.group(1)).isNull();
    }
    Map<String, Set<String>> registered = new HashMap<>(MicrometerOnceListener.METERS);
    registered.putAll(OutboxBacklogMeters.METERS);
    assertThat(documented).isEqualTo(registered);
  }

  private static String signature(Method m) {
    return m.getName()
        + Arrays.stream(m.getParameterTypes()).map(Class::getName).collect(Collectors.joining(","));
  }

  private double claims(String outcome) {
    return count(MicrometerOnceListener.CLAIMS, "outcome", outcome);
  }

  private double executions(String outcome) {
    return count(MicrometerOnceListener.EXECUTIONS, "outcome", outcome);
  }

  private double count(String name, String tag, String value) {
    return registry.get(name).tag(tag, value).counters().stream().mapToDouble(c -> c.count()).sum();
  }
}
