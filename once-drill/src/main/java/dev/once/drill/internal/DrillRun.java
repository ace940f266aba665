package dev.once.drill.internal;

import dev.once.drill.Attempt;
import dev.once.drill.DrillReport;
import dev.once.drill.DrillRequest;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** One run of a drill: the plans carried out, the oracle asked, the checks made. */
public final class DrillRun {

  /** How often a retry after an aborted try is repeated while it gets the in-flight answer. */
  private static final int IN_FLIGHT_RETRIES = 20;

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final Settings settings;
  private final List<Plan> plans;
  private final Queue<Answer> answers = new ConcurrentLinkedQueue<>();
  private final Queue<Future<?>> pending = new ConcurrentLinkedQueue<>();
  private final AtomicInteger done = new AtomicInteger();
  private final int planned;

  /** A run of {@code settings}. */
  public DrillRun(Settings settings) {
    this.settings = settings;
    this.plans = Plan.of(settings);
    this.planned = plans.stream().mapToInt(p -> p.sends(settings.concurrency())).sum();
  }

  /** Carries out every plan within the settings' bounds and returns the verdict. */
  public DrillReport run() {
    Instant startedAt = Instant.now();
    long start = System.nanoTime();
    long deadline = start + settings.maxDuration().toNanos();
    ExecutorService workers = Executors.newFixedThreadPool(settings.workers(), daemon("drill-"));
    ScheduledExecutorService later =
        Executors.newSingleThreadScheduledExecutor(daemon("drill-slow-"));
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    Sender sender =
        new Sender(
            client,
            settings.target(),
            settings.requestTimeout(),
            start,
            settings.replayHeader(),
            settings.replayValue());
    int unfinished = 0;
    try {
      List<Plan> burst = new ArrayList<>();
      for (Plan plan : plans) {
        if (plan.opening() == Plan.Opening.BURST) {
          burst.add(plan);
        }
      }
      if (!burst.isEmpty()) {
        pending.add(workers.submit(() -> burst(sender, burst, workers, later)));
      }
      for (Plan plan : plans) {
        if (plan.opening() != Plan.Opening.BURST) {
          pending.add(
              workers.submit(
                  () -> {
                    open(sender, plan, deadline);
                    follow(sender, plan, later);
                  }));
        }
      }
      unfinished = awaitAll(deadline);
    } finally {
      workers.shutdownNow();
      later.shutdownNow();
    }
    Map<Integer, Object> effects = settings.oracle() == null || unfinished > 0 ? Map.of() : count();
    long elapsed = System.nanoTime() - start;
    List<Answer> all = new ArrayList<>(answers);
    all.sort(java.util.Comparator.comparingDouble(a -> a.attempt().atMillis()));
    return Verdicts.report(
        settings, plans, all, effects, unfinished, startedAt, Duration.ofNanos(elapsed));
  }

  private void burst(
      Sender sender, List<Plan> burst, ExecutorService workers, ScheduledExecutorService later) {
    List<CompletableFuture<Answer>> sent = new ArrayList<>();
    for (Plan plan : burst) {
      sent.add(sender.sendAsync(plan.index(), plan.key(), Attempt.Kind.BURST, plan.request()));
    }
    for (int i = 0; i < burst.size(); i++) {
      record(sent.get(i).join());
      Plan plan = burst.get(i);
      pending.add(workers.submit(() -> follow(sender, plan, later)));
    }
  }

  private void open(Sender sender, Plan plan, long deadline) {
    switch (plan.opening()) {
      case PLAIN, BURST ->
          record(sender.send(plan.index(), plan.key(), Attempt.Kind.FIRST, plan.request()));
      case CONCURRENT -> {
        List<CompletableFuture<Answer>> sent = new ArrayList<>();
        for (int i = 0; i < settings.concurrency(); i++) {
          sent.add(
              sender.sendAsync(plan.index(), plan.key(), Attempt.Kind.CONCURRENT, plan.request()));
        }
        sent.forEach(f -> record(f.join()));
      }
      case ABORTED -> {
        record(sender.sendAborting(plan.index(), plan.key(), plan.request()));
        // The service may still be finishing the request the client left: a real client retries
        // the in-flight answer, and so does the drill.
        for (int i = 0; i < IN_FLIGHT_RETRIES; i++) {
          Answer retry =
              sender.send(plan.index(), plan.key(), Attempt.Kind.RETRY_AFTER_ABORT, plan.request());
          record(retry);
          if (!settings.inFlightStatuses().contains(retry.attempt().status())
              || System.nanoTime() > deadline) {
            break;
          }
          pause(Duration.ofMillis(100L << Math.min(i, 4)));
        }
      }
    }
  }

  private void follow(Sender sender, Plan plan, ScheduledExecutorService later) {
    if (plan.duplicate()) {
      record(sender.send(plan.index(), plan.key(), Attempt.Kind.DUPLICATE, plan.request()));
    }
    if (plan.mismatch()) {
      DrillRequest changed = plan.request().withBody(changed(plan.request().body()));
      record(sender.send(plan.index(), plan.key(), Attempt.Kind.MISMATCH, changed));
    }
    for (long delay : plan.slowRetryDelaysMillis()) {
      pending.add(
          later.schedule(
              // Not awaited on the scheduler's one thread, so retries due together go together;
              // the answer's future joins the pending ones before this task completes.
              () ->
                  pending.add(
                      sender
                          .sendAsync(
                              plan.index(), plan.key(), Attempt.Kind.SLOW_RETRY, plan.request())
                          .thenAccept(this::record)),
              delay,
              TimeUnit.MILLISECONDS));
    }
  }

  /**
   * A body that differs from {@code body} for any fingerprint: a JSON object gains a field, any
   * other body gets a line more.
   */
  static String changed(String body) {
    try {
      JsonNode node = JSON.readTree(body);
      if (node instanceof ObjectNode object) {
        return object.deepCopy().put("drillChanged", true).toString();
      }
    } catch (JacksonException e) {
      // not JSON: changed as text below
    }
    return body + "\ndrill-changed";
  }

  private void record(Answer answer) {
    answers.add(answer);
    settings.progress().update(done.incrementAndGet(), Math.max(planned, done.get()));
  }

  /** Waits for every task, those added while waiting too; returns how many did not finish. */
  private int awaitAll(long deadline) {
    Future<?> f;
    while ((f = pending.poll()) != null) {
      try {
        f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        f.cancel(true);
        int left = 1;
        while ((f = pending.poll()) != null) {
          f.cancel(true);
          left++;
        }
        return left;
      } catch (ExecutionException e) {
        throw new IllegalStateException("the drill failed: " + e.getCause(), e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
    return 0;
  }

  /** Each plan's effect count, or the exception the oracle threw for it. */
  private Map<Integer, Object> count() {
    Map<Integer, Object> effects = new HashMap<>();
    var oracle = java.util.Objects.requireNonNull(settings.oracle());
    for (Plan plan : plans) {
      try {
        effects.put(plan.index(), oracle.count(plan.request(), plan.key()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      } catch (Exception e) {
        effects.put(plan.index(), e);
      }
    }
    return effects;
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
