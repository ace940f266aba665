package dev.once.benchmarks;

/**
 * How a variant answered one call: each key counts as new (acquired, inserted), as the duplicate
 * answer the scenario expects (completed, in progress, not inserted), or as anything else, which
 * fails the scenario.
 */
final class Answers {
  int fresh;
  int duplicate;
  int other;
  String firstOther;

  void clear() {
    fresh = 0;
    duplicate = 0;
    other = 0;
    firstOther = null;
  }

  void other(Object answer) {
    other++;
    if (firstOther == null) {
      firstOther = String.valueOf(answer);
    }
  }
}
