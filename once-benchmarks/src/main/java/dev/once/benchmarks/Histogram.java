package dev.once.benchmarks;

/**
 * Latencies in nanoseconds, log-linear buckets with under 1% error: 128 exact values, then 128
 * buckets per power of two. Not thread-safe; one per thread, merged afterwards.
 */
final class Histogram {

  private static final int SUB = 128;
  private static final int SUB_BITS = 7;
  private final long[] counts = new long[SUB + (64 - SUB_BITS) * SUB];
  private long total;

  void record(long nanos) {
    counts[index(Math.max(0, nanos))]++;
    total++;
  }

  void add(Histogram other) {
    for (int i = 0; i < counts.length; i++) {
      counts[i] += other.counts[i];
    }
    total += other.total;
  }

  long count() {
    return total;
  }

  /** The value at quantile {@code q} (0..1), in nanoseconds; -1 when nothing was recorded. */
  long quantile(double q) {
    if (total == 0) {
      return -1;
    }
    long rank = (long) Math.ceil(q * total);
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= Math.max(1, rank)) {
        return lowerBound(i);
      }
    }
    return lowerBound(counts.length - 1);
  }

  private static int index(long v) {
    if (v < SUB) {
      return (int) v;
    }
    int exponent = 63 - Long.numberOfLeadingZeros(v); // >= SUB_BITS
    int shift = exponent - SUB_BITS;
    int sub = (int) (v >>> shift) & (SUB - 1);
    return SUB + shift * SUB + sub;
  }

  private static long lowerBound(int index) {
    if (index < SUB) {
      return index;
    }
    int shift = (index - SUB) / SUB;
    int sub = (index - SUB) % SUB;
    return (long) (SUB + sub) << shift;
  }
}
