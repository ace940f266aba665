package dev.once.drill.internal;

import dev.once.drill.Attempt;
import dev.once.drill.Attempt.Kind;
import dev.once.drill.Check;
import dev.once.drill.Check.Status;
import dev.once.drill.DrillReport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/** The checks of a drill, each from the answers it sent. */
final class Verdicts {
  private static final int EXAMPLES = 3;
  private static final Set<Kind> REPEATS =
      EnumSet.of(Kind.DUPLICATE, Kind.SLOW_RETRY, Kind.RETRY_AFTER_ABORT);

  private final Settings settings;
  private final Map<Integer, List<Answer>> byRequest;

  private Verdicts(Settings settings, List<Answer> answers) {
    this.settings = settings;
    this.byRequest =
        answers.stream()
            .collect(Collectors.groupingBy(a -> a.attempt().request(), Collectors.toList()));
  }

  static DrillReport report(
      Settings settings,
      List<Plan> plans,
      List<Answer> answers,
      Map<Integer, Object> effects,
      int unfinished,
      Instant startedAt,
      Duration elapsed) {
    Verdicts v = new Verdicts(settings, answers);
    List<Check> checks = new ArrayList<>();
    checks.add(v.replaysIdentical(plans));
    checks.add(v.replayMarker());
    checks.add(v.inFlight(plans));
    checks.add(v.no5xx(answers));
    checks.add(v.mismatchesRefused(answers));
    checks.add(v.distinctKeys(answers));
    checks.add(effects(settings, plans, effects, unfinished));
    checks.add(v.latency(answers));
    checks.add(bounds(settings, unfinished, answers.size()));
    dev.once.drill.Oracle oracle = settings.oracle();
    return new DrillReport(
        settings.target().toString(),
        settings.runId(),
        settings.seed(),
        plans.size(),
        oracle == null ? null : oracle.describe(),
        startedAt,
        elapsed,
        checks,
        answers.stream().map(Answer::attempt).collect(Collectors.toUnmodifiableList()));
  }

  /** The answer the request's repetitions should repeat, if its opening got one. */
  private @Nullable Answer reference(Plan plan) {
    List<Answer> mine = byRequest.getOrDefault(plan.index(), List.of());
    Answer fallback = null;
    for (Answer a : mine) {
      Attempt t = a.attempt();
      boolean complete = t.status() > 0 && !inFlight(t.status());
      switch (plan.opening()) {
        case PLAIN, BURST -> {
          if (t.kind() == Kind.FIRST || t.kind() == Kind.BURST) {
            return t.status() > 0 ? a : null;
          }
        }
        case CONCURRENT -> {
          if (t.kind() == Kind.CONCURRENT && complete) {
            if (!t.replayed()) {
              return a;
            }
            fallback = fallback == null ? a : fallback;
          }
        }
        case ABORTED -> {
          if (t.kind() == Kind.RETRY_AFTER_ABORT && complete) {
            return a;
          }
        }
      }
    }
    return fallback;
  }

  private Check replaysIdentical(List<Plan> plans) {
    Tally tally = new Tally();
    for (Plan plan : plans) {
      Answer ref = reference(plan);
      for (Answer a : byRequest.getOrDefault(plan.index(), List.of())) {
        Attempt t = a.attempt();
        if (t.kind() == Kind.RETRY_AFTER_ABORT && t.status() > 0 && !inFlight(t.status())) {
          int abandoned = abortedStatus(plan.index());
          tally.add(
              abandoned <= 0 || t.status() == abandoned,
              t,
              "the retry answered " + t.status() + ", the abandoned try " + abandoned);
        } else if ((t.kind() == Kind.DUPLICATE || t.kind() == Kind.SLOW_RETRY)
            && t.status() > 0
            && !inFlight(t.status())) {
          if (ref == null) {
            tally.add(false, t, "its first try got no answer to compare with");
          } else {
            tally.add(
                a.sameAs(ref),
                t,
                "answered "
                    + t.status()
                    + (t.status() == ref.attempt().status()
                        ? " with another body than "
                        : " after ")
                    + "the first "
                    + ref.attempt().status());
          }
        }
      }
    }
    return tally.check(
        "replays-identical",
        "identical status + body on replays",
        tally.total() + " repetitions compared with the first answer");
  }

