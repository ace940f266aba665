package dev.once.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/grafana/once-dashboard.json queries only metrics Once registers, under the names Prometheus
 * really gives them: every meter is registered through every callback in a Prometheus registry, and
 * the scrape's sample names are the allowed set.
 */
class GrafanaDashboardTest {

  private static final Pattern EXPR =
      Pattern.compile("\"expr\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
  private static final Pattern METRIC = Pattern.compile("\\bonce_[a-z_]+");
  private static final Pattern SAMPLE = Pattern.compile("^(once_[a-z_]+)[{ ]", Pattern.MULTILINE);

  @Test
  void everyMetricTheDashboardQueriesIsOneOnceRegisters() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MeterFixture.callEveryCallback(MicrometerOnceListener.of(registry));
    Set<String> registered = new TreeSet<>();
    Matcher sample = SAMPLE.matcher(registry.scrape());
    while (sample.find()) {
      registered.add(sample.group(1));
    }
    assertThat(registered).contains("once_claims_total", "once_store_latency_seconds_bucket");

    String dashboard = Files.readString(Path.of("..", "docs", "grafana", "once-dashboard.json"));
    Set<String> queried = new TreeSet<>();
    Matcher expr = EXPR.matcher(dashboard);
    int exprs = 0;
    while (expr.find()) {
      exprs++;
      Matcher metric = METRIC.matcher(expr.group(1));
      while (metric.find()) {
        queried.add(metric.group());
      }
    }
    assertThat(exprs).as("queries in the dashboard").isGreaterThanOrEqualTo(4);
    assertThat(queried)
        .as("the dashboard's duplicate rate, conflicts, store latency p99 and store errors")
        .contains(
            "once_claims_total", "once_store_latency_seconds_bucket", "once_store_errors_total");
    assertThat(registered).containsAll(queried);
  }
}
