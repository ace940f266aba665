package dev.once.benchmarks;

import dev.once.benchmarks.OutboxBench.Latency;
import dev.once.benchmarks.OutboxBench.RelayKind;
import dev.once.benchmarks.OutboxBench.Rep;
import dev.once.benchmarks.OutboxBench.WriteKind;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders docs/benchmarks-outbox.md from an {@link OutboxBench.Result}; every number in it comes
 * from the run.
 */
final class OutboxReport {

  static final double TARGET_WRITE = 0.8;
  static final double TARGET_RELAY = 0.5;
  static final long TARGET_P99_NANOS = 50_000_000L;

  private final OutboxBench.Result run;
  private final String thisRun;
  private final StringBuilder md = new StringBuilder();

  private OutboxReport(OutboxBench.Result run, String thisRun) {
    this.run = run;
    this.thisRun = thisRun;
  }

  static String render(OutboxBench.Result run, String thisRun) {
    return new OutboxReport(run, thisRun).render();
  }

  private String render() {
    OutboxBench.Config c = run.config;
    line("# Benchmarks: the outbox");
    line();
    line(
        "_Written by `once-benchmarks --only outbox` from its own measurements; do not edit by hand."
            + " Every figure is a ratio against a baseline measured in the same run, interleaved by"
            + " round; median with (min–max). Store-level figures: [benchmarks.md](benchmarks.md);"
            + " the Kafka inbox: [benchmarks-kafka.md](benchmarks-kafka.md)._");
    if (c.quick()) {
      line();
      line("**This is a `--quick` run: too short to quote.**");
    }
    line();
    line("- Command: `" + OutboxBench.COMMAND + "`");
    line(Report.thisRunLine(thisRun, run.started, run.elapsedNanos));
    line(
        "- Load average before: "
            + run.loadBefore
            + "; after: "
            + run.loadAfter
            + ". The machine is shared with other work; the baselines ran in the same rounds, so"
            + " the ratios are fairer than the absolute rates.");
    line();
    line("## Machine");
    line();
    for (Map.Entry<String, String> e : Benchmarks.machine().entrySet()) {
      line("- " + e.getKey() + ": " + e.getValue());
    }
    for (Map.Entry<String, String> e : run.facts.entrySet()) {
      line("- " + e.getKey() + ": " + e.getValue());
    }
    line();
    writePath(c);
    relay(c);
    latency(c);
    return md.toString();
  }

  private void writePath(OutboxBench.Config c) {
    line("## 1. Write path");
    line();
    line(
        String.format(
            Locale.ROOT,
            "%d threads, each committing %,d transactions per run, one pooled connection (HikariCP)"
                + " borrowed per transaction. A transaction inserts one order row into `%s`"
                + " (bigint primary key and three columns); the outbox variants also call"
                + " `Outbox.enqueue(connection, \"orders\", customer, ~90-byte JSON)` on the same"
                + " connection before the commit. Both tables are emptied before each run. One"
                + " unmeasured warm-up round, then %d measured rounds, each running every"
                + " variant back to back; after every run the row counts are checked.",
            c.threads(),
            c.txPerThread(),
            OutboxBench.ORDERS,
            c.rounds()));
    line();
    line("| variant | transactions/s |");
    line("|---|---:|");
    for (WriteKind k : WriteKind.values()) {
      line("| " + k.label + " | " + spread(run.writes, k.name()) + " |");
    }
    line();
    line("| ratio (paired by round) | median (min–max) | target | met |");
    line("|---|---:|---:|---|");
    ratioRow(
        "transactions/s, outbox (notify on, at most every 10 ms, the default) ÷ plain",
        run.ratio(run.writes, WriteKind.OUTBOX_NOTIFY.name(), WriteKind.PLAIN.name()),
        TARGET_WRITE);
    ratioRow(
        "transactions/s, outbox (notify on every write) ÷ plain",
        run.ratio(run.writes, WriteKind.OUTBOX_NOTIFY_EVERY.name(), WriteKind.PLAIN.name()),
        TARGET_WRITE);
    ratioRow(
        "transactions/s, outbox (notify off) ÷ plain",
        run.ratio(run.writes, WriteKind.OUTBOX_QUIET.name(), WriteKind.PLAIN.name()),
        TARGET_WRITE);
    line();
  }

