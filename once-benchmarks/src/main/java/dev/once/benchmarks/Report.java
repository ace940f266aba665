package dev.once.benchmarks;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Renders docs/benchmarks.md from what a run measured; every number in it comes from {@link Run}.
 */
final class Report {

  /** Marks a scenario that failed; the report still renders, and the run exits non-zero. */
  static final String FAILED = "FAILED";

  /** Everything one run saw. */
  static final class Run {
    final Settings settings;
    final Instant started;
    final String thisRun;
    final Map<String, String> unavailable = new LinkedHashMap<>();
    final List<StoreInfo> stores = new ArrayList<>();
    final List<Measured> results = new ArrayList<>();
    final List<Measured> growth = new ArrayList<>();
    long[] growthLoadMillis;
    long elapsedNanos;

    Run(Settings settings, Instant started, String thisRun) {
      this.settings = settings;
      this.started = started;
      this.thisRun = thisRun;
    }
  }

  /** A store as found: where, which version, durability settings, whose CPU was counted. */
  record StoreInfo(
      String name,
      String where,
      String version,
      List<String> settings,
      String cpuCounted,
      String cpuMissing) {}

  private final Run run;
  private final StringBuilder md = new StringBuilder();

  private Report(Run run) {
    this.run = run;
  }

  static String render(Run run) {
    return new Report(run).render();
  }

  private String render() {
    Settings s = run.settings;
    line("# Benchmarks");
    line();
    line(
        "_Written by `once-benchmarks` from its own measurements; do not edit by hand. How we measure:"
            + " ratios in the same run, interleaved, median with spread._");
    if (s.quick()) {
      line();
      line("**This is a `--quick` run: too short to quote. Publish only a full run.**");
    }
    line();
    line("- Command: `" + Benchmarks.COMMAND + "`");
    line(thisRunLine(run.thisRun, run.started, run.elapsedNanos));
    line(
        "- The Kafka inbox against a plain consumer and Camel's idempotent repository, messages/s and CPU per"
            + " message: [benchmarks-kafka.md](benchmarks-kafka.md), written by `"
            + KafkaBench.COMMAND
            + "`.");
    line(
        "- The other reports, each written by its own `--only` scenario: the outbox"
            + " ([benchmarks-outbox.md](benchmarks-outbox.md)), the NATS JetStream inbox"
            + " ([benchmarks-nats.md](benchmarks-nats.md)), the SQS inbox"
            + " ([benchmarks-sqs.md](benchmarks-sqs.md)) and the HTTP layer"
            + " ([benchmarks-http.md](benchmarks-http.md)).");
    line();
    machine();
    method();
    targets();
    for (StoreInfo store : run.stores) {
      storeTable(store.name());
    }
    peers();
    growth();
    reading();
    everyRepetition();
    return md.toString();
  }

  // ------------------------------------------------------------------------------------------------ sections

  private void machine() {
    line("## Machine");
    line();
    for (Map.Entry<String, String> e : Benchmarks.machine().entrySet()) {
      line("- " + e.getKey() + ": " + e.getValue());
    }
    for (StoreInfo st : run.stores) {
      StringBuilder b =
          new StringBuilder("- **" + st.name() + "**: " + st.version() + "; " + st.where());
      if (!st.settings().isEmpty()) {
        b.append("; ").append(String.join(", ", st.settings()));
      }
      b.append("; server CPU: ")
          .append(st.cpuCounted() != null ? st.cpuCounted() : st.cpuMissing());
      line(b.toString());
    }
    for (Map.Entry<String, String> e : run.unavailable.entrySet()) {
      line("- **" + e.getKey() + "**: not measured, " + e.getValue());
    }
    line();
  }

