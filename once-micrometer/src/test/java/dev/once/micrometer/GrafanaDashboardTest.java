package dev.once.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.outbox.Outbox;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;

/**
 * docs/grafana/once-dashboard.json queries only metrics Once registers, under the names Prometheus
 * really gives them: every meter is registered through every callback in a Prometheus registry, the
 * outbox gauges on an H2 outbox table, and the scrape's sample names are the allowed set.
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
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL("jdbc:h2:mem:dashboard-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    Outbox outbox = Outbox.builder().table("orders_outbox").build();
    try (Connection c = h2.getConnection()) {
      outbox.createSchema(c);
    }
    new OutboxBacklogMeters(h2, outbox).bindTo(registry);
    Set<String> registered = new TreeSet<>();
    Matcher sample = SAMPLE.matcher(registry.scrape());
    while (sample.find()) {
      registered.add(sample.group(1));
    }
    assertThat(registered)
        .contains("once_claims_total", "once_store_latency_seconds_bucket", "once_outbox_pending");

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
        .as(
            "the dashboard's duplicate rate, conflicts, store latency p99, store errors and outbox backlog")
        .contains(
            "once_claims_total",
            "once_store_latency_seconds_bucket",
            "once_store_errors_total",
            "once_outbox_pending",
            "once_outbox_oldest_pending_age_seconds");
    assertThat(registered).containsAll(queried);
  }
}
