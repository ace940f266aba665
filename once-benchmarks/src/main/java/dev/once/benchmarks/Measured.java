package dev.once.benchmarks;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything seen for one scenario: each repetition, the merged latencies and the statement probe.
 */
final class Measured {

  /**
   * One repetition's figures; CPU figures are NaN where they could not be read.
   *
   * @param otherLoad share of the machine's cores that other processes kept busy during the window
   */
  record Rep(
      double opsPerSecond,
      double jvmNanosPerOp,
      double serverNanosPerOp,
      long rowsAtStart,
      long rowsAtEnd,
      double otherLoad) {}

  /**
   * SQL statements and explicit commits per key, counted on a short extra run through a counting
   * pool, and the server's write-ahead log per key over that run (NaN where the server cannot say).
   */
  record Probe(double statementsPerKey, double commitsPerKey, double walBytesPerKey) {}

  final Scenario scenario;
  final List<Rep> reps = new ArrayList<>();
  final Histogram latency = new Histogram();
  long keysAnswered;
  long duplicatesAnswered;

  /** Transactions retried after a deadlock, over every repetition (warm-up included). */
  long retries;

  Probe probe;
  String error;

  Measured(Scenario scenario) {
    this.scenario = scenario;
  }

  boolean ok() {
    return error == null && !reps.isEmpty();
  }

  double medianOps() {
    return Stats.median(reps.stream().mapToDouble(Rep::opsPerSecond).toArray());
  }

  double minOps() {
    return reps.stream().mapToDouble(Rep::opsPerSecond).min().orElse(Double.NaN);
  }

  double maxOps() {
    return reps.stream().mapToDouble(Rep::opsPerSecond).max().orElse(Double.NaN);
  }

  double medianJvmMicros() {
    return Stats.median(reps.stream().mapToDouble(Rep::jvmNanosPerOp).toArray()) / 1000;
  }

  double medianServerMicros() {
    return Stats.median(reps.stream().mapToDouble(Rep::serverNanosPerOp).toArray()) / 1000;
  }

  /** Retried transactions per 1000 keys answered. */
  double retriesPerThousandKeys() {
    return keysAnswered == 0 ? Double.NaN : 1000.0 * retries / keysAnswered;
  }

  double duplicateShare() {
    return keysAnswered == 0 ? Double.NaN : (double) duplicatesAnswered / keysAnswered;
  }
}
