package dev.once.benchmarks;

import dev.once.testkit.servers.TestServers;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * Measures every store's claim against its own ceiling and against the peers, on this machine, in
 * one run, and writes the Markdown report (by default {@code docs/benchmarks.md}, from the
 * repository root).
 *
 * <pre>
 * mvn -B -q -pl once-benchmarks -am package -DskipTests &amp;&amp; java -jar once-benchmarks/target/once-benchmarks.jar
 *
 * Options:
 *   --quick          about a minute and a half: 20% duplicates only, growth up to 100k keys; writes
 *                    once-benchmarks/target/benchmarks-quick.md unless --out is given
 *   --out FILE       where the report goes
 *   --only a,b       only these stores: memory, h2, mariadb, postgresql, redis; and/or "kafka": the Kafka inbox
 *                    against a plain consumer and Camel's idempotent repository (a few minutes; {@link KafkaBench}),
 *                    which writes docs/benchmarks-kafka.md (--quick: once-benchmarks/target/benchmarks-kafka-quick.md);
 *                    and/or "outbox": the outbox's write path, relay throughput and commit-to-publish latency
 *                    ({@link OutboxBench}), which writes docs/benchmarks-outbox.md; and/or "nats": the NATS
 *                    JetStream inbox against a plain pull consumer ({@link NatsBench}), which writes
 *                    docs/benchmarks-nats.md; and/or "sqs": the SQS inbox against a plain SQS consumer on
 *                    ElasticMQ ({@link SqsBench}), which writes docs/benchmarks-sqs.md; and/or "purge": the
 *                    plain records table against the partitioned one on PostgreSQL, claims/s while purging and
 *                    size after simulated days ({@link PurgeBench}), printed to standard output
 * </pre>
 *
 * The servers come from the test kit: the local PostgreSQL and MariaDB when they answer ({@code
 * ONCE_TEST_POSTGRES_URL}, {@code ONCE_TEST_MARIADB_URL}, ...), embedded ones otherwise.
 */
public final class Benchmarks {

  /** The command the report names as the one that produced it. */
  static final String COMMAND =
      "mvn -B -q -pl once-benchmarks -am package -DskipTests && java -jar once-benchmarks/target/once-benchmarks.jar";

  static final List<String> ALL_STORES = List.of("memory", "h2", "mariadb", "postgresql", "redis");

  private Benchmarks() {}

