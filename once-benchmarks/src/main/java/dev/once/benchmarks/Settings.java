package dev.once.benchmarks;

import java.nio.file.Path;
import java.util.List;

/**
 * How long and how much to measure.
 *
 * @param warmupMillis per scenario and repetition, before the clock starts
 * @param measureMillis per scenario and repetition, the measured window
 * @param repetitions interleaved repetitions of every scenario of a group (A B C A B C ...)
 * @param threads client threads
 * @param dupPercents the duplicate ratios, in percent
 * @param growthRows existing keys for the table-growth scenarios
 * @param out where the Markdown report goes
 * @param quick a short run that proves the harness, not one to publish
 */
record Settings(
    long warmupMillis,
    long measureMillis,
    int repetitions,
    int threads,
    List<Integer> dupPercents,
    List<Integer> growthRows,
    Path out,
    boolean quick) {

  static Settings full(Path out) {
    return new Settings(
        300, 1000, 3, 2, List.of(0, 20, 99), List.of(0, 100_000, 1_000_000), out, false);
  }

  static Settings quick(Path out) {
    return new Settings(150, 250, 3, 2, List.of(20), List.of(0, 100_000), out, true);
  }
}
