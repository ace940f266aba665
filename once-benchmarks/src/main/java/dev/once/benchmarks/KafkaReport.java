package dev.once.benchmarks;

import dev.once.benchmarks.KafkaBench.Kind;
import dev.once.benchmarks.KafkaBench.Probe;
import dev.once.benchmarks.KafkaBench.Rep;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Renders docs/benchmarks-kafka.md from a {@link KafkaBench.Result}; every number in it comes from
 * the run.
 */
final class KafkaReport {

  static final double TARGET_VS_PLAIN = 0.5;
  static final double TARGET_VS_CAMEL = 20;

  /** The batch handler's targets (performance issue 13): throughput and CPU against plain. */
  static final double TARGET_BATCH_VS_PLAIN = 0.65;

  static final double TARGET_BATCH_CPU_VS_PLAIN = 1.5;

  private final KafkaBench.Result run;
  private final String thisRun;
  private final StringBuilder md = new StringBuilder();

  private KafkaReport(KafkaBench.Result run, String thisRun) {
    this.run = run;
    this.thisRun = thisRun;
  }

  static String render(KafkaBench.Result run, String thisRun) {
    return new KafkaReport(run, thisRun).render();
  }

  private String render() {
    KafkaBench.Config c = run.config;
    line("# Benchmarks: the Kafka inbox");
    line();
    line(
        "_Written by `once-benchmarks --only kafka` from its own measurements; do not edit by hand. How we measure:"
            + " ratios in the same run, interleaved, median with spread. Store-level figures:"
            + " [benchmarks.md](benchmarks.md)._");
    if (c.quick()) {
      line();
      line("**This is a `--quick` run: too short to quote.**");
    }
    line();
    line("- Command: `" + KafkaBench.COMMAND + "`");
    line(Report.thisRunLine(thisRun, run.started, run.elapsedNanos));
    line(
        "- Load average before: "
            + run.loadBefore
            + "; after: "
            + run.loadAfter
            + ". The machine is shared:"
            + " the *others* column shows how many cores other processes used during each window.");
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
    method();
    for (int dup : c.dupPercents()) {
      results(dup);
    }
    probes();
    everyRound();
    return md.toString();
  }

