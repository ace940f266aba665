package dev.once.drill;

import dev.once.drill.internal.HtmlReport;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * A drill's verdict: one {@link Check} per property, and every attempt it made.
 *
 * @param target where the drill sent its requests
 * @param runId the tag of this run's generated keys
 * @param seed the seed that chose which requests got which injection
 * @param requests how many logical requests the drill had
 * @param oracle the oracle's description, or null without one
 * @param startedAt when the drill started
 * @param elapsed how long it ran
 * @param checks the verdict, one line per check
 * @param attempts every request sent, in the order they were sent
 */
public record DrillReport(
    String target,
    String runId,
    long seed,
    int requests,
    @Nullable String oracle,
    Instant startedAt,
    Duration elapsed,
    List<Check> checks,
    List<Attempt> attempts) {

  private static final JsonMapper JSON =
      JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

  /**
   * Copies the lists.
   *
   * @param target where the drill sent its requests
   * @param runId the tag of this run's generated keys
   * @param seed the seed that chose which requests got which injection
   * @param requests how many logical requests the drill had
   * @param oracle the oracle's description, or null without one
   * @param startedAt when the drill started
   * @param elapsed how long it ran
   * @param checks the verdict, one line per check
   * @param attempts every request sent, in the order they were sent
   */
  public DrillReport {
    checks = List.copyOf(checks);
    attempts = List.copyOf(attempts);
  }

  /** {@return whether no check failed} */
  public boolean passed() {
    return checks.stream().noneMatch(c -> c.status() == Check.Status.FAIL);
  }

  /**
   * {@return the check named {@code id}, such as {@code replays-identical}}
   *
   * @param id the check's id
   */
  public Optional<Check> check(String id) {
    return checks.stream().filter(c -> c.id().equals(id)).findFirst();
  }

  /** {@return the ids of the failed checks} */
  public List<String> failedChecks() {
    return checks.stream().filter(c -> c.status() == Check.Status.FAIL).map(Check::id).toList();
  }

  /** {@return the verdict as a text table, one line per check, and the overall result} */
  public String table() {
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "Drill of %s: %d requests, %d sent, %.1f s (run %s, seed %d)%n",
            target,
            requests,
            attempts.size(),
            elapsed.toMillis() / 1000.0,
            runId,
            seed));
    sb.append(
        String.format(
            Locale.ROOT,
            "%-48s %-7s %6s %6s  %s%n",
            "check",
            "result",
            "passed",
            "failed",
            "detail"));
    for (Check c : checks) {
      sb.append(
          String.format(
              Locale.ROOT,
              "%-48s %-7s %6d %6d  %s%n",
              c.title(),
              c.status(),
              c.passed(),
              c.failed(),
              c.detail()));
    }
    sb.append(passed() ? "PASS" : "FAIL: " + String.join(", ", failedChecks())).append('\n');
    return sb.toString();
  }

  /** {@return the report as JSON: the run, the checks and every attempt} */
  public String json() {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("target", target);
    root.put("runId", runId);
    root.put("seed", seed);
    root.put("requests", requests);
    root.put("oracle", oracle);
    root.put("startedAt", startedAt.toString());
    root.put("elapsedMillis", elapsed.toMillis());
    root.put("passed", passed());
    root.put("checks", checks);
    root.put("attempts", attempts);
    return JSON.writeValueAsString(root);
  }

  /** {@return the report as one self-contained HTML page (inline style and SVG chart)} */
  public String html() {
    return HtmlReport.render(this);
  }
}
