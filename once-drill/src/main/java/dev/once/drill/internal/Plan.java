package dev.once.drill.internal;

import dev.once.drill.DrillRequest;
import dev.once.drill.Injection;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * What the drill does with one logical request: how it opens (one try, N at once, an aborted try,
 * or in the burst) and what follows its answer.
 *
 * @param index the request's number, from 1
 * @param request the request with its key header set
 * @param key its key
 * @param opening how the first try goes
 * @param duplicate whether an exact duplicate follows
 * @param mismatch whether the key is sent again with a changed body
 * @param slowRetryDelaysMillis when the slow retries go, after the first answer
 */
public record Plan(
    int index,
    DrillRequest request,
    String key,
    Opening opening,
    boolean duplicate,
    boolean mismatch,
    List<Long> slowRetryDelaysMillis) {

  /** How a request's first try goes. */
  public enum Opening {
    /** One try. */
    PLAIN,
    /** N tries at once. */
    CONCURRENT,
    /** A try abandoned after the status line, then a retry. */
    ABORTED,
    /** One try, at once with the other burst requests. */
    BURST
  }

  /** {@return how many sends this plan makes, without the retries of a 409} */
  public int sends(int concurrency) {
    int opening =
        switch (opening()) {
          case PLAIN, BURST -> 1;
          case CONCURRENT -> concurrency;
          case ABORTED -> 2;
        };
    return opening + (duplicate ? 1 : 0) + (mismatch ? 1 : 0) + slowRetryDelaysMillis.size();
  }

  /**
   * Plans every request. Each injection goes to {@code ceil(fraction × n)} requests chosen with the
   * seed; the openings exclude each other (burst first, then concurrent, then aborted), the
   * follow-ups do not. Mismatches go only to requests with a body to change.
   */
  public static List<Plan> of(Settings s) {
    List<DrillRequest> requests = s.requests();
    int n = requests.size();
    Random random = new Random(s.seed());
    Opening[] openings = new Opening[n];
    java.util.Arrays.fill(openings, Opening.PLAIN);
    List<Integer> free = shuffled(n, random);
    assign(openings, free, count(s, Injection.BURST, n), Opening.BURST);
    assign(openings, free, count(s, Injection.CONCURRENT, n), Opening.CONCURRENT);
    assign(openings, free, count(s, Injection.ABORTED, n), Opening.ABORTED);
    boolean[] duplicate = chosen(n, count(s, Injection.DUPLICATE, n), random, i -> true);
    boolean[] mismatch =
        chosen(n, count(s, Injection.MISMATCH, n), random, i -> !requests.get(i).body().isEmpty());
    boolean[] slow = chosen(n, count(s, Injection.SLOW_RETRY, n), random, i -> true);
    SplittableRandom delays = new SplittableRandom(s.seed());
    long window = Math.max(1, s.slowWindow().toMillis());
    List<Plan> plans = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String key = s.runId() + "-" + (i + 1);
      DrillRequest request = requests.get(i);
      if (request.header(s.keyHeader()).isPresent()) {
        key = request.header(s.keyHeader()).orElseThrow();
      } else {
        request = request.withHeader(s.keyHeader(), key);
      }
      List<Long> slowDelays = new ArrayList<>();
      if (slow[i]) {
        for (int r = 0; r < s.slowRetries(); r++) {
          slowDelays.add(delays.nextLong(window));
        }
        Collections.sort(slowDelays);
      }
      plans.add(
          new Plan(
              i + 1,
              request,
              key,
              openings[i],
              duplicate[i],
              mismatch[i],
              List.copyOf(slowDelays)));
    }
    return List.copyOf(plans);
  }

  private static int count(Settings s, Injection injection, int n) {
    return (int) Math.ceil(s.fraction(injection) * n);
  }

  private static List<Integer> shuffled(int n, Random random) {
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(i);
    }
    Collections.shuffle(all, random);
    return all;
  }

  private static void assign(Opening[] openings, List<Integer> free, int count, Opening opening) {
    for (int k = 0; k < count && !free.isEmpty(); k++) {
      openings[free.remove(free.size() - 1)] = opening;
    }
  }

  private static boolean[] chosen(
      int n, int count, Random random, java.util.function.IntPredicate eligible) {
    boolean[] chosen = new boolean[n];
    int taken = 0;
    for (int i : shuffled(n, random)) {
      if (taken == count) {
        break;
      }
      if (eligible.test(i)) {
        chosen[i] = true;
        taken++;
      }
    }
    return chosen;
  }
}