  private Check replayMarker() {
    Tally tally = new Tally();
    byRequest.values().stream()
        .flatMap(List::stream)
        .map(Answer::attempt)
        .filter(t -> REPEATS.contains(t.kind()) && t.status() > 0 && !inFlight(t.status()))
        .forEach(
            t ->
                tally.add(
                    t.replayed(),
                    t,
                    "answered "
                        + t.status()
                        + " without "
                        + settings.replayHeader()
                        + ": "
                        + settings.replayValue()));
    return tally.check(
        "replay-marker",
        "replay marker present (" + settings.replayHeader() + ")",
        "on " + tally.total() + " repetitions");
  }

  private Check inFlight(List<Plan> plans) {
    Tally tally = new Tally();
    for (Plan plan : plans) {
      if (plan.opening() != Plan.Opening.CONCURRENT) {
        continue;
      }
      List<Answer> group =
          byRequest.getOrDefault(plan.index(), List.of()).stream()
              .filter(a -> a.attempt().kind() == Kind.CONCURRENT)
              .toList();
      Answer ref = reference(plan);
      long executions =
          group.stream()
              .map(Answer::attempt)
              .filter(t -> t.status() > 0 && !inFlight(t.status()) && !t.replayed())
              .count();
      boolean allAnswered = group.stream().allMatch(a -> a.attempt().status() > 0);
      boolean othersRepeat =
          ref != null
              && group.stream()
                  .filter(a -> !inFlight(a.attempt().status()))
                  .allMatch(a -> a.sameAs(ref));
      String statuses =
          group.stream()
              .map(a -> a.attempt().status() + (a.attempt().replayed() ? "r" : ""))
              .collect(Collectors.joining(","));
      tally.add(
          allAnswered && executions <= 1 && othersRepeat,
          group.isEmpty() ? null : group.get(0).attempt(),
          group.size()
              + " at once answered ["
              + statuses
              + "]: "
              + executions
              + " executed (r = replay)");
    }
    return tally.check(
        "in-flight",
        "in-flight answers are " + statuses(settings.inFlightStatuses()) + " or a replay",
        tally.total() + " keys sent " + settings.concurrency() + " at once");
  }

  private Check no5xx(List<Answer> answers) {
    Tally tally = new Tally();
    for (Answer a : answers) {
      Attempt t = a.attempt();
      tally.add(
          t.status() > 0 && t.status() < 500,
          t,
          t.status() > 0 ? "answered " + t.status() : "no answer: " + t.error());
    }
    // The statuses seen, so a drill that only met 401s or 404s (wrong credentials, wrong path) says
    // so.
    String seen =
        answers.stream()
            .collect(
                Collectors.groupingBy(
                    a -> a.attempt().status(), java.util.TreeMap::new, Collectors.counting()))
            .entrySet()
            .stream()
            .map(e -> (e.getKey() == 0 ? "none" : e.getKey()) + "×" + e.getValue())
            .collect(Collectors.joining(", "));
    return tally.check(
        "no-5xx", "no 5xx, every request answered", answers.size() + " answers: " + seen);
  }

  private Check mismatchesRefused(List<Answer> answers) {
    Tally tally = new Tally();
    for (Answer a : answers) {
      Attempt t = a.attempt();
      if (t.kind() == Kind.MISMATCH) {
        tally.add(
            settings.mismatchStatuses().contains(t.status()),
            t,
            "a changed body with the key answered " + t.status());
      }
    }
    return tally.check(
        "mismatch-refused",
        "mismatches refused (" + statuses(settings.mismatchStatuses()) + ")",
        tally.total() + " keys sent again with another body");
  }

  private Check distinctKeys(List<Answer> answers) {
    Tally tally = new Tally();
    for (Answer a : answers) {
      Attempt t = a.attempt();
      if (t.kind() == Kind.BURST) {
        tally.add(
            t.status() > 0 && !inFlight(t.status()), t, "a distinct key answered " + t.status());
      }
    }
    return tally.check(
        "distinct-keys",
        "a burst of distinct keys is not serialised",
        tally.total() + " first tries sent at once");
  }