  private void method() {
    Settings s = run.settings;
    line("## How it was measured");
    line();
    line(
        String.format(
            Locale.ROOT,
            "- %d client threads. Each scenario: %,d ms warm-up, then %,d ms measured;"
                + " %d repetitions, interleaved with every other scenario of its group (one group per store and"
                + " duplicate ratio: A B C ... A B C ...). Figures are the median over repetitions, with (min–max).",
            s.threads(),
            s.warmupMillis(),
            s.measureMillis(),
            s.repetitions()));
    line(
        "- Before every repetition the scenario's table is emptied (a fresh in-memory store) and each thread"
            + " gets fresh random keys. Duplicates are exact: of every 100 keys, the stated number repeat a key"
            + " recorded before the clock started (never one repeated inside the same batch).");
    line(
        "- Every answer is checked against what was sent (new → acquired/inserted; duplicate → the expected"
            + " answer), so a broken scenario fails instead of printing a number. *dup answers* is the share of"
            + " duplicate answers actually observed.");
    line(
        "- *keys/s* counts keys, so a batch of 1000 counts 1000. A call straddling the window's edge counts"
            + " for its share inside.");
    line(
        "- *CPU µs/key*: user+sys time of this JVM (`/proc/self/stat`, every thread, GC and JIT included) and of"
            + " the server's processes (`/proc/<pid>/stat`, see Machine) during the measured window, per key.");
    line(
        "- *per key: stmts / commits / log bytes*: counted on a short extra run through a counting `DataSource`"
            + " (SQL statements executed; explicit `commit()` calls — an autocommit statement commits on its own); on"
            + " PostgreSQL and MariaDB also the log the server wrote meanwhile (WAL: `pg_current_wal_insert_lsn()`;"
            + " InnoDB redo: `Innodb_lsn_current`), for the whole server: a statement that writes nothing shows 0,"
            + " unless another client wrote at the same time.");
    line(
        "- *latency per call*: p50 / p99 of each call (one key, or one batch), all repetitions merged.");
    double[] other =
        java.util.stream.Stream.concat(run.results.stream(), run.growth.stream())
            .flatMap(m -> m.reps.stream())
            .mapToDouble(Measured.Rep::otherLoad)
            .filter(Double::isFinite)
            .toArray();
    if (other.length > 0) {
      line(
          String.format(
              Locale.ROOT,
              "- Other processes on the machine (from `/proc/stat`, less this JVM and the"
                  + " server counted) kept %.0f%% of its cores busy in the median measured window, %.0f%% at most.",
              100 * Stats.median(other),
              100 * java.util.Arrays.stream(other).max().orElse(0)));
    }
    line(
        "- *× ceiling* and the peer ratios pair each repetition with the ceiling's (or peer's) repetition of the"
            + " same round; median (min–max) of those ratios.");
    line(
        "- What each variant does: **ceiling** — the store's raw statement, nothing else (table of keys only);"
            + " **Once claim / claimAll** — `store.claim` / `store.claimAll` on the store's own autocommit"
            + " connections (a duplicate answers *in progress*); **Once execute, 1 tx** — `Once.withStore(store"
            + ".onConnection(c)).execute(...)` then `commit`: claim, run, complete in one transaction per key;"
            + " **Once claimAll + complete each, 1 tx** — `claimAll`, one `complete` per key acquired, one commit per"
            + " batch (a duplicate answers *completed*). The transactional variants use `ConcurrentClaimPolicy.WAIT`,"
            + " as a consumer should, and retry a transaction the database aborted as a deadlock after a short random"
            + " back-off (counted). On Redis and in memory there is no transaction: `Once.execute` on the store itself.");
    line();
  }

