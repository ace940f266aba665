package dev.once.benchmarks;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Completion;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.Outcome;
import dev.once.Purger;
import dev.once.Scope;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.TableLayout;
import dev.once.testkit.servers.TestServers;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The plain records table against the {@link TableLayout#PARTITIONED partitioned} one on
 * PostgreSQL, under write load: a simulated day of traffic after another (the store's clock moves a
 * day ahead each time, records are kept one day), and each day a {@link Purger} purges what expired
 * while {@code threads} threads keep claiming fresh keys. It reports the claims per second during
 * the purge's window, how long the purge took, and the size of the table with its indexes (every
 * partition) after the last day, each layout over the other. Partitions are a day wide, so the
 * partitioned table keeps each record until the UTC day of its expiry has passed: up to a day
 * longer than the plain one, which the size reflects.
 */
final class PurgeBench {

  /**
   * One run.
   *
   * @param days simulated days, at least 3; the purge is measured from the third on
   * @param recordsPerDay records written (claimed and completed, in batches) each day
   * @param threads threads claiming during each purge
   * @param window how long the claimers run from the start of each purge
   */
  record Config(int days, int recordsPerDay, int threads, Duration window) {
    static Config fullRun() {
      return new Config(6, 20_000, 2, Duration.ofSeconds(3));
    }

    static Config quickRun() {
      return new Config(4, 5_000, 2, Duration.ofSeconds(1));
    }
  }

  /**
   * What one layout showed.
   *
   * @param claimsPerSecond claims per second during each measured purge window, one per day
   * @param purgeMillis how long each day's purges took, until one removed something
   * @param purged records each measured purge removed
   * @param attempts purges it took each day until one removed something
   * @param bytes table and index size, every partition, after the last day's purge
   */
  record Measured(
      TableLayout layout,
      double[] claimsPerSecond,
      long[] purgeMillis,
      long[] purged,
      long[] attempts,
      long bytes) {

    long maxAttempts() {
      return Arrays.stream(attempts).max().orElse(0);
    }

    double medianClaimsPerSecond() {
      double[] sorted = claimsPerSecond.clone();
      Arrays.sort(sorted);
      return sorted[sorted.length / 2];
    }

    long medianPurgeMillis() {
      long[] sorted = purgeMillis.clone();
      Arrays.sort(sorted);
      return sorted[sorted.length / 2];
    }
  }

  /** Both layouts, measured in the same run. */
  record Result(Config config, Measured plain, Measured partitioned) {

    /** {@return the plain-text report, ratios partitioned ÷ plain} */
    String report() {
      return String.format(
          Locale.ROOT,
          "purge under write load, PostgreSQL, %d days of %,d records (kept 1 day), %d claiming threads,"
              + " %d ms window per purge%n"
              + "  plain:       %,.0f claims/s while purging (median), purge %d ms, %,d bytes after,"
              + " at most %d purges a day%n"
              + "  partitioned: %,.0f claims/s while purging (median), purge %d ms, %,d bytes after,"
              + " at most %d purges a day%n"
              + "  partitioned / plain: claims/s x%.2f, purge time x%.3f, table+index size x%.2f%n",
          config.days(),
          config.recordsPerDay(),
          config.threads(),
          config.window().toMillis(),
          plain.medianClaimsPerSecond(),
          plain.medianPurgeMillis(),
          plain.bytes(),
          plain.maxAttempts(),
          partitioned.medianClaimsPerSecond(),
          partitioned.medianPurgeMillis(),
          partitioned.bytes(),
          partitioned.maxAttempts(),
          partitioned.medianClaimsPerSecond() / plain.medianClaimsPerSecond(),
          (double) Math.max(1, partitioned.medianPurgeMillis())
              / Math.max(1, plain.medianPurgeMillis()),
          (double) partitioned.bytes() / plain.bytes());
    }
  }

  private static final Duration DAY = Duration.ofDays(1);
  private static final int MAX_PURGE_ATTEMPTS = 100;
  private static final Outcome OUTCOME =
      Outcome.of("application/json", "{\"status\":\"ok\"}".getBytes(StandardCharsets.UTF_8));

  private PurgeBench() {}

  static Result run(Config config)
      throws ExecutionException, InterruptedException, SQLException, TimeoutException {
    try (PostgresTarget pg = PostgresTarget.open(TestServers.postgres(), config.threads() + 3)) {
      Measured plain = measure(config, pg, TableLayout.PLAIN);
      Measured partitioned = measure(config, pg, TableLayout.PARTITIONED);
      return new Result(config, plain, partitioned);
    }
  }

