package dev.once.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.InMemoryIdempotencyStore;
import dev.once.Outcome;
import dev.once.Purger;
import dev.once.Scope;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;

/** What the HTTP test does not reach: shown outcomes, the store choice, bad requests. */
class OnceEndpointTest {

  private final InMemoryIdempotencyStore first =
      InMemoryIdempotencyStore.builder().name("first").build();
  private final InMemoryIdempotencyStore second =
      InMemoryIdempotencyStore.builder().name("second").build();
  private final IdempotencyKey key = IdempotencyKey.of(Scope.global("charge"), "k-1");

  private void complete(InMemoryIdempotencyStore store, String body) {
    long token =
        ((ClaimResult.Acquired)
                store.claim(
                    new ClaimRequest(
                        key, Fingerprint.empty(), Duration.ofMinutes(1), Duration.ofHours(1))))
            .token();
    store.complete(
        key,
        token,
        Outcome.of("text/plain", body.getBytes(StandardCharsets.UTF_8)),
        Duration.ofHours(1));
  }

  @Test
  void theBodyIsShownOnlyWhenConfigured() {
    complete(first, "secret");
    Map<String, Object> hidden =
        new OnceEndpoint(List.of(first), null, false).read("charge", "k-1", null, null);
    assertThat(hidden.get("outcome"))
        .isEqualTo(Map.of("contentType", "text/plain", "bodyLength", 6));

    Map<String, Object> shown =
        new OnceEndpoint(List.of(first), null, true).read("charge", "k-1", "", null);
    assertThat(shown.get("outcome").toString())
        .contains(
            "bodyBase64="
                + Base64.getEncoder().encodeToString("secret".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void aStoreIsChosenByNameAndAnUnknownNameIsRefusedListingTheStores() {
    complete(second, "in the second store");
    OnceEndpoint endpoint = new OnceEndpoint(List.of(first, second), null, false);

    assertThat(endpoint.read("charge", "k-1", null, null)).containsEntry("found", false);
    assertThat(endpoint.read("charge", "k-1", null, "second")).containsEntry("found", true);
    assertThatThrownBy(() -> endpoint.read("charge", "k-1", null, "third"))
        .isInstanceOf(InvalidEndpointRequestException.class)
        .hasMessage("no store named 'third'; the stores are [first, second]");
  }

  @Test
  void badRequestsAreRefusedWithoutTheKey() {
    OnceEndpoint endpoint = new OnceEndpoint(List.of(first), null, false);
    assertThatThrownBy(() -> endpoint.read(null, "k-1", null, null))
        .isInstanceOf(InvalidEndpointRequestException.class)
        .hasMessage("both operation and key are needed to find a key");
    assertThatThrownBy(() -> endpoint.release("charge", "x".repeat(300) + "-secret", null, null))
        .isInstanceOf(InvalidEndpointRequestException.class)
        .hasMessageStartingWith("not a valid key: ")
        .message()
        .doesNotContain("-secret");
    assertThatThrownBy(endpoint::purge)
        .isInstanceOf(InvalidEndpointRequestException.class)
        .hasMessageContaining("purging is off");
    assertThat(endpoint.actionCounts())
        .isEqualTo(Map.of("summary", 0L, "inspect", 1L, "release", 1L, "purge", 1L));
  }

  @Test
  void theSummaryCountsRecordsAndShowsThePurgers() throws Exception {
    complete(first, "done");
    OncePurgers purgers =
        new OncePurgers(() -> List.of(Purger.builder(first).interval(Duration.ofHours(1)).build()));
    purgers.start();
    try {
      Map<String, Object> summary =
          new OnceEndpoint(List.of(first), purgers, false).read(null, null, null, null);
      assertThat(summary.get("records"))
          .isEqualTo(Map.of("first", Map.of("inProgress", 0L, "completed", 1L, "expired", 0L)));
      assertThat(summary.get("purgers").toString()).startsWith("{first={purges=");
    } finally {
      purgers.stop();
    }
  }
}
