package dev.once.benchmarks;

import java.util.Arrays;

/** Median and paired ratios over repetitions. */
final class Stats {
  private Stats() {}

  /** The median of the finite values, NaN when there is none. */
  static double median(double[] values) {
    double[] v = Arrays.stream(values).filter(Double::isFinite).sorted().toArray();
    if (v.length == 0) {
      return Double.NaN;
    }
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  /**
   * {@code median (min–max)} of the finite values, each as {@link Report#num} writes it; {@code
   * n/a} when there is none. The one way the reports write a spread over rounds.
   */
  static String spread(double[] values) {
    double[] v = Arrays.stream(values).filter(Double::isFinite).sorted().toArray();
    if (v.length == 0) {
      return "n/a";
    }
    return Report.num(median(v))
        + " ("
        + Report.num(v[0])
        + "–"
        + Report.num(v[v.length - 1])
        + ")";
  }

  /**
   * Ratios of {@code a} to {@code b} paired by repetition (both ran back to back in the same
   * round), as {median, min, max}; NaNs when either failed.
   */
  static double[] pairedRatio(Measured a, Measured b) {
    if (a == null || b == null || !a.ok() || !b.ok()) {
      return new double[] {Double.NaN, Double.NaN, Double.NaN};
    }
    int n = Math.min(a.reps.size(), b.reps.size());
    double[] r = new double[n];
    for (int i = 0; i < n; i++) {
      r[i] = a.reps.get(i).opsPerSecond() / b.reps.get(i).opsPerSecond();
    }
    return new double[] {
      median(r),
      Arrays.stream(r).min().orElse(Double.NaN),
      Arrays.stream(r).max().orElse(Double.NaN)
    };
  }
}