  private static Measured measure(Config config, PostgresTarget pg, TableLayout layout)
      throws ExecutionException, InterruptedException, SQLException, TimeoutException {
    String table = "once_purge_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    AtomicLong offsetMs = new AtomicLong();
    JdbcIdempotencyStore store =
        JdbcIdempotencyStore.builder(pg.dataSource())
            .table(table)
            .layout(layout)
            .partitionWidth(DAY)
            .partitionsAhead(DAY.multipliedBy(3))
            .clockOffset(() -> Duration.ofMillis(offsetMs.get()))
            .createSchema(true)
            .build();
    if (config.days() < 3) {
      throw new IllegalArgumentException("days must be at least 3, but was " + config.days());
    }
    // From the third day on: a day-wide partition holds a whole UTC day of expiries, so the first
    // one the partitioned layout may drop is the one that ends after day 1's records expire.
    int measuredDays = config.days() - 2;
    double[] rates = new double[measuredDays];
    long[] purgeMillis = new long[measuredDays];
    long[] purged = new long[measuredDays];
    long[] attempts = new long[measuredDays];
    ExecutorService threads = Executors.newFixedThreadPool(config.threads() + 1);
    try {
      for (int day = 0; day < config.days(); day++) {
        offsetMs.set(DAY.multipliedBy(day).toMillis());
        writeDay(store, config.recordsPerDay());
        if (day < 2) {
          continue;
        }
        Purger purger = Purger.builder(store).build();
        long start = System.nanoTime();
        Future<long[]> purge =
            threads.submit(
                () -> {
                  // A drop that could not have the table's lock within partitionLockWait removes
                  // nothing and is left to the next purge: purge again at once, as a purger that
                  // runs more often would, and count the attempts.
                  int removed = 0;
                  int tries = 0;
                  while (removed == 0 && tries < MAX_PURGE_ATTEMPTS) {
                    removed = purger.purgeOnce();
                    tries++;
                  }
                  return new long[] {removed, System.nanoTime() - start, tries};
                });
        List<Future<Long>> claimers = new ArrayList<>();
        long deadline = start + config.window().toNanos();
        for (int t = 0; t < config.threads(); t++) {
          claimers.add(threads.submit(() -> claimUntil(store, deadline)));
        }
        long claims = 0;
        for (Future<Long> f : claimers) {
          claims += f.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long[] p = purge.get(10, TimeUnit.MINUTES);
        rates[day - 2] = claims / seconds;
        purged[day - 2] = p[0];
        purgeMillis[day - 2] = TimeUnit.NANOSECONDS.toMillis(p[1]);
        attempts[day - 2] = p[2];
        if (p[0] == 0) {
          throw new IllegalStateException(
              layout
                  + ": "
                  + MAX_PURGE_ATTEMPTS
                  + " purges of day "
                  + day
                  + " removed nothing; the run measures nothing");
        }
      }
      return new Measured(layout, rates, purgeMillis, purged, attempts, totalBytes(pg, table));
    } finally {
      threads.shutdownNow();
      drop(pg, table);
    }
  }

  /** Claims and completes a day's records, in batches of 1000, each kept one day. */
  private static void writeDay(JdbcIdempotencyStore store, int records) {
    Scope scope = Scope.of("bench", "purge-" + UUID.randomUUID());
    for (int done = 0; done < records; done += 1000) {
      List<ClaimRequest> batch = new ArrayList<>();
      for (int i = done; i < Math.min(records, done + 1000); i++) {
        batch.add(
            new ClaimRequest(
                IdempotencyKey.of(scope, "k" + i),
                Fingerprint.empty(),
                Duration.ofSeconds(30),
                DAY));
      }
      List<ClaimResult> results = store.claimAll(batch);
      List<Completion> completions = new ArrayList<>();
      for (int i = 0; i < batch.size(); i++) {
        if (!(results.get(i) instanceof ClaimResult.Acquired a)) {
          throw new IllegalStateException("a fresh key was not acquired: " + results.get(i));
        }
        completions.add(new Completion(batch.get(i).key(), a.token(), OUTCOME, DAY));
      }
      store.completeAll(completions);
    }
  }

  /** Claims fresh keys one by one until {@code deadline}; answers how many it claimed. */
  private static long claimUntil(JdbcIdempotencyStore store, long deadline) {
    Scope scope = Scope.of("bench", "live-" + UUID.randomUUID());
    long n = 0;
    while (System.nanoTime() < deadline) {
      ClaimResult r =
          store.claim(
              new ClaimRequest(
                  IdempotencyKey.of(scope, "k" + n),
                  Fingerprint.empty(),
                  Duration.ofSeconds(30),
                  DAY));
      if (!(r instanceof ClaimResult.Acquired)) {
        throw new IllegalStateException("a fresh key was not acquired: " + r);
      }
      n++;
    }
    return n;
  }

  private static long totalBytes(PostgresTarget pg, String table) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                // pg_partition_tree has no rows for a table that is not partitioned.
                "SELECT coalesce((SELECT sum(pg_total_relation_size(relid))"
                    + " FROM pg_partition_tree(?::regclass)), pg_total_relation_size(?::regclass))")) {
      ps.setString(1, table);
      ps.setString(2, table);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static void drop(PostgresTarget pg, String table) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + table);
      s.execute("DROP SEQUENCE IF EXISTS " + table + "_token_seq");
      s.execute("DROP FUNCTION IF EXISTS " + table + "_claim");
      s.execute("DROP FUNCTION IF EXISTS " + table + "_add_partitions");
      s.execute("DROP FUNCTION IF EXISTS " + table + "_drop_expired");
    }
  }
}