  private static Check effects(
      Settings settings, List<Plan> plans, Map<Integer, Object> effects, int unfinished) {
    String id = "effects-exactly-once";
    String title = "effects exactly once";
    if (settings.oracle() == null) {
      return new Check(id, title, Status.SKIPPED, 0, 0, "no oracle given");
    }
    if (unfinished > 0) {
      return new Check(
          id, title, Status.FAIL, 0, plans.size(), "not counted: the drill ran out of time");
    }
    Tally tally = new Tally();
    for (Plan plan : plans) {
      Object count = effects.get(plan.index());
      tally.addRequest(
          count instanceof Long n && n == 1,
          plan.index(),
          plan.key(),
          count instanceof Exception e
              ? "the oracle failed: " + e
              : "took effect " + count + " times");
    }
    return tally.check(id, title, plans.size() + " requests counted");
  }

  private Check latency(List<Answer> answers) {
    double[] first =
        answers.stream()
            .map(Answer::attempt)
            .filter(t -> (t.kind() == Kind.FIRST || t.kind() == Kind.BURST) && t.status() > 0)
            .mapToDouble(Attempt::latencyMillis)
            .sorted()
            .toArray();
    double[] replays =
        answers.stream()
            .map(Answer::attempt)
            .filter(t -> REPEATS.contains(t.kind()) && t.replayed())
            .mapToDouble(Attempt::latencyMillis)
            .sorted()
            .toArray();
    String detail =
        "first tries p50 "
            + ms(percentile(first, 50))
            + " p95 "
            + ms(percentile(first, 95))
            + " (n="
            + first.length
            + "); replays p50 "
            + ms(percentile(replays, 50))
            + " p95 "
            + ms(percentile(replays, 95))
            + " (n="
            + replays.length
            + ")";
    String id = "replay-latency";
    String title = "latency of replays vs first tries";
    Double max = settings.maxReplaySlowdown();
    if (max == null || first.length == 0 || replays.length == 0) {
      return new Check(id, title, Status.INFO, 0, 0, detail);
    }
    boolean ok = percentile(replays, 50) <= max * percentile(first, 50);
    return new Check(
        id,
        title,
        ok ? Status.PASS : Status.FAIL,
        ok ? 1 : 0,
        ok ? 0 : 1,
        detail + "; allowed: replay p50 up to " + max + " × the first tries'");
  }

  private static Check bounds(Settings settings, int unfinished, int sent) {
    return new Check(
        "within-bounds",
        "finished within " + settings.maxDuration(),
        unfinished == 0 ? Status.PASS : Status.FAIL,
        unfinished == 0 ? 1 : 0,
        unfinished == 0 ? 0 : 1,
        sent + " requests sent" + (unfinished == 0 ? "" : "; " + unfinished + " tasks cut off"));
  }

  private boolean inFlight(int status) {
    return settings.inFlightStatuses().contains(status);
  }

  private int abortedStatus(int request) {
    return byRequest.getOrDefault(request, List.of()).stream()
        .map(Answer::attempt)
        .filter(t -> t.kind() == Kind.ABORTED)
        .mapToInt(Attempt::status)
        .findFirst()
        .orElse(0);
  }

  private static String statuses(Set<Integer> statuses) {
    return statuses.stream().sorted().map(String::valueOf).collect(Collectors.joining("/"));
  }

  static double percentile(double[] sorted, int p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  private static String ms(double millis) {
    return Double.isNaN(millis) ? "-" : String.format(Locale.ROOT, "%.1f ms", millis);
  }

  /** Passes and failures of one check, with the first few failures described. */
  private static final class Tally {
    private int passed;
    private int failed;
    private final List<String> examples = new ArrayList<>();

    void add(boolean ok, @Nullable Attempt t, String failure) {
      if (t == null) {
        addRequest(ok, 0, "?", failure);
      } else {
        addRequest(
            ok, t.request(), t.key(), t.kind().name().toLowerCase(Locale.ROOT) + " " + failure);
      }
    }

    void addRequest(boolean ok, int request, String key, String failure) {
      if (ok) {
        passed++;
        return;
      }
      failed++;
      if (examples.size() < EXAMPLES) {
        examples.add("request " + request + " (key " + key + "): " + failure);
      }
    }

    int total() {
      return passed + failed;
    }

    Check check(String id, String title, String summary) {
      if (total() == 0) {
        return new Check(id, title, Status.SKIPPED, 0, 0, "not exercised");
      }
      String detail =
          failed == 0
              ? summary
              : summary + "; " + String.join("; ", examples) + (failed > EXAMPLES ? "; ..." : "");
      return new Check(id, title, failed == 0 ? Status.PASS : Status.FAIL, passed, failed, detail);
    }
  }
}