  private void targets() {
    line("## Targets");
    line();
    List<Integer> dups = run.settings.dupPercents();
    StringBuilder head = new StringBuilder("| target | Once | over |");
    StringBuilder rule = new StringBuilder("|---|---|---|");
    for (int d : dups) {
      head.append(' ').append(d).append("% dups |");
      rule.append("---|");
    }
    head.append(" met |");
    rule.append("---|");
    line(head.toString());
    line(rule.toString());
    // Per duplicate ratio (0, 20, 99 %); NaN: no target at that ratio.
    double[][] single = {{0.85, 0.85, 0.7}, {0.8, 0.8, 0.6}, {0.85, 0.85, 0.85}};
    String[] singleStores = {"PostgreSQL", "MariaDB", "H2"};
    for (int i = 0; i < singleStores.length; i++) {
      String store = singleStores[i];
      double[] t = single[i];
      targetRow(
          "single claim ≥ " + thresholds(t) + " × ceiling",
          store,
          d -> threshold(t, d),
          d -> find(store, Scenario.Kind.ONCE_CLAIM, 1, d),
          d -> find(store, Scenario.Kind.CEILING, 1, d),
          "claim",
          "INSERT, 1 row");
    }
    double[][] batched = {{0.6, 0.6, 0.6}, {0.7, 0.7, Double.NaN}};
    int[] batches = {100, 1000};
    for (int i = 0; i < batches.length; i++) {
      int batch = batches[i];
      double[] t = batched[i];
      targetRow(
          "batched claim ≥ " + thresholds(t) + " × ceiling",
          "PostgreSQL",
          d -> threshold(t, d),
          d -> find("PostgreSQL", Scenario.Kind.ONCE_CLAIM, batch, d),
          d -> find("PostgreSQL", Scenario.Kind.CEILING, batch, d),
          "claimAll " + batch,
          "INSERT unnest, " + batch);
    }
    targetRow(
        "batched path ≥ 20 × Camel",
        "PostgreSQL",
        d -> 20,
        d -> find("PostgreSQL", Scenario.Kind.ONCE_CLAIM, 1000, d),
        d -> peer(Peers.CAMEL, d),
        "claimAll 1000",
        "Camel add");
    targetRow(
        "batched path ≥ 20 × Camel",
        "PostgreSQL",
        d -> 20,
        d -> find("PostgreSQL", Scenario.Kind.ONCE_CYCLE, 1000, d),
        d -> peer(Peers.CAMEL, d),
        "claimAll 1000 + complete each, 1 tx",
        "Camel add");
    targetRow(
        "sync claim ≥ 0.8 × raw client loop",
        "Redis",
        d -> 0.8,
        d -> find("Redis", Scenario.Kind.ONCE_CLAIM, 1, d),
        d -> find("Redis", Scenario.Kind.CEILING, 1, d),
        "claim",
        "SET NX PX, sync");
    line();
  }

  /** A target per duplicate ratio of {@link Settings#dupPercents}'s usual 0, 20 and 99 %. */
  private static double threshold(double[] byRatio, int dupPercent) {
    return switch (dupPercent) {
      case 0 -> byRatio[0];
      case 20 -> byRatio[1];
      default -> byRatio[2];
    };
  }

  /** "0.85" when one target holds at every ratio, else "0.85 / 0.85 / 0.7" ("—" for none). */
  private static String thresholds(double[] byRatio) {
    if (byRatio[0] == byRatio[1] && byRatio[1] == byRatio[2]) {
      return trim(byRatio[0]);
    }
    List<String> parts = new ArrayList<>();
    for (double t : byRatio) {
      parts.add(Double.isNaN(t) ? "—" : trim(t));
    }
    return String.join(" / ", parts);
  }

  private static String trim(double t) {
    return t == Math.rint(t) ? Long.toString((long) t) : Double.toString(t);
  }

  private void targetRow(
      String target,
      String store,
      java.util.function.IntToDoubleFunction threshold,
      java.util.function.IntFunction<Measured> once,
      java.util.function.IntFunction<Measured> base,
      String onceLabel,
      String baseLabel) {
    if (run.stores.stream().noneMatch(s -> s.name().equals(store))) {
      return;
    }
    StringBuilder row =
        new StringBuilder(
            "| "
                + target
                + (store.equals("PostgreSQL") || store.equals("Redis") ? "" : " (" + store + ")")
                + " | "
                + store
                + " "
                + onceLabel
                + " | "
                + baseLabel
                + " |");
    int met = 0;
    int measured = 0;
    for (int d : run.settings.dupPercents()) {
      double[] r = Stats.pairedRatio(once.apply(d), base.apply(d));
      row.append(' ').append(ratio(r)).append(" |");
      double wanted = threshold.applyAsDouble(d);
      if (Double.isFinite(r[0]) && !Double.isNaN(wanted)) {
        measured++;
        if (r[0] >= wanted) {
          met++;
        }
      }
    }
    row.append(
        measured == 0
            ? " not measured |"
            : met == measured ? " **yes** |" : " **no** (" + met + " of " + measured + ") |");
    line(row.toString());
  }