  private void method() {
    KafkaBench.Config c = run.config;
    line("## How it was measured");
    line();
    line(
        String.format(
            Locale.ROOT,
            "- Per duplicate ratio, one topic of %d partitions is filled first with %,d"
                + " records (~60-byte JSON value, header `message-id`, record key = the id, so a duplicate lands on its"
                + " original's partition as a producer retry would; of every 100 records, the stated number repeat one of"
                + " the last 10,000 fresh ids).",
            c.partitions(),
            c.messages()));
    line(
        String.format(
            Locale.ROOT,
            "- Four variants read the whole topic from the beginning,"
                + " each in a consumer group of its own, one consumer thread, `max.poll.records` = %d, interleaved: one"
                + " unmeasured warm-up round (%,d records each, Camel a fifth of its cap), then %d measured rounds (plain,"
                + " Once, Once batch handler, Camel, plain, Once, ...). Figures are the median over rounds with (min–max); ratios are paired within a round.",
            c.maxPollRecords(),
            c.warmupMessages(),
            c.repetitions()));
    line(
        "- The effect is the same for all: an `INSERT` of one ledger row (message id, partition, offset, payload)"
            + " per applied record, into a table of the variant's own (emptied before each run, like the dedupe"
            + " tables). After every run the ledger is checked row by row: plain = each polled record (partition,"
            + " offset) once, so duplicates are applied again; Once and Camel = each message id once; and its row count"
            + " = records polled, or distinct ids polled; a mismatch fails the run.");
    line(
        "  - **"
            + Kind.PLAIN.label
            + "**: per poll one transaction with the inserts as one JDBC batch, commit,"
            + " then `commitSync()`: the hand-written at-least-once consumer.");
    line(
        "  - **"
            + Kind.ONCE.label
            + "**: `KafkaInboxConsumer.pollOnce` with a per-record handler doing"
            + " `executeUpdate` of the same `INSERT` on the batch's connection (its documented API); `JdbcInbox` on"
            + " `JdbcIdempotencyStore` (PostgreSQL, `ConcurrentClaimPolicy.WAIT`): the batch's ids claimed in one"
            + " statement that also writes their markers completed, the next offsets written to its offsets table in the same"
            + " transaction, then `commitSync`.");
    line(
        "  - **"
            + Kind.ONCE_BATCH.label
            + "**: the same inbox built with `KafkaInboxConsumer.batchBuilder`: the"
            + " handler gets the poll's fresh records in one call and writes them as one JDBC batch, the plain"
            + " consumer's effect code.");
    line(
        String.format(
            Locale.ROOT,
            "  - **%s**: the plain loop, but each record first goes through"
                + " `JdbcMessageIdRepository.add(id)` (camel-sql, its documented table; one call and one transaction per"
                + " message, as Camel's idempotent consumer uses it, eager); only fresh records join the batch. Camel is slow:"
                + " its measured run stops after %,d records or %,d ms, whichever comes first, and its rate is computed from"
                + " what it did.",
            Kind.CAMEL.label,
            c.camelMaxMessages(),
            c.camelMaxMillis()));
    line(
        "- Window: from the end of the first non-empty poll (the group join and first fetch stay out) to the end"
            + " of the last; *msg/s* counts the records polled in it, duplicates included.");
    line(
        "- CPU (user + system, from `/proc`) over the same window, per record polled: *JVM* is this whole JVM"
            + " (consumer thread, Kafka client threads, JDBC pool, GC, JIT); the broker runs in another process, so its"
            + " CPU is not in it (*broker* column, when it is our child); *PostgreSQL* is the backends serving this run's"
            + " connection pool (the server is shared with other clients, so not the whole server; its WAL writer and"
            + " checkpointer are left out). *JVM + PG* is the consumer side's cost. *others* = machine busy time less the three, in cores."
            + " *WAL bytes/msg*: how far PostgreSQL's WAL insert position moved over the window, per record (the whole"
            + " server: another client's writes would show here too).");
    line();
  }

