package dev.once.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.outbox.Outbox;
import dev.once.outbox.OutboxRelay;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;

/** The backlog gauges on a real (embedded H2) outbox table. */
class OutboxBacklogMetersTest {

  private final JdbcDataSource dataSource = new JdbcDataSource();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  OutboxBacklogMetersTest() {
    dataSource.setURL("jdbc:h2:mem:backlog-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
  }

  @Test
  void pendingParkedAndTheOldestPendingAgeAreReadFromTheTable() throws Exception {
    Outbox outbox = Outbox.builder().table("orders_outbox").build();
    try (Connection c = dataSource.getConnection()) {
      outbox.createSchema(c);
    }
    UUID refused = write(outbox, "a");
    write(outbox, "b");
    OutboxRelay relay =
        OutboxRelay.builder(
                dataSource,
                messages -> {
                  Map<UUID, Exception> refusals = new HashMap<>();
                  messages.stream()
                      .filter(m -> m.id().equals(refused))
                      .forEach(m -> refusals.put(m.id(), new IllegalStateException("no")));
                  return refusals;
                })
            .table("orders_outbox")
            .maxAttempts(1)
            .build();
    relay.relayOnce();
    write(outbox, "c");
    write(outbox, "d");
    // The gauges' clock an hour after the writes: the oldest pending row is an hour old.
    new OutboxBacklogMeters(
            dataSource, outbox, Clock.offset(Clock.systemUTC(), Duration.ofHours(1)))
        .bindTo(registry);

    assertThat(gauge(OutboxBacklogMeters.PENDING)).isEqualTo(2);
    assertThat(gauge(OutboxBacklogMeters.PARKED)).isEqualTo(1);
    assertThat(
            registry
                .get(OutboxBacklogMeters.OLDEST_PENDING_AGE)
                .tag("table", "orders_outbox")
                .timeGauge()
                .value(TimeUnit.SECONDS))
        .isBetween(3590.0, 3610.0);
    Map<String, Set<String>> seen = new HashMap<>();
    for (Meter meter : registry.getMeters()) {
      seen.computeIfAbsent(meter.getId().getName(), n -> new HashSet<>())
          .addAll(meter.getId().getTags().stream().map(Tag::getKey).toList());
    }
    assertThat(seen).isEqualTo(OutboxBacklogMeters.METERS);
  }

  @Test
  void aDatabaseThatDoesNotAnswerReadsNaN() {
    JdbcDataSource missing = new JdbcDataSource();
    missing.setURL("jdbc:h2:mem:missing-" + UUID.randomUUID() + ";IFEXISTS=TRUE");
    new OutboxBacklogMeters(missing, Outbox.builder().build()).bindTo(registry);

    assertThat(gauge(OutboxBacklogMeters.PENDING)).isNaN();
    assertThat(gauge(OutboxBacklogMeters.PARKED)).isNaN();
  }

  private double gauge(String name) {
    return registry.get(name).gauge().value();
  }

  private UUID write(Outbox outbox, String key) throws Exception {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      UUID id = outbox.enqueue(c, "orders", key, key.getBytes(StandardCharsets.UTF_8));
      c.commit();
      return id;
    }
  }
}