  private void storeTable(String store) {
    List<Measured> rows = new ArrayList<>();
    for (Measured m : run.results) {
      if (m.scenario.store().equals(store)) {
        rows.add(m);
      }
    }
    rows.sort(
        Comparator.<Measured>comparingInt(m -> m.scenario.batch())
            .thenComparing(m -> m.scenario.kind())
            .thenComparing(m -> m.scenario.label())
            .thenComparingInt(m -> m.scenario.dupPercent()));
    line("## " + store);
    line();
    line(
        "| batch | variant | dups | keys/s (min–max) | × ceiling | CPU µs/key JVM + server | per key: stmts / commits / log bytes"
            + " | latency per call p50 / p99 | dup answers | deadlock retries per 1k keys |");
    line("|---:|---|---:|---|---|---|---|---|---:|---:|");
    for (Measured m : rows) {
      Scenario s = m.scenario;
      StringBuilder b =
          new StringBuilder("| " + s.batch() + " | " + label(s) + " | " + s.dupPercent() + "% | ");
      if (!m.ok()) {
        b.append(FAILED).append(": ").append(escape(m.error)).append(" | | | | | | |");
        line(b.toString());
        continue;
      }
      b.append(opsRange(m)).append(" | ");
      if (s.kind() == Scenario.Kind.CEILING) {
        b.append("1");
      } else {
        Measured ceiling =
            find(
                store,
                Scenario.Kind.CEILING,
                s.kind() == Scenario.Kind.PEER ? 1 : s.batch(),
                s.dupPercent());
        b.append(ceiling == null ? "—" : ratio(Stats.pairedRatio(m, ceiling)));
      }
      b.append(" | ")
          .append(cpu(m))
          .append(" | ")
          .append(probe(m))
          .append(" | ")
          .append(latency(m))
          .append(" | ")
          .append(percent(m.duplicateShare()))
          .append(" | ")
          .append(num(m.retriesPerThousandKeys()))
          .append(" |");
      line(b.toString());
    }
    line();
  }

  private void peers() {
    if (run.results.stream().noneMatch(m -> m.scenario.kind() == Scenario.Kind.PEER)) {
      return;
    }
    line("## Once against the peers (PostgreSQL, same server, same groups)");
    line();
    line(
        "Each cell: Once's keys/s over the peer's, paired by repetition; median (min–max). Above 1, Once is faster.");
    line();
    line(
        "| dups | peer | peer keys/s | Once execute, 1 tx | Once claim | Once claimAll 100 | Once claimAll 1000"
            + " | Once claimAll 1000 + complete each, 1 tx |");
    line("|---:|---|---|---|---|---|---|---|");
    for (int d : run.settings.dupPercents()) {
      for (String peer : new String[] {Peers.CAMEL, Peers.SPRING, Peers.NAIVE}) {
        Measured p = peer(peer, d);
        if (p == null) {
          continue;
        }
        String pg = "PostgreSQL";
        line(
            "| "
                + d
                + "% | "
                + peer
                + " | "
                + (p.ok() ? opsRange(p) : FAILED + ": " + escape(p.error))
                + " | "
                + ratio(Stats.pairedRatio(find(pg, Scenario.Kind.ONCE_CYCLE, 1, d), p))
                + " | "
                + ratio(Stats.pairedRatio(find(pg, Scenario.Kind.ONCE_CLAIM, 1, d), p))
                + " | "
                + ratio(Stats.pairedRatio(find(pg, Scenario.Kind.ONCE_CLAIM, 100, d), p))
                + " | "
                + ratio(Stats.pairedRatio(find(pg, Scenario.Kind.ONCE_CLAIM, 1000, d), p))
                + " | "
                + ratio(Stats.pairedRatio(find(pg, Scenario.Kind.ONCE_CYCLE, 1000, d), p))
                + " |");
      }
    }
    line();
  }