  private void results(int dup) {
    List<Rep> reps = run.reps.stream().filter(r -> r.dupPercent() == dup).toList();
    line(
        "## "
            + dup
            + "% duplicates ("
            + String.format(Locale.ROOT, "%,d", run.config.messages())
            + " records, "
            + String.format(Locale.ROOT, "%,d", run.distinctIds.getOrDefault(dup, 0))
            + " distinct ids)");
    line();
    line(
        "| variant | msg/s | records per run | JVM µs/msg | PostgreSQL µs/msg | JVM + PG µs/msg | broker µs/msg"
            + " | WAL bytes/msg |");
    line("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (Kind k : Kind.values()) {
      List<Rep> of = reps.stream().filter(r -> r.kind() == k).toList();
      if (of.isEmpty()) {
        continue;
      }
      line(
          "| "
              + k.label
              + " | "
              + spread(of, Rep::perSecond, 1)
              + " | "
              + spread(of, r -> r.messages(), 1)
              + " | "
              + spread(of, r -> r.perMessage(r.jvmCpu()), 1000)
              + " | "
              + spread(of, r -> r.perMessage(r.pgCpu()), 1000)
              + " | "
              + spread(of, Rep::consumerSidePerMessage, 1000)
              + " | "
              + spread(of, r -> r.perMessage(r.brokerCpu()), 1000)
              + " | "
              + spread(of, r -> r.perMessage(r.walBytes()), 1)
              + " |");
    }
    line();
    double[] vsPlain = paired(reps, Kind.ONCE, Kind.PLAIN, Rep::perSecond);
    double[] vsCamel = paired(reps, Kind.ONCE, Kind.CAMEL, Rep::perSecond);
    double[] cpuVsPlain = paired(reps, Kind.ONCE, Kind.PLAIN, Rep::consumerSidePerMessage);
    double[] cpuCamel = paired(reps, Kind.CAMEL, Kind.ONCE, Rep::consumerSidePerMessage);
    line("| ratio (paired by round) | median (min–max) | target | met |");
    line("|---|---:|---:|---|");
    line(
        "| msg/s, Once ÷ plain | "
            + ratio(vsPlain)
            + " | ≥ "
            + TARGET_VS_PLAIN
            + " | "
            + met(vsPlain, TARGET_VS_PLAIN)
            + " |");
    line(
        "| msg/s, Once ÷ Camel | "
            + ratio(vsCamel)
            + " | ≥ "
            + (int) TARGET_VS_CAMEL
            + " | "
            + met(vsCamel, TARGET_VS_CAMEL)
            + " |");
    line("| CPU per message (JVM + PG), Once ÷ plain | " + ratio(cpuVsPlain) + " | | |");
    line("| CPU per message (JVM + PG), Camel ÷ Once | " + ratio(cpuCamel) + " | | |");
    double[] batchVsPlain = paired(reps, Kind.ONCE_BATCH, Kind.PLAIN, Rep::perSecond);
    double[] batchVsCamel = paired(reps, Kind.ONCE_BATCH, Kind.CAMEL, Rep::perSecond);
    double[] batchCpuVsPlain =
        paired(reps, Kind.ONCE_BATCH, Kind.PLAIN, Rep::consumerSidePerMessage);
    line(
        "| msg/s, Once batch handler ÷ plain | "
            + ratio(batchVsPlain)
            + " | ≥ "
            + TARGET_BATCH_VS_PLAIN
            + " | "
            + met(batchVsPlain, TARGET_BATCH_VS_PLAIN)
            + " |");
    // "In every run": the slowest round must make it too.
    line(
        "| msg/s, Once batch handler ÷ Camel | "
            + ratio(batchVsCamel)
            + " | ≥ "
            + (int) TARGET_VS_CAMEL
            + " in every round | "
            + met(new double[] {batchVsCamel[1]}, TARGET_VS_CAMEL)
            + " |");
    line(
        "| CPU per message (JVM + PG), Once batch handler ÷ plain | "
            + ratio(batchCpuVsPlain)
            + " | ≤ "
            + TARGET_BATCH_CPU_VS_PLAIN
            + " | "
            + (Double.isFinite(batchCpuVsPlain[0])
                ? (batchCpuVsPlain[0] <= TARGET_BATCH_CPU_VS_PLAIN ? "yes" : "**no**")
                : "not measured")
            + " |");
    line(
        "| CPU per message (JVM + PG), Camel ÷ Once batch handler | "
            + ratio(paired(reps, Kind.CAMEL, Kind.ONCE_BATCH, Rep::consumerSidePerMessage))
            + " | | |");
    line();
  }

  private void probes() {
    if (run.probes.isEmpty()) {
      return;
    }
    line("## JDBC work per poll");
    line();
    line(
        "Each variant once more over the first polls of the topic through a counting data source (not timed;"
            + " the group join and first batch are left out). A JDBC batch (`executeBatch`) counts as one execution:"
            + " pgjdbc sends it in one round trip; every other execution is a round trip of its own.");
    line();
    line(
        "| duplicates | variant | polls | records | JDBC executions per poll | commits per poll | ms per poll |");
    line("|---:|---|---:|---:|---:|---:|---:|");
    for (Probe p : run.probes) {
      line(
          "| "
              + p.dupPercent()
              + "% | "
              + p.kind().label
              + " | "
              + p.polls()
              + " | "
              + p.messages()
              + " | "
              + Report.num((double) p.statements() / p.polls())
              + " | "
              + Report.num((double) p.commits() / p.polls())
              + " | "
              + Report.num(p.nanos() / 1e6 / p.polls())
              + " |");
    }
    line();
    line(
        "By statement (first 110 characters): executions per poll, and the wall time they took per poll (driver,"
            + " loopback and server; the rest of *ms per poll* is Kafka and Java):");
    line();
    line("| duplicates | variant | per poll | ms per poll | statement |");
    line("|---:|---|---:|---:|---|");
    for (Probe p : run.probes) {
      p.nanosBySql().entrySet().stream()
          .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
          .forEach(
              e ->
                  line(
                      "| "
                          + p.dupPercent()
                          + "% | "
                          + p.kind().label
                          + " | "
                          + Report.num((double) p.bySql().getOrDefault(e.getKey(), 0L) / p.polls())
                          + " | "
                          + Report.num(e.getValue() / 1e6 / p.polls())
                          + " | `"
                          + (e.getKey().length() > 110
                                  ? e.getKey().substring(0, 110) + "…"
                                  : e.getKey())
                              .replace("|", "\\|")
                          + "` |"));
    }
    line();
  }