  private void relay(OutboxBench.Config c) {
    line("## 2. Relay throughput to Kafka");
    line();
    line(
        String.format(
            Locale.ROOT,
            "Per run a fresh topic of 4 partitions and %,d messages (1,000 keys, ~90-byte JSON)."
                + " Every variant first fills the outbox table with them (1,000 rows per transaction,"
                + " then `VACUUM ANALYZE`), so they start alike; the fill is not timed. **Relay**: one"
                + " `OutboxRelay` (default `batchSize` 100) with one `KafkaOutboxPublisher` (producer"
                + " defaults plus `enable.idempotence=true`, `acks=all`), `relayOnce()` in a loop on"
                + " one thread until a round claims nothing; every row is then checked `S`."
                + " **Raw**: one `KafkaProducer` with `enable.idempotence=true`, `acks=all`, sends the"
                + " same keys, payloads and `message-id` headers from memory, then waits for every"
                + " acknowledgement. Both producers are created once and reused across rounds."
                + " **Retention 0** deletes each row in the round that publishes it instead of"
                + " marking it `S`. **The database's part** runs the same relay with a publisher"
                + " that acknowledges every message at once, no broker: the claim, the order check,"
                + " the marking and the commit alone, the relay's ceiling on this database. One"
                + " warm-up round, then %d measured rounds, each running every variant.",
            c.relayMessages(),
            c.rounds()));
    line();
    line("| variant | messages/s |");
    line("|---|---:|");
    for (RelayKind k : RelayKind.values()) {
      line("| " + k.label + " | " + spread(run.relays, k.name()) + " |");
    }
    line();
    line("| ratio (paired by round) | median (min–max) | target | met |");
    line("|---|---:|---:|---|");
    ratioRow(
        "messages/s, relay (batchSize 100) ÷ raw producer",
        run.ratio(run.relays, RelayKind.RELAY.name(), RelayKind.RAW.name()),
        TARGET_RELAY);
    ratioRow(
        "messages/s, relay (batchSize 1000) ÷ raw producer",
        run.ratio(run.relays, RelayKind.RELAY_1000.name(), RelayKind.RAW.name()),
        TARGET_RELAY);
    ratioRow(
        "messages/s, relay (batchSize 1000, retention 0) ÷ raw producer",
        run.ratio(run.relays, RelayKind.RELAY_1000_DELETE.name(), RelayKind.RAW.name()),
        TARGET_RELAY);
    ratioRow(
        "messages/s, the database's part alone (batchSize 1000) ÷ raw producer",
        run.ratio(run.relays, RelayKind.DATABASE_CEILING.name(), RelayKind.RAW.name()),
        Double.NaN);
    ratioRow(
        "messages/s, relay (batchSize 1000) ÷ the database's part alone",
        run.ratio(run.relays, RelayKind.RELAY_1000.name(), RelayKind.DATABASE_CEILING.name()),
        Double.NaN);
    line();
  }