  // "(0% duplicates" holds "% d", which reads as a format specifier; the text is printed as
  // written.
  @SuppressWarnings("OrphanedFormatString")
  private void growth() {
    if (run.growth.isEmpty()) {
      return;
    }
    line("## PostgreSQL claims as the table grows");
    line();
    StringBuilder loads =
        new StringBuilder(
            "Once claims (0% duplicates, standalone) on tables pre-filled with real"
                + " records by one `INSERT ... SELECT generate_series` of `sha256(int8send(i))` ids, then `VACUUM (ANALYZE)`;");
    for (int i = 0; i < run.settings.growthRows().size(); i++) {
      loads.append(
          String.format(
              Locale.ROOT,
              " %,d rows loaded in %s;",
              run.settings.growthRows().get(i),
              duration(run.growthLoadMillis[i] * 1_000_000)));
    }
    loads.append(
        " all scenarios interleaved. Before each repetition every table is put back to its loaded rows,"
            + " but claims add rows as they run, so the table holds more during the measured window: the range"
            + " shows how many keys the windows met.");
    line(loads.toString());
    line();
    line(
        "| call | keys loaded | keys in the table during the measured windows | keys/s (min–max) | × empty table"
            + " | CPU µs/key JVM + server | latency per call p50 / p99 |");
    line("|---|---:|---|---|---|---|---|");
    for (Measured m : run.growth) {
      Measured empty =
          run.growth.stream()
              .filter(e -> e.scenario.batch() == m.scenario.batch())
              .findFirst()
              .orElse(null);
      String call = m.scenario.batch() == 1 ? "claim" : "claimAll " + m.scenario.batch();
      java.util.regex.Matcher lm =
          java.util.regex.Pattern.compile("([0-9][0-9,]*) keys loaded").matcher(m.scenario.label());
      String loaded = lm.find() ? lm.group(1) : "?";
      if (!m.ok()) {
        line("| " + call + " | " + loaded + " | " + FAILED + ": " + escape(m.error) + " | | | | |");
        continue;
      }
      long lo = m.reps.stream().mapToLong(Measured.Rep::rowsAtStart).min().orElse(-1);
      long hi = m.reps.stream().mapToLong(Measured.Rep::rowsAtEnd).max().orElse(-1);
      line(
          "| "
              + call
              + " | "
              + loaded
              + " | "
              + String.format(Locale.ROOT, "%,d–%,d", lo, hi)
              + " | "
              + opsRange(m)
              + " | "
              + (empty == null ? "—" : ratio(Stats.pairedRatio(m, empty)))
              + " | "
              + cpu(m)
              + " | "
              + latency(m)
              + " |");
    }
    line();
  }

  private void reading() {
    line("## Reading");
    line();
    List<Integer> dups = run.settings.dupPercents();
    List<Integer> levels =
        dups.size() > 1 ? List.of(dups.get(0), dups.get(dups.size() - 1)) : List.of(dups.get(0));
    line(
        "Generated from the figures above, at "
            + levels.stream().map(d -> d + "%").reduce((a, b) -> a + " and " + b).orElse("")
            + " duplicates; the verdicts are in *Targets*. Statements, commits and log bytes per key come"
            + " from the probe, CPU is JVM + server per key.");
    line();
    boolean any = false;
    for (int dup : levels) {
      for (StoreInfo st : run.stores) {
        for (int batch : new int[] {1, 100, 1000}) {
          String bullet = readingLine(st.name(), batch, dup);
          if (bullet != null) {
            line(bullet);
            any = true;
          }
        }
      }
    }
    if (!any) {
      line("- No store with a ceiling was measured.");
    }
    growthReading();
    line();
  }