  private void everyRound() {
    line("## Every round");
    line();
    line(
        "| duplicates | round | variant | records | seconds | msg/s | JVM µs/msg | PG µs/msg | broker µs/msg | others (cores) |");
    line("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for (Rep r : run.reps) {
      double others =
          r.machineBusy() < 0 || r.jvmCpu() < 0
              ? Double.NaN
              : (double)
                      (r.machineBusy()
                          - r.jvmCpu()
                          - Math.max(r.pgCpu(), 0)
                          - Math.max(r.brokerCpu(), 0))
                  / r.nanos();
      line(
          "| "
              + r.dupPercent()
              + "% | "
              + r.round()
              + " | "
              + r.kind().label
              + " | "
              + String.format(Locale.ROOT, "%,d", r.messages())
              + (r.capped() ? " (capped)" : "")
              + " | "
              + String.format(Locale.ROOT, "%.2f", r.nanos() / 1e9)
              + " | "
              + Report.num(r.perSecond())
              + " | "
              + Report.num(r.perMessage(r.jvmCpu()) / 1000)
              + " | "
              + Report.num(r.perMessage(r.pgCpu()) / 1000)
              + " | "
              + Report.num(r.perMessage(r.brokerCpu()) / 1000)
              + " | "
              + String.format(Locale.ROOT, "%.2f", others)
              + " |");
    }
    line();
  }

  // ------------------------------------------------------------------------------------------------ helpers

  /** Median (min–max) of a figure over rounds, divided by {@code unit}. */
  private static String spread(List<Rep> reps, ToDoubleFunction<Rep> f, double unit) {
    double[] v = reps.stream().mapToDouble(f).map(x -> x / unit).toArray();
    double[] finite = Arrays.stream(v).filter(Double::isFinite).toArray();
    if (finite.length == 0) {
      return "n/a";
    }
    return Report.num(Stats.median(v))
        + " ("
        + Report.num(Arrays.stream(finite).min().orElseThrow())
        + "–"
        + Report.num(Arrays.stream(finite).max().orElseThrow())
        + ")";
  }

  /** {median, min, max} of a ÷ b paired by round. */
  static double[] paired(List<Rep> reps, Kind a, Kind b, ToDoubleFunction<Rep> f) {
    List<Rep> as = reps.stream().filter(r -> r.kind() == a).toList();
    List<Rep> bs = reps.stream().filter(r -> r.kind() == b).toList();
    int n = Math.min(as.size(), bs.size());
    double[] r = new double[n];
    for (int i = 0; i < n; i++) {
      r[i] = f.applyAsDouble(as.get(i)) / f.applyAsDouble(bs.get(i));
    }
    double[] finite = Arrays.stream(r).filter(Double::isFinite).toArray();
    if (finite.length == 0) {
      return new double[] {Double.NaN, Double.NaN, Double.NaN};
    }
    return new double[] {
      Stats.median(r),
      Arrays.stream(finite).min().orElseThrow(),
      Arrays.stream(finite).max().orElseThrow()
    };
  }

  private static String ratio(double[] r) {
    if (!Double.isFinite(r[0])) {
      return "n/a";
    }
    return String.format(Locale.ROOT, "%.2f× (%.2f–%.2f)", r[0], r[1], r[2]);
  }

  private static String met(double[] r, double target) {
    if (!Double.isFinite(r[0])) {
      return "n/a";
    }
    return r[0] >= target ? "yes" : "**no**";
  }

  private void line(String s) {
    md.append(s).append('\n');
  }

  private void line() {
    md.append('\n');
  }
}
