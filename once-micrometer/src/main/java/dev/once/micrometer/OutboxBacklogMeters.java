package dev.once.micrometer;

import dev.once.outbox.Outbox;
import dev.once.outbox.OutboxBacklog;
import dev.once.outbox.OutboxRelay;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * An outbox's backlog as gauges, by {@code table}: the pending rows, the parked rows, and the age
 * of the oldest pending row. A growing backlog or an aging oldest row means the relays are down or
 * behind; parked rows wait for an operator ({@link OutboxRelay#retryParked}). The three gauges
 * share one {@link Outbox#backlog} query, read at most once a second however often they are
 * scraped; while the database cannot answer they read {@code NaN}. They need no relay in this
 * application.
 *
 * <pre>{@code
 * new OutboxBacklogMeters(dataSource, outbox).bindTo(meterRegistry);
 * }</pre>
 */
public final class OutboxBacklogMeters implements MeterBinder {

  /** Gauge: rows waiting to be published, due or backing off, by {@code table}. */
  public static final String PENDING = "once.outbox.pending";

  /** Gauge: rows parked after their last attempt, by {@code table}. */
  public static final String PARKED = "once.outbox.parked";

  /** Time gauge: how long ago the oldest pending row was written (0 if none), by {@code table}. */
  public static final String OLDEST_PENDING_AGE = "once.outbox.oldest.pending.age";

  /** Every meter this binder registers, with its tag keys: rows of the table in operations.md. */
  public static final Map<String, Set<String>> METERS =
      Map.of(
          PENDING, Set.of("table"), PARKED, Set.of("table"), OLDEST_PENDING_AGE, Set.of("table"));

  private static final long REFRESH_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final DataSource dataSource;
  private final Outbox outbox;
  private final Clock clock;
  private final Object lock = new Object();
  private @Nullable OutboxBacklog last; // guarded by lock; null: the last read failed
  private long readAt; // guarded by lock, System.nanoTime() of the last read
  private boolean read; // guarded by lock

  /**
   * Gauges of {@code outbox}'s table.
   *
   * @param dataSource where the table is; one pooled connection per read
   * @param outbox the outbox, for its table and dialect
   */
  public OutboxBacklogMeters(DataSource dataSource, Outbox outbox) {
    this(dataSource, outbox, Clock.systemUTC());
  }

  OutboxBacklogMeters(DataSource dataSource, Outbox outbox, Clock clock) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.outbox = Objects.requireNonNull(outbox, "outbox");
    this.clock = clock;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Tags tags = Tags.of("table", outbox.table());
    gauge(registry, PENDING, "Outbox rows waiting to be published", tags, b -> b.pending());
    gauge(registry, PARKED, "Outbox rows parked after their last attempt", tags, b -> b.parked());
    TimeGauge.builder(
            OLDEST_PENDING_AGE,
            this,
            TimeUnit.MILLISECONDS,
            m -> m.value(b -> oldestAgeMillis(b.oldestPending())))
        .description("How long ago the oldest pending outbox row was written")
        .tags(tags)
        .register(registry);
  }

  private void gauge(
      MeterRegistry registry,
      String name,
      String description,
      Tags tags,
      ToDoubleFunction<OutboxBacklog> of) {
    Gauge.builder(name, this, m -> m.value(of))
        .description(description)
        .tags(tags)
        .register(registry);
  }

  private double oldestAgeMillis(@Nullable Instant oldest) {
    return oldest == null ? 0 : Math.max(0, Duration.between(oldest, clock.instant()).toMillis());
  }

  private double value(ToDoubleFunction<OutboxBacklog> of) {
    OutboxBacklog backlog = backlog();
    return backlog == null ? Double.NaN : of.applyAsDouble(backlog);
  }

  private @Nullable OutboxBacklog backlog() {
    synchronized (lock) {
      long now = System.nanoTime();
      if (!read || now - readAt >= REFRESH_NANOS) {
        try (Connection c = dataSource.getConnection()) {
          last = outbox.backlog(c);
        } catch (SQLException | RuntimeException e) {
          last = null; // the database did not answer: NaN until it does
        }
        readAt = now;
        read = true;
      }
      return last;
    }
  }
}
