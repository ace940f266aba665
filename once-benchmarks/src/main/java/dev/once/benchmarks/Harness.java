package dev.once.benchmarks;

import dev.once.IdempotencyKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a group of scenarios interleaved: every repetition runs each scenario once, in the same
 * order (A B C A B C ...), so drift on a shared machine hits all of them alike. A repetition of a
 * scenario: empty table, fresh keys, seed the duplicate pool, warm up, then a fixed measured
 * window. Every answer is checked against what the key stream sent; one wrong answer fails the
 * scenario instead of printing a number.
 */
final class Harness {

  private final Settings settings;
  private final String runId;
  private int groups;

  Harness(Settings settings, String runId) {
    this.settings = settings;
    this.runId = runId;
  }

  List<Measured> run(
      String title,
      List<Scenario> scenarios,
      ProcCpu.Source server,
      java.util.function.LongSupplier walBytes) {
    System.out.printf(
        Locale.ROOT,
        "%n== %s (%d scenarios x %d repetitions)%n",
        title,
        scenarios.size(),
        settings.repetitions());
    String group = runId + "-g" + groups++;
    List<Measured> results = new ArrayList<>();
    List<Variant> variants = new ArrayList<>();
    for (Scenario s : scenarios) {
      Measured m = new Measured(s);
      results.add(m);
      try {
        variants.add(s.factory().create(s.dataSource()));
      } catch (Exception | LinkageError e) {
        m.error = "could not start: " + describe(e);
        variants.add(null);
      }
    }
    for (int rep = 0; rep < settings.repetitions(); rep++) {
      for (int i = 0; i < scenarios.size(); i++) {
        Measured m = results.get(i);
        if (m.error != null) {
          continue;
        }
        try {
          String stream = group + "-s" + i + "-r" + rep;
          Measured.Rep r = once(scenarios.get(i), variants.get(i), stream, server, m);
          m.reps.add(r);
          System.out.printf(
              Locale.ROOT,
              "  rep %d  %-78s %,12.0f keys/s  CPU %s + %s µs/key%n",
              rep + 1,
              shortId(scenarios.get(i)),
              r.opsPerSecond(),
              Report.num(r.jvmNanosPerOp() / 1000),
              Report.num(r.serverNanosPerOp() / 1000));
        } catch (Exception | AssertionError e) {
          m.error = describe(e);
          System.out.println("  FAILED " + shortId(scenarios.get(i)) + ": " + m.error);
        }
      }
    }
    for (int i = 0; i < scenarios.size(); i++) {
      Measured m = results.get(i);
      if (m.error == null && scenarios.get(i).dataSource() != null) {
        try {
          m.probe = probe(scenarios.get(i), group + "-s" + i + "-probe", walBytes);
        } catch (Exception | AssertionError e) {
          m.error = "statement probe failed: " + describe(e);
        }
      }
      closeQuietly(variants.get(i));
    }
    return results;
  }

  private static String shortId(Scenario s) {
    return String.format(
        Locale.ROOT, "%-10s %-44s b%-4d %2d%%", s.store(), s.label(), s.batch(), s.dupPercent());
  }

  private Measured.Rep once(
      Scenario s, Variant variant, String stream, ProcCpu.Source server, Measured into)
      throws Exception {
    variant.reset();
    long retries0 = variant.retries();
    int threads = settings.threads();
    KeyStream[] streams = new KeyStream[threads];
    for (int t = 0; t < threads; t++) {
      streams[t] = new KeyStream(stream, t, s.dupPercent(), s.batch());
      seed(variant, streams[t].seedKeys(), s.batch());
    }

    Window window = new Window();
    Client[] clients = new Client[threads];
    for (int t = 0; t < threads; t++) {
      clients[t] = new Client(s, variant, streams[t], window);
      clients[t].start();
    }
    sleep(settings.warmupMillis(), window);
    long jvm0 = ProcCpu.selfNanos();
    long server0 = server.nanos();
    long busy0 = ProcCpu.machineBusyNanos();
    window.start = System.nanoTime();
    long rows0 = variant.existingRows();
    sleep(settings.measureMillis(), window);
    window.end = System.nanoTime();
    long rows1 = variant.existingRows();
    long jvm1 = ProcCpu.selfNanos();
    long server1 = server.nanos();
    long busy1 = ProcCpu.machineBusyNanos();
    window.stop = true;
    for (Client c : clients) {
      c.join(120_000);
      if (c.isAlive()) {
        throw new IllegalStateException("a client thread did not finish its call within 120 s");
      }
    }
    if (window.failure.get() != null) {
      throw window.failure.get();
    }
    double ops = 0;
    for (Client c : clients) {
      ops += c.measuredKeys;
      into.latency.add(c.latency);
      into.keysAnswered += c.keys;
      into.duplicatesAnswered += c.duplicates;
    }
    if (ops <= 0) {
      throw new IllegalStateException("no call completed in the measured window");
    }
    into.retries += variant.retries() - retries0;
    double seconds = (window.end - window.start) / 1e9;
    double jvmPerOp = jvm0 < 0 || jvm1 < 0 ? Double.NaN : (jvm1 - jvm0) / ops;
    double serverPerOp = server0 < 0 || server1 < 0 ? Double.NaN : (server1 - server0) / ops;
    double other = Double.NaN;
    if (busy0 >= 0 && busy1 >= 0 && jvm0 >= 0 && jvm1 >= 0) {
      long ours = (jvm1 - jvm0) + (server0 >= 0 && server1 >= 0 ? server1 - server0 : 0);
      other =
          Math.max(
              0,
              (busy1 - busy0 - ours)
                  / ((window.end - window.start)
                      * (double) Runtime.getRuntime().availableProcessors()));
    }
    return new Measured.Rep(ops / seconds, jvmPerOp, serverPerOp, rows0, rows1, other);
  }

