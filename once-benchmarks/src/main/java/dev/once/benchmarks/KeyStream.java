package dev.once.benchmarks;

import dev.once.IdempotencyKey;
import dev.once.Scope;
import java.util.ArrayList;
import java.util.List;

/**
 * The keys one client thread sends in one repetition: fresh keys unique to this run, repetition and
 * thread, and duplicates of keys already recorded. Of every 100 consecutive keys exactly {@code
 * dupPercent} are duplicates, so the duplicate ratio is exact, not sampled.
 *
 * <p>Duplicates are drawn round-robin from a pool of {@link #seedKeys() seed keys} that the variant
 * records before the clock starts; the pool holds at least one batch, so a batch never repeats a
 * key (a repeat inside one batch would measure Once's round splitting, not a redelivery).
 */
final class KeyStream {

  static final Scope SCOPE = Scope.of("bench", "consume");

  private final String prefix;
  private final int dupPercent;
  private final List<IdempotencyKey> pool;
  private int poolNext;
  private long position;
  private long freshCount;

  /**
   * @param stream unique to the run, the scenario and the repetition (or probe): keys never collide
   *     across them, even in a table that is not emptied
   */
  KeyStream(String stream, int thread, int dupPercent, int batch) {
    if (dupPercent < 0 || dupPercent > 99) {
      throw new IllegalArgumentException("dupPercent must be in 0..99, but was " + dupPercent);
    }
    this.prefix = stream + "-t" + thread + "-";
    this.dupPercent = dupPercent;
    int poolSize = dupPercent == 0 ? 0 : Math.max(100, batch);
    this.pool = new ArrayList<>(poolSize);
    for (int i = 0; i < poolSize; i++) {
      pool.add(IdempotencyKey.of(SCOPE, prefix + "s" + i));
    }
  }

  /**
   * The keys to record before timing, so that duplicates have something to duplicate; empty at 0%.
   */
  List<IdempotencyKey> seedKeys() {
    return pool;
  }

  /** Fills {@code out} with the next {@code n} keys and answers how many of them are duplicates. */
  int next(int n, List<IdempotencyKey> out) {
    out.clear();
    int dups = 0;
    for (int i = 0; i < n; i++) {
      if (position++ % 100 < dupPercent) {
        out.add(pool.get(poolNext));
        poolNext = (poolNext + 1) % pool.size();
        dups++;
      } else {
        out.add(IdempotencyKey.of(SCOPE, prefix + "f" + freshCount++));
      }
    }
    return dups;
  }
}
