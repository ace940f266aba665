package dev.once.drill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DrillBuilderTest {
  private static final URI TARGET = URI.create("http://127.0.0.1:8080");
  private static final List<DrillRequest> ONE = DrillInputs.paymentsScenario(1, "t");

  @Test
  void refusesATargetThatIsNotAnHttpOrigin() {
    assertThatThrownBy(() -> Drill.builder(URI.create("ftp://host/x"), ONE))
        .isInstanceOf(DrillInputException.class)
        .hasMessage(
            "--target must be an http:// or https:// URL with a host, but was 'ftp://host/x'");
    assertThatThrownBy(() -> Drill.builder(URI.create("/payments"), ONE))
        .isInstanceOf(DrillInputException.class);
  }

  @Test
  void refusesNoRequestsAndMoreThanTheBound() {
    assertThatThrownBy(() -> Drill.builder(TARGET, List.of()))
        .isInstanceOf(DrillInputException.class)
        .hasMessage("no requests to drill with");
    Drill.Builder b = Drill.builder(TARGET, DrillInputs.paymentsScenario(3, "t")).maxRequests(2);
    assertThatThrownBy(b::build)
        .isInstanceOf(DrillInputException.class)
        .hasMessage(
            "3 requests, more than the bound of 2: raise --max-requests or drill with fewer");
  }

  @Test
  void refusesBadValuesWithTheValueInTheMessage() {
    Drill.Builder b = Drill.builder(TARGET, ONE);
    assertThatThrownBy(() -> b.fraction(Injection.DUPLICATE, 1.5))
        .hasMessage("fraction of DUPLICATE must be in [0, 1], but was 1.5");
    assertThatThrownBy(() -> b.fraction(Injection.BURST, Double.NaN))
        .hasMessage("fraction of BURST must be in [0, 1], but was NaN");
    assertThatThrownBy(() -> b.concurrency(1))
        .hasMessage("concurrency must be in [2, 64], but was 1");
    assertThatThrownBy(() -> b.slowRetries(2, Duration.ZERO))
        .hasMessage("slow retry window must be positive, but was PT0S");
    assertThatThrownBy(() -> b.maxDuration(Duration.ofSeconds(-1)))
        .hasMessage("max duration must be positive, but was PT-1S");
    assertThatThrownBy(() -> b.keyHeader("Idempotency Key"))
        .hasMessage("keyHeader must be a header name, but was 'Idempotency Key'");
    assertThatThrownBy(() -> b.inFlightStatuses(Set.of(42)))
        .hasMessage("in-flight statuses must be HTTP statuses (100 to 599), but were [42]");
    assertThatThrownBy(() -> b.runId("a b")).hasMessageContaining("'a b'");
    assertThatThrownBy(() -> b.maxReplaySlowdown(0))
        .hasMessage("max replay slowdown must be positive, but was 0.0");
  }

  @Test
  void anOracleQueryNeedsAKnownPlaceholder() {
    assertThatThrownBy(() -> Oracle.jdbc("jdbc:h2:mem:x", null, null, "select count(*) from t"))
        .isInstanceOf(DrillInputException.class)
        .hasMessageStartingWith("oracle SQL: no placeholder");
    assertThatThrownBy(() -> Oracle.jdbc("jdbc:h2:mem:x", null, null, "select {id}"))
        .isInstanceOf(DrillInputException.class)
        .hasMessageStartingWith("oracle SQL: unknown placeholder {id}");
    assertThatThrownBy(() -> Oracle.jdbc("h2:mem:x", null, null, "select {key}"))
        .isInstanceOf(DrillInputException.class)
        .hasMessage("oracle: a JDBC URL starts with 'jdbc:', but was 'h2:mem:x'");
    assertThat(Oracle.jdbc("jdbc:h2:mem:x;USER=a?x=1", null, null, "select {key}").describe())
        .isEqualTo("SQL on jdbc:h2:mem:x;USER=a: select ?");
  }

  @Test
  void anHttpOracleStaysOnTheTarget() {
    assertThatThrownBy(() -> Oracle.http(TARGET, "http://elsewhere:8080/count?key={key}"))
        .isInstanceOf(DrillInputException.class)
        .hasMessage(
            "oracle URL 'http://elsewhere:8080/count?key={key}' is not on the target "
                + "http://127.0.0.1:8080: refused");
    assertThat(Oracle.http(TARGET, "http://127.0.0.1:8080/count?key={key}").describe())
        .isEqualTo("GET http://127.0.0.1:8080/count?key={key}");
  }
}