  /** Records the duplicate pool before timing; every seed key must be new. */
  private static void seed(Variant variant, List<IdempotencyKey> keys, int batch) throws Exception {
    Answers answers = new Answers();
    for (int from = 0; from < keys.size(); from += batch) {
      List<IdempotencyKey> chunk = keys.subList(from, Math.min(keys.size(), from + batch));
      answers.clear();
      variant.process(chunk, answers);
      if (answers.fresh != chunk.size()) {
        throw new AssertionError(
            "seeding "
                + chunk.size()
                + " new keys answered "
                + answers.fresh
                + " new, "
                + answers.duplicate
                + " duplicate, "
                + answers.other
                + " other ("
                + answers.firstOther
                + ")");
      }
    }
  }

  /** A short extra run through a counting pool: how many statements and commits each key costs. */
  private Measured.Probe probe(
      Scenario s, String streamId, java.util.function.LongSupplier walBytes) throws Exception {
    CountingDataSource counting = new CountingDataSource(s.dataSource());
    try (Variant variant = s.factory().create(counting.dataSource())) {
      KeyStream stream = new KeyStream(streamId, 0, s.dupPercent(), s.batch());
      seed(variant, stream.seedKeys(), s.batch());
      // Skip a round of calls so one-off work (schema checks, prepared-statement setup) is not
      // counted.
      Answers answers = new Answers();
      List<IdempotencyKey> keys = new ArrayList<>();
      stream.next(s.batch(), keys);
      variant.process(keys, answers);
      counting.reset();
      long wal0 = walBytes.getAsLong();
      int calls = Math.max(2, 200 / s.batch());
      long total = 0;
      for (int i = 0; i < calls; i++) {
        int dups = stream.next(s.batch(), keys);
        answers.clear();
        variant.process(keys, answers);
        check(keys.size(), dups, answers);
        total += keys.size();
      }
      long wal1 = walBytes.getAsLong();
      double wal = wal0 < 0 || wal1 < 0 ? Double.NaN : (double) (wal1 - wal0) / total;
      return new Measured.Probe(
          (double) counting.statements() / total, (double) counting.commits() / total, wal);
    }
  }

  static void check(int keys, int dups, Answers a) {
    if (a.fresh != keys - dups || a.duplicate != dups || a.other != 0) {
      throw new AssertionError(
          "sent "
              + (keys - dups)
              + " new and "
              + dups
              + " duplicate keys, but the answers"
              + " were "
              + a.fresh
              + " new, "
              + a.duplicate
              + " duplicate and "
              + a.other
              + " other"
              + (a.firstOther == null ? "" : " (first: " + a.firstOther + ")"));
    }
  }

  /** The measured window; times from System.nanoTime(), Long.MAX_VALUE until set. */
  private static final class Window {
    volatile long start = Long.MAX_VALUE;
    volatile long end = Long.MAX_VALUE;
    volatile boolean stop;
    final AtomicReference<Exception> failure = new AtomicReference<>();
  }

  private static final class Client extends Thread {
    private final Scenario scenario;
    private final Variant variant;
    private final KeyStream stream;
    private final Window window;
    final Histogram latency = new Histogram();
    double measuredKeys;
    long keys;
    long duplicates;

    Client(Scenario scenario, Variant variant, KeyStream stream, Window window) {
      super("bench-client");
      setDaemon(true);
      this.scenario = scenario;
      this.variant = variant;
      this.stream = stream;
      this.window = window;
    }

    @Override
    public void run() {
      List<IdempotencyKey> batch = new ArrayList<>(scenario.batch());
      Answers answers = new Answers();
      try {
        while (!window.stop) {
          int dups = stream.next(scenario.batch(), batch);
          answers.clear();
          long s = System.nanoTime();
          variant.process(batch, answers);
          long e = System.nanoTime();
          check(batch.size(), dups, answers);
          keys += batch.size();
          duplicates += dups;
          long from = window.start;
          long to = window.end;
          if (e > from) {
            // A call that straddles an edge of the window counts for the part of it inside.
            long overlap = Math.min(e, to) - Math.max(s, from);
            if (overlap > 0) {
              measuredKeys += batch.size() * (double) overlap / Math.max(1, e - s);
            }
            if (e <= to) {
              latency.record(e - s);
            }
          }
        }
      } catch (Exception | AssertionError e) {
        window.failure.compareAndSet(
            null, e instanceof Exception ex ? ex : new IllegalStateException(e.getMessage(), e));
        window.stop = true;
      }
    }
  }

  private static void sleep(long millis, Window window) throws InterruptedException {
    long until = System.nanoTime() + millis * 1_000_000;
    while (!window.stop && System.nanoTime() < until) {
      Thread.sleep(Math.max(1, Math.min(50, (until - System.nanoTime()) / 1_000_000)));
    }
  }

  static String describe(Throwable e) {
    StringBuilder sb =
        new StringBuilder(e.getClass().getSimpleName()).append(": ").append(e.getMessage());
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root != e) {
      sb.append(" (cause: ")
          .append(root.getClass().getSimpleName())
          .append(": ")
          .append(root.getMessage())
          .append(')');
    }
    return sb.toString().replace('\n', ' ');
  }

  private static void closeQuietly(Variant v) {
    if (v != null) {
      try {
        v.close();
      } catch (Exception e) {
        // nothing to do at the end of a group
      }
    }
  }
}