  private void latency(OutboxBench.Config c) {
    line("## 3. Commit-to-publish latency");
    line();
    line(
        String.format(
            Locale.ROOT,
            "%d paced writer threads write for about %s s at the rate below (a share of the"
                + " pipeline's maximum, the lower of the default relay's median rate from part 2"
                + " and the writers' median rate with the outbox, notify on, from part 1: half, as"
                + " the target asks, and a light load), each transaction one order row plus one"
                + " `Outbox.enqueue` with a header holding `System.nanoTime()` taken just before the"
                + " enqueue, that is before the commit: a time taken after the commit cannot be put"
                + " in the committed row, so each figure also contains the rest of the writer's"
                + " transaction and its commit. The relay runs its own loop (`start()`), one thread."
                + " A plain `KafkaConsumer` in the same JVM (assigned all partitions,"
                + " `fetch.max.wait.ms` = 10) takes `System.nanoTime()` when `poll` hands it the"
                + " record; the difference goes into a histogram (under 1%% error). A writer that"
                + " falls behind its schedule writes at once, so the latency is counted from the"
                + " enqueue, not from when the write was due. Before the clock starts, one unmeasured"
                + " message goes through the whole pipeline (the producer's first metadata and"
                + " producer-id requests, the consumer's first fetch). Every message is checked to"
                + " arrive (distinct ids = written).",
            c.writers(),
            Report.num(c.latencySeconds())));
    line();
    line(
        "| relay wake-up | load (of the maximum) | target rate msg/s | written msg/s | messages | records read | p50 | p99 | max |");
    line("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (Latency l : run.latencies) {
      line(
          "| "
              + l.label()
              + " | "
              + String.format(Locale.ROOT, "%.0f%%", l.load() * 100)
              + " | "
              + Report.num(l.targetRate())
              + " | "
              + Report.num(l.achievedRate())
              + " | "
              + String.format(Locale.ROOT, "%,d", l.written())
              + " | "
              + String.format(Locale.ROOT, "%,d", l.consumed())
              + " | "
              + millis(l.p50())
              + " | "
              + millis(l.p99())
              + " | "
              + millis(l.max())
              + " |");
    }
    line();
    for (Latency l : run.latencies) {
      if (l.achievedRate() < 0.9 * l.targetRate()) {
        line(
            String.format(
                Locale.ROOT,
                "- %s, %.0f%% load: the writers reached %s of the %s msg/s asked for; on this"
                    + " machine the writers, PostgreSQL, the relay, the broker and the consumer"
                    + " share the cores, so this row is a saturated system, not a relay at half"
                    + " its rate.",
                l.listened() ? "LISTEN/NOTIFY" : "Polling",
                l.load() * 100,
                Report.num(l.achievedRate()),
                Report.num(l.targetRate())));
      }
    }
    line();
    line("| check | value | target | met |");
    line("|---|---:|---:|---|");
    for (Latency notify : run.latencies) {
      if (!notify.listened()) {
        continue;
      }
      String load = String.format(Locale.ROOT, "%.0f%% load", notify.load() * 100);
      line(
          "| p99, LISTEN/NOTIFY, "
              + load
              + " | "
              + millis(notify.p99())
              + " | < 50 ms | "
              + (notify.p99() < TARGET_P99_NANOS ? "yes" : "**no**")
              + " |");
      for (Latency poll : run.latencies) {
        if (!poll.listened() && poll.load() == notify.load()) {
          line(
              "| p99, polling ÷ LISTEN/NOTIFY, "
                  + load
                  + " | "
                  + String.format(Locale.ROOT, "%.1f×", (double) poll.p99() / notify.p99())
                  + " | | |");
        }
      }
    }
    line();
  }

  static String millis(long nanos) {
    return nanos < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
  }

  private static String spread(List<Rep> reps, String kind) {
    double[] v =
        reps.stream().filter(r -> r.kind().equals(kind)).mapToDouble(Rep::perSecond).toArray();
    if (v.length == 0) {
      return "n/a";
    }
    double min = java.util.Arrays.stream(v).min().orElse(Double.NaN);
    double max = java.util.Arrays.stream(v).max().orElse(Double.NaN);
    return Report.num(Stats.median(v)) + " (" + Report.num(min) + "–" + Report.num(max) + ")";
  }

  private void ratioRow(String label, double[] r, double target) {
    String value =
        Double.isFinite(r[0])
            ? String.format(Locale.ROOT, "%.2f× (%.2f–%.2f)", r[0], r[1], r[2])
            : "n/a";
    if (Double.isNaN(target)) { // an explanatory ratio, no target
      line("| " + label + " | " + value + " | | |");
      return;
    }
    String met = !Double.isFinite(r[0]) ? "n/a" : r[0] >= target ? "yes" : "**no**";
    line("| " + label + " | " + value + " | ≥ " + target + " | " + met + " |");
  }

  private void line(String s) {
    md.append(s).append('\n');
  }

  private void line() {
    md.append('\n');
  }
}