  /**
   * How the batched claim on the table emptied before each repetition compares with the pre-filled
   * ones.
   */
  private void growthReading() {
    List<Measured> batched =
        run.growth.stream().filter(m -> m.scenario.batch() > 1 && m.ok()).toList();
    if (batched.size() < 2) {
      return;
    }
    Measured empty = batched.get(0);
    StringBuilder b =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "- PostgreSQL claimAll %d, table growth: %,.0f"
                    + " keys/s (server CPU %s µs/key) on the table emptied before each repetition",
                empty.scenario.batch(),
                empty.medianOps(),
                num(empty.medianServerMicros())));
    for (Measured m : batched.subList(1, batched.size())) {
      b.append(
          String.format(
              Locale.ROOT,
              "; %,.0f keys/s (%s µs/key) on %s",
              m.medianOps(),
              num(m.medianServerMicros()),
              m.scenario.label().replace("Once claim, ", "")));
    }
    boolean emptySlowest =
        batched.subList(1, batched.size()).stream()
            .allMatch(m -> m.medianOps() > empty.medianOps());
    b.append(
        emptySlowest
            ? ". The emptied table is the slow case, and the store groups above empty Once's table before every"
                + " repetition too: their PostgreSQL batched claims are measured in that case."
            : ".");
    line(b.toString());
  }

  /**
   * One store, batch size and duplicate ratio: the ceiling's shape and cost, then Once's, with the
   * ratios.
   */
  private String readingLine(String store, int batch, int dup) {
    Measured ceiling = find(store, Scenario.Kind.CEILING, batch, dup);
    if (ceiling == null || !ceiling.ok()) {
      return null;
    }
    StringBuilder b =
        new StringBuilder(
            "- "
                + store
                + ", "
                + (batch == 1 ? "one key per call" : "batches of " + batch)
                + ", "
                + dup
                + "% dups: ceiling "
                + shape(ceiling)
                + ", CPU "
                + num(totalCpu(ceiling))
                + " µs/key");
    for (Scenario.Kind kind :
        new Scenario.Kind[] {Scenario.Kind.ONCE_CLAIM, Scenario.Kind.ONCE_CYCLE}) {
      Measured m = find(store, kind, batch, dup);
      if (m != null && m.ok()) {
        b.append("; ")
            .append(m.scenario.label())
            .append(' ')
            .append(ratio(Stats.pairedRatio(m, ceiling)))
            .append("× its keys/s, ")
            .append(shape(m))
            .append(", CPU ")
            .append(num(totalCpu(m)))
            .append(" µs/key");
      }
    }
    return b.append('.').toString();
  }

  /**
   * "2.00 statements + 1.00 commits (+ log bytes) per key", or a note where the probe did not run.
   */
  private static String shape(Measured m) {
    if (m.probe == null) {
      return "(no statement count)";
    }
    return num(m.probe.statementsPerKey())
        + " statements + "
        + num(m.probe.commitsPerKey())
        + " commits"
        + (Double.isFinite(m.probe.walBytesPerKey())
            ? " + " + num(m.probe.walBytesPerKey()) + " log bytes"
            : "")
        + " per key";
  }

  private static double totalCpu(Measured m) {
    double server = m.medianServerMicros();
    return m.medianJvmMicros() + (Double.isFinite(server) ? server : 0);
  }

  private void everyRepetition() {
    line("## Every repetition");
    line();
    line("<details><summary>keys/s of each repetition, in the order they ran</summary>");
    line();
    line("| store | variant | batch | dups | keys/s per repetition |");
    line("|---|---|---:|---:|---|");
    List<Measured> all = new ArrayList<>(run.results);
    all.addAll(run.growth);
    for (Measured m : all) {
      List<String> reps = new ArrayList<>();
      for (Measured.Rep r : m.reps) {
        reps.add(String.format(Locale.ROOT, "%,.0f", r.opsPerSecond()));
      }
      line(
          "| "
              + m.scenario.store()
              + " | "
              + label(m.scenario)
              + " | "
              + m.scenario.batch()
              + " | "
              + m.scenario.dupPercent()
              + "% | "
              + String.join(" · ", reps)
              + (m.ok() ? "" : " " + FAILED)
              + " |");
    }
    line();
    line("</details>");
  }

  // ------------------------------------------------------------------------------------------------ lookups

  private Measured find(String store, Scenario.Kind kind, int batch, int dup) {
    return first(
        m ->
            m.scenario.store().equals(store)
                && m.scenario.kind() == kind
                && m.scenario.batch() == batch
                && m.scenario.dupPercent() == dup);
  }

  private Measured peer(String label, int dup) {
    return first(
        m ->
            m.scenario.kind() == Scenario.Kind.PEER
                && m.scenario.label().equals(label)
                && m.scenario.dupPercent() == dup);
  }

  private Measured first(Predicate<Measured> p) {
    return run.results.stream().filter(p).findFirst().orElse(null);
  }

  // ------------------------------------------------------------------------------------------------ formats

  private static String label(Scenario s) {
    return switch (s.kind()) {
      case CEILING -> "ceiling: " + s.label();
      case PEER -> "peer: " + s.label();
      default -> s.label();
    };
  }

  private static String opsRange(Measured m) {
    return String.format(
        Locale.ROOT, "**%,.0f** (%,.0f–%,.0f)", m.medianOps(), m.minOps(), m.maxOps());
  }

  private static String cpu(Measured m) {
    double server = m.medianServerMicros();
    return num(m.medianJvmMicros()) + " + " + (Double.isFinite(server) ? num(server) : "n/a");
  }

  private static String probe(Measured m) {
    if (m.probe == null) {
      return "—";
    }
    return num(m.probe.statementsPerKey())
        + " / "
        + num(m.probe.commitsPerKey())
        + (Double.isFinite(m.probe.walBytesPerKey()) ? " / " + num(m.probe.walBytesPerKey()) : "");
  }

  private static String latency(Measured m) {
    return micros(m.latency.quantile(0.50)) + " / " + micros(m.latency.quantile(0.99));
  }

  private static String ratio(double[] r) {
    if (!Double.isFinite(r[0])) {
      return "—";
    }
    return String.format(Locale.ROOT, "%s (%s–%s)", num(r[0]), num(r[1]), num(r[2]));
  }

  /** Three significant figures, or fewer decimals for large values. */
  static String num(double v) {
    if (!Double.isFinite(v)) {
      return "n/a";
    }
    double a = Math.abs(v);
    if (a >= 100) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    if (a >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    if (a >= 1) {
      return String.format(Locale.ROOT, "%.2f", v);
    }
    return String.format(Locale.ROOT, "%.3f", v);
  }

  private static String micros(long nanos) {
    if (nanos < 0) {
      return "n/a";
    }
    if (nanos >= 1_000_000) {
      return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
    }
    return String.format(Locale.ROOT, "%s µs", num(nanos / 1e3));
  }

  private static String percent(double share) {
    return Double.isFinite(share) ? String.format(Locale.ROOT, "%.1f%%", share * 100) : "n/a";
  }

  /**
   * The line every report opens with: which run, when it started, how long it took and the code's
   * revision when known.
   */
  static String thisRunLine(String thisRun, Instant started, long elapsedNanos) {
    String rev = Benchmarks.gitRevision();
    return "- This run: `"
        + thisRun
        + "`, started "
        + DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(started.atOffset(ZoneOffset.UTC).withNano(0))
        + " UTC, took "
        + duration(elapsedNanos)
        + (rev == null ? "" : ", code at `" + rev + "`");
  }

  static String duration(long nanos) {
    long s = Math.round(nanos / 1e9);
    return s >= 60
        ? String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60)
        : String.format(Locale.ROOT, "%.1f s", nanos / 1e9);
  }

  private static String escape(String s) {
    return s == null ? "" : s.replace("|", "\\|");
  }

  private void line(String s) {
    md.append(s).append('\n');
  }

  private void line() {
    md.append('\n');
  }
}