  public static void main(String[] args) throws Exception {
    boolean quick = false;
    Path out = null;
    List<String> only = ALL_STORES;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> quick = true;
        case "--out" -> out = Path.of(value(args, ++i, "--out"));
        case "--only" ->
            only = Arrays.asList(value(args, ++i, "--only").toLowerCase(Locale.ROOT).split(","));
        case "--help", "-h" -> {
          System.out.println(
              "usage: java -jar once-benchmarks.jar [--quick] [--out FILE] [--only "
                  + String.join(",", ALL_STORES)
                  + ","
                  + String.join(",", suiteNames())
                  + "]");
          return;
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i] + "; try --help");
      }
    }
    List<String> requested = only;
    List<Suite> suites = SUITES.stream().filter(s -> requested.contains(s.name())).toList();
    only = only.stream().filter(s -> !suiteNames().contains(s)).toList();
    for (String store : only) {
      if (!ALL_STORES.contains(store)) {
        throw new IllegalArgumentException(
            "unknown store '" + store + "'; known: " + ALL_STORES + " and " + suiteNames());
      }
    }
    String thisRun =
        "java -jar once-benchmarks/target/once-benchmarks.jar"
            + (args.length == 0 ? "" : " " + String.join(" ", args));
    for (Suite suite : suites) {
      String text = suite.run().report(quick, thisRun);
      if (suite.report() == null) {
        System.out.print(text);
        continue;
      }
      Path suiteOut =
          only.isEmpty() && suites.size() == 1 && out != null
              ? out
              : quick ? quickOut(suite.report() + "-quick.md") : docs(suite.report() + ".md");
      write(suiteOut, text);
    }
    if (only.isEmpty()) {
      // The brokers' client threads are not daemons.
      System.exit(0);
    }
    if (out == null) {
      out = quick ? quickOut("benchmarks-quick.md") : docs("benchmarks.md");
    }
    Settings settings = quick ? Settings.quick(out) : Settings.full(out);
    String report = run(settings, only, thisRun);
    write(out, report);
    System.exit(report.contains(Report.FAILED) ? 1 : 0);
  }

  /** The name {@code --only} takes for the Kafka scenario. */
  static final String KAFKA = "kafka";

  /** The name {@code --only} takes for the outbox scenario. */
  static final String OUTBOX = "outbox";

  /** The name {@code --only} takes for the NATS inbox scenario. */
  static final String NATS = "nats";

  /** The name {@code --only} takes for the SQS inbox scenario. */
  static final String SQS = "sqs";

  /**
   * The name {@code --only} takes for the purge scenario: the plain records table against the
   * partitioned one on PostgreSQL ({@link PurgeBench}), printed to standard output.
   */
  static final String PURGE = "purge";

  /**
   * The name {@code --only} takes for the HTTP layer: the payments example's jar with the layer off
   * and on, per store, with a Java client and wrk ({@link HttpBench}).
   */
  static final String HTTP = "http";

  /** Runs a scenario and renders its report. */
  @FunctionalInterface
  private interface SuiteRun {
    String report(boolean quick, String thisRun) throws Exception;
  }

  /**
   * A scenario {@code --only} names besides the stores, and the report file it writes under docs/
   * ({@code null}: printed, not written).
   */
  private record Suite(String name, @Nullable String report, SuiteRun run) {}

  private static final List<Suite> SUITES =
      List.of(
          new Suite(
              KAFKA,
              "benchmarks-kafka",
              (quick, thisRun) ->
                  KafkaReport.render(
                      KafkaBench.run(
                          quick ? KafkaBench.Config.quickRun() : KafkaBench.Config.fullRun()),
                      thisRun)),
          new Suite(
              OUTBOX,
              "benchmarks-outbox",
              (quick, thisRun) ->
                  OutboxReport.render(
                      OutboxBench.run(
                          quick ? OutboxBench.Config.quickRun() : OutboxBench.Config.fullRun()),
                      thisRun)),
          new Suite(
              NATS,
              "benchmarks-nats",
              (quick, thisRun) ->
                  NatsBench.render(
                      NatsBench.run(
                          quick ? NatsBench.Config.quickRun() : NatsBench.Config.fullRun()),
                      thisRun)),
          new Suite(
              SQS,
              "benchmarks-sqs",
              (quick, thisRun) ->
                  SqsBench.render(
                      SqsBench.run(quick ? SqsBench.Config.quickRun() : SqsBench.Config.fullRun()),
                      thisRun)),
          new Suite(
              HTTP,
              "benchmarks-http",
              (quick, thisRun) ->
                  HttpBench.render(
                      HttpBench.run(
                          quick ? HttpBench.Config.quickRun() : HttpBench.Config.fullRun()),
                      thisRun)),
          // Printed, not written to docs: a comparison of two table layouts, not of Once and its
          // peers.
          new Suite(
              PURGE,
              null,
              (quick, thisRun) ->
                  PurgeBench.run(quick ? PurgeBench.Config.quickRun() : PurgeBench.Config.fullRun())
                      .report()));

  private static List<String> suiteNames() {
    return SUITES.stream().map(Suite::name).toList();
  }

  private static Path quickOut(String name) {
    Path target = Path.of("once-benchmarks", "target");
    return Files.isDirectory(target) ? target.resolve(name) : Path.of(name);
  }

  private static Path docs(String name) {
    Path out = Path.of("docs", name);
    if (!Files.isDirectory(out.getParent())) {
      throw new IllegalStateException(
          "run from the repository root (no docs/ folder here), or give --out FILE");
    }
    return out;
  }

  private static void write(Path out, String report) throws IOException {
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, report, StandardCharsets.UTF_8);
    System.out.println("\nwrote " + out.toAbsolutePath());
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }

  /** Runs the stores named in {@code only} and answers the Markdown report. */
  static String run(Settings settings, List<String> only, String thisRun) throws Exception {
    Instant started = Instant.now();
    long t0 = System.nanoTime();
    String runId = HexFormat.of().formatHex(randomBytes());
    Harness harness = new Harness(settings, runId);
    Report.Run run = new Report.Run(settings, started, thisRun);

    for (String name : only) {
      Target target;
      try {
        target = open(name, settings.threads());
      } catch (Exception | LinkageError e) {
        run.unavailable.put(name, Harness.describe(e));
        System.out.println("[once-benchmarks] " + name + " unavailable: " + Harness.describe(e));
        continue;
      }
      try (target) {
        ProcCpu.Source cpu = target.serverCpu();
        run.stores.add(
            new Report.StoreInfo(
                target.name(),
                target.where(),
                target.version(),
                target.settings(),
                cpu.available() ? cpu.description() : null,
                cpu.available() ? null : cpu.description()));
        for (int dup : settings.dupPercents()) {
          List<Scenario> scenarios = scenarios(target, dup);
          run.results.addAll(
              harness.run(
                  target.name() + ", " + dup + "% duplicates", scenarios, cpu, target::walBytes));
        }
        if (target instanceof PostgresTarget pg && !settings.growthRows().isEmpty()) {
          long[] loadMillis = new long[settings.growthRows().size()];
          List<Scenario> growth = pg.growthScenarios(settings.growthRows(), loadMillis);
          run.growthLoadMillis = loadMillis;
          run.growth.addAll(harness.run("PostgreSQL, table growth", growth, cpu, target::walBytes));
        }
      }
    }
    run.elapsedNanos = System.nanoTime() - t0;
    return Report.render(run);
  }

  /**
   * Per batch size: the ceiling, Once's claim and Once's cycle; then the store's extra scenarios
   * (peers).
   */
  static List<Scenario> scenarios(Target target, int dup) {
    List<Scenario> out = new ArrayList<>();
    for (int batch : new int[] {1, 100, 1000}) {
      Scenario.Factory ceiling = target.ceiling(batch);
      if (ceiling != null) {
        out.add(
            new Scenario(
                target.name(),
                Scenario.Kind.CEILING,
                target.ceilingLabel(batch),
                batch,
                dup,
                target.dataSource(),
                ceiling));
      }
      Scenario.Factory claim = target.onceClaim(batch);
      if (claim != null) {
        out.add(
            new Scenario(
                target.name(),
                Scenario.Kind.ONCE_CLAIM,
                batch == 1 ? "Once claim" : "Once claimAll",
                batch,
                dup,
                target.dataSource(),
                claim));
      }
      out.add(
          new Scenario(
              target.name(),
              Scenario.Kind.ONCE_CYCLE,
              target.cycleLabel(batch),
              batch,
              dup,
              target.dataSource(),
              target.onceCycle(batch)));
    }
    out.addAll(target.extraScenarios(dup));
    return out;
  }

  /**
   * Opens one store. To add one (Redis, say), add its {@link Target} here and its name to {@link
   * #ALL_STORES}.
   */
  static Target open(String name, int threads) throws Exception {
    return switch (name) {
      case "memory" -> new MemoryTarget();
      case "h2" -> H2Target.open(threads);
      case "mariadb" -> new MariaDbTarget(TestServers.mariadb(), threads);
      case "postgresql" -> PostgresTarget.open(TestServers.postgres(), threads);
      case "redis" -> new RedisTarget(TestServers.redis());
      default -> throw new IllegalArgumentException("unknown store " + name);
    };
  }

  static boolean isLoopback(String host) {
    try {
      return host.equalsIgnoreCase("localhost") || InetAddress.getByName(host).isLoopbackAddress();
    } catch (IOException e) {
      return false;
    }
  }

  static String onceVersion() {
    try (InputStream in =
        Benchmarks.class
            .getClassLoader()
            .getResourceAsStream("META-INF/maven/dev.once/once-core/pom.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        return p.getProperty("version", "unknown");
      }
    } catch (IOException e) {
      // fall through
    }
    return "unknown";
  }

  private static byte[] randomBytes() {
    byte[] b = new byte[4];
    ThreadLocalRandom.current().nextBytes(b);
    return b;
  }

  /** Machine facts for the report, from /proc and the JVM. */
  static Map<String, String> machine() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("cores (nproc)", String.valueOf(Runtime.getRuntime().availableProcessors()));
    m.put("CPU", firstMatch(Path.of("/proc/cpuinfo"), "model name"));
    String mem = firstMatch(Path.of("/proc/meminfo"), "MemTotal");
    if (!mem.equals("unknown")) {
      mem =
          String.format(
              Locale.ROOT,
              "%.1f GiB",
              Long.parseLong(mem.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0);
    }
    m.put("memory", mem);
    m.put(
        "OS",
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " ("
            + System.getProperty("os.arch")
            + ")");
    m.put(
        "JDK",
        System.getProperty("java.vm.name")
            + " "
            + System.getProperty("java.runtime.version")
            + ", max heap "
            + Runtime.getRuntime().maxMemory() / (1024 * 1024)
            + " MiB");
    return m;
  }

  private static String firstMatch(Path file, String key) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(key)) {
          return line.substring(line.indexOf(':') + 1).strip();
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return "unknown";
  }

  /** {@code git describe} of the working tree, or null outside a repository. */
  static String gitRevision() {
    try {
      Process p =
          new ProcessBuilder("git", "describe", "--always", "--dirty")
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      return p.waitFor() == 0 && !out.isEmpty() ? out : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
