package dev.once.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.StoreException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Helpers shared by the contract suites. Not API. */
final class ContractSupport {

  /** The lease of most claims in the suites. */
  static final Duration LEASE = Duration.ofSeconds(10);

  /** A lease that outlives every test that does not move the clock by hours. */
  static final Duration LONG_LEASE = Duration.ofHours(1);

  /** The retention of most claims and completions in the suites. */
  static final Duration RETENTION = Duration.ofHours(1);

  static final Fingerprint FP_A = Fingerprint.of("contract request A");
  static final Fingerprint FP_B = Fingerprint.of("contract request B");

  private ContractSupport() {}

  /** A scope no other test (in this run or an earlier one against the same table) has used. */
  static Scope newScope() {
    return Scope.of("t-" + UUID.randomUUID(), "contract");
  }

  static IdempotencyKey key(Scope scope, String value) {
    return IdempotencyKey.of(scope, value);
  }

  static ClaimRequest request(IdempotencyKey key, Fingerprint fingerprint) {
    return new ClaimRequest(key, fingerprint, LEASE, RETENTION);
  }

  static ClaimRequest request(IdempotencyKey key, Fingerprint fingerprint, Duration lease) {
    return new ClaimRequest(key, fingerprint, lease, RETENTION);
  }

  /** An outcome that says which record it belongs to, with attributes in a non-sorted order. */
  static Outcome outcome(String label) {
    return Outcome.builder()
        .contentType("application/json")
        .attribute("status", "201")
        .attribute("location", "/things/" + label)
        .attribute("etag", "\"" + label.hashCode() + "\"")
        .body("{\"label\":\"" + label + "\"}")
        .build();
  }

  /** Asserts {@code result} is {@link ClaimResult.Acquired} and returns it. */
  static ClaimResult.Acquired acquired(ClaimResult result) {
    assertThat(result).as("claim answer").isInstanceOf(ClaimResult.Acquired.class);
    return (ClaimResult.Acquired) result;
  }

  /**
   * Asserts that {@code result} replays {@code expected}: same content type, same attributes in the
   * same order, same body bytes.
   */
  static void assertReplays(ClaimResult result, Outcome expected) {
    assertThat(result).as("claim answer").isInstanceOf(ClaimResult.Completed.class);
    assertSameOutcome(((ClaimResult.Completed) result).outcome(), expected);
  }

  static void assertSameOutcome(Outcome actual, Outcome expected) {
    assertThat(actual.contentType()).as("content type").isEqualTo(expected.contentType());
    assertThat(new ArrayList<>(actual.attributes().entrySet()))
        .as("attributes, in order")
        .containsExactlyElementsOf(
            new ArrayList<Map.Entry<String, String>>(expected.attributes().entrySet()));
    assertThat(actual.bodyLength()).as("body length").isEqualTo(expected.bodyLength());
    assertThat(actual.body()).as("body bytes").isEqualTo(expected.body());
  }

  static void assertInProgress(ClaimResult result, Duration lease) {
    assertThat(result).as("claim answer").isInstanceOf(ClaimResult.InProgress.class);
    Duration retryAfter = ((ClaimResult.InProgress) result).retryAfter();
    assertThat(retryAfter).as("retryAfter").isPositive().isLessThanOrEqualTo(lease);
  }

  static <T> List<T> concat(List<T> first, List<T> second) {
    List<T> all = new ArrayList<>(first);
    all.addAll(second);
    return all;
  }

  /**
   * Waits until {@code store} serves claims again after an outage; each probe uses a fresh key, so
   * a probe that half-worked is harmless.
   */
  static void awaitClaimsServed(
      IdempotencyStore store, Scope scope, AtomicInteger probes, Duration atMost) {
    org.awaitility.Awaitility.await(
            "the store serves claims again after the connection was restored")
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptionsInstanceOf(StoreException.class)
        .until(
            () ->
                store.claim(request(key(scope, "probe-" + probes.incrementAndGet()), FP_A))
                    instanceof ClaimResult.Acquired);
  }

  static void shutdown(ExecutorService executor) {
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
        throw new AssertionError("contract worker threads did not stop within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
