package dev.once.benchmarks;

import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What the Idempotency-Key layer costs over HTTP, measured the way a user would: the payments
 * example's own jar ({@code java -jar once-payments.jar}, the README's demo command) started as
 * separate processes with the layer off ({@code once.http.enabled=false}) and on, per store, and
 * {@code POST /payments} sent by a Java client and by {@code wrk} with the Lua script in {@code
 * bench/wrk/payments.lua}. Writes {@code docs/benchmarks-http.md}.
 *
 * <p>Scenarios: the layer off; a fresh key per request (claim, charge, store the response); a
 * replay of a completed key (claim, send the stored response; the charge does not run); a key held
 * in flight by a request still running (answers 409) on a third process whose card processor takes
 * ten minutes. Per store, every round runs each scenario once with each client, interleaved.
 */
final class HttpBench {

  /** The command the report names. */
  static final String COMMAND =
      "mvn -B -q -DskipTests package"
          + " && java -jar once-benchmarks/target/once-benchmarks.jar --only http";

  private static final String AUTH =
      "Basic " + Base64.getEncoder().encodeToString("alice:alice".getBytes(StandardCharsets.UTF_8));
  private static final String BODY =
      "{\"customerId\":\"cus_bench\",\"amountCents\":1250,\"currency\":\"EUR\"}";
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  /**
   * What to run.
   *
   * @param requests requests per Java-client run
   * @param clients concurrent clients (Java threads; wrk connections)
   * @param rounds measured rounds per store, after one warm-up round
   * @param wrkSeconds the length of each wrk run
   * @param stores which stores: sqlite, postgres, redis, memory
   */
  record Config(int requests, int clients, int rounds, int wrkSeconds, List<String> stores) {
    static Config fullRun() {
      return new Config(4000, 8, 3, 5, List.of("sqlite", "postgres", "redis", "memory"));
    }

    static Config quickRun() {
      return new Config(400, 4, 1, 1, List.of("sqlite", "memory"));
    }
  }

  /** The four things a request can meet. */
  enum Scenario {
    OFF("layer off", 201),
    FRESH("fresh key", 201),
    REPLAY("replay", 201),
    CONFLICT("in-flight conflict", 409);

    final String label;
    final int status;

    Scenario(String label, int status) {
      this.label = label;
      this.status = status;
    }
  }

  /**
   * One measured run.
   *
   * @param client {@code java} or {@code wrk}
   * @param perSecond requests per second
   * @param p50 median latency, ms
   * @param p99 99th percentile latency, ms
   * @param unexpected answers other than the scenario's status (or failed requests)
   * @param serverCpuMicros the server process's CPU per request, µs (negative: not measured)
   */
  record Rep(
      String store,
      Scenario scenario,
      String client,
      int round,
      double perSecond,
      double p50,
      double p99,
      long unexpected,
      double serverCpuMicros) {}

  static final class Result {
    final Instant started = Instant.now();
    long elapsedNanos;
    String loadBefore = "";
    String loadAfter = "";
    @Nullable String wrkVersion;
    final List<Rep> reps = new ArrayList<>();
    final Map<String, String> storeNotes = new LinkedHashMap<>();
    Config config;

    Result(Config config) {
      this.config = config;
    }
  }

  private HttpBench() {}

  static Result run(Config config)
      throws IOException,
          InterruptedException,
          java.sql.SQLException,
          java.util.concurrent.ExecutionException {
    Result result = new Result(config);
    result.loadBefore = KafkaBench.loadAverage();
    long t0 = System.nanoTime();
    Path jar = find("examples/payments/target/once-payments.jar");
    Path lua = find("bench/wrk/payments.lua");
    result.wrkVersion = wrkVersion();
    for (String store : config.stores()) {
      measureStore(store, config, jar, lua, result);
    }
    result.elapsedNanos = System.nanoTime() - t0;
    result.loadAfter = KafkaBench.loadAverage();
    return result;
  }

  /** A file of the repository, from its root or from a module directory. */
  private static Path find(String path) {
    for (Path p : List.of(Path.of(path), Path.of("..").resolve(path))) {
      if (Files.exists(p)) {
        return p.toAbsolutePath().normalize();
      }
    }
    throw new IllegalStateException(
        path + " not found: run from the repository's root, after `mvn -B -q -DskipTests package`");
  }

  private static @Nullable String wrkVersion() {
    try {
      Process p = new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(10, TimeUnit.SECONDS);
      Matcher m = Pattern.compile("wrk (\\S+)").matcher(out);
      return m.find() ? m.group(1) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static void measureStore(String store, Config config, Path jar, Path lua, Result result)
      throws IOException,
          InterruptedException,
          java.sql.SQLException,
          java.util.concurrent.ExecutionException {
    Map<String, String> props = new LinkedHashMap<>();
    String schema = null;
    String redisPrefix = "http-bench-" + UUID.randomUUID() + ":";
    switch (store) {
      case "sqlite" ->
          result.storeNotes.put(
              store,
              "the demo's embedded default: a SQLite file (WAL, synchronous=FULL) per process;"
                  + " atomic mode. No in-flight conflict: SQLite has one writer at a time, so a"
                  + " duplicate of a request in flight waits for it and replays instead of 409");
      case "postgres" -> {
        TestDatabase db = TestServers.postgres();
        schema = "http_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = db.connect();
            Statement s = c.createStatement()) {
          s.execute("CREATE SCHEMA " + schema);
        }
        props.put(
            "spring.datasource.url",
            db.jdbcUrl() + (db.jdbcUrl().contains("?") ? "&" : "?") + "currentSchema=" + schema);
        props.put("spring.datasource.username", db.user());
        props.put("spring.datasource.password", db.password());
        result.storeNotes.put(
            store, db.description() + "; the payments and the keys in it; atomic mode");
      }
      case "redis" -> {
        props.put("once.store", "redis");
        props.put("once.redis.url", TestServers.redis().uri());
        props.put("once.redis.key-prefix", redisPrefix);
        result.storeNotes.put(
            store,
            "keys in Redis (" + TestServers.redis().uri() + "), payments in SQLite; lease mode");
      }
      case "memory" -> {
        props.put("once.store", "memory");
        result.storeNotes.put(
            store, "keys in the service's memory, payments in SQLite; lease mode");
      }
      default ->
          throw new IllegalArgumentException(
              "unknown store " + store + "; use sqlite, postgres, redis or memory");
    }
    boolean conflicts = !store.equals("sqlite");
    try (Service off = Service.start(jar, props, false, Duration.ZERO);
        Service on = Service.start(jar, props, true, Duration.ZERO);
        Service slow =
            conflicts ? Service.start(jar, holding(props), true, Duration.ofMinutes(10)) : null) {
      off.awaitReady();
      on.awaitReady();
      if (slow != null) {
        slow.awaitReady();
      }
      // Completed keys to replay, more than there are clients, so concurrent replays are of
      // different keys (as retries of different requests are).
      String replayPrefix = "replay-" + UUID.randomUUID();
      int replayKeys = config.clients() * 4;
      javaRun(on.uri, config.clients(), replayKeys, i -> replayPrefix + "-" + i, 201);
      String held = "held-" + UUID.randomUUID();
      if (slow != null) {
        slow.holdInFlight(held);
      }

      for (int round = 0; round < config.rounds() + 1; round++) {
        boolean warmUp = round == 0;
        for (Scenario scenario : Scenario.values()) {
          if (scenario == Scenario.CONFLICT && slow == null) {
            continue;
          }
          Service target =
              switch (scenario) {
                case OFF -> off;
                case CONFLICT -> Objects.requireNonNull(slow);
                default -> on;
              };
          String freshPrefix = "fresh-" + UUID.randomUUID();
          Keys keys =
              switch (scenario) {
                case OFF -> i -> null;
                case FRESH -> i -> freshPrefix + "-" + i;
                case REPLAY -> i -> replayPrefix + "-" + (i % replayKeys);
                case CONFLICT -> i -> held;
              };
          long cpu0 = target.cpuNanos();
          JavaRun run =
              javaRun(
                  target.uri,
                  config.clients(),
                  warmUp ? config.requests() / 4 : config.requests(),
                  keys,
                  scenario.status);
          long cpu = target.cpuNanos() - cpu0;
          if (!warmUp) {
            result.reps.add(
                new Rep(
                    store,
                    scenario,
                    "java",
                    round,
                    run.perSecond(),
                    run.percentile(50),
                    run.percentile(99),
                    run.unexpected,
                    cpu / 1e3 / run.micros.length));
          }
          if (result.wrkVersion != null) {
            List<String> args =
                switch (scenario) {
                  case OFF -> List.of("off");
                  case FRESH -> List.of("fresh", "wrk-" + UUID.randomUUID());
                  case REPLAY -> List.of("replay", replayPrefix, Integer.toString(replayKeys));
                  case CONFLICT -> List.of("conflict", held);
                };
            long wrkCpu0 = target.cpuNanos();
            WrkRun wrk =
                wrk(
                    lua,
                    target.uri,
                    config.clients(),
                    warmUp ? 1 : config.wrkSeconds(),
                    args,
                    scenario == Scenario.CONFLICT);
            long wrkCpu = target.cpuNanos() - wrkCpu0;
            if (!warmUp) {
              result.reps.add(
                  new Rep(
                      store,
                      scenario,
                      "wrk",
                      round,
                      wrk.perSecond,
                      wrk.p50,
                      wrk.p99,
                      wrk.unexpected,
                      wrk.requests == 0 ? -1 : wrkCpu / 1e3 / wrk.requests));
            }
          }
        }
      }
    } finally {
      if (schema != null) {
        try (Connection c = TestServers.postgres().connect();
            Statement s = c.createStatement()) {
          s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
      }
      if (store.equals("redis")) {
        io.lettuce.core.RedisClient client =
            io.lettuce.core.RedisClient.create(TestServers.redis().uri());
        try (var connection = client.connect()) {
          List<String> written = connection.sync().keys(redisPrefix + "*");
          if (!written.isEmpty()) {
            connection.sync().del(written.toArray(String[]::new));
          }
        } finally {
          client.shutdown();
        }
      }
    }
  }

  /**
   * The settings of the service that holds a key in flight: PostgreSQL would otherwise end the
   * holding transaction once it sat idle for {@code once.jdbc.idle-transaction-timeout} (as it
   * should for a client that vanished), and a measured request would take the key over.
   */
  private static Map<String, String> holding(Map<String, String> props) {
    Map<String, String> held = new LinkedHashMap<>(props);
    held.put("once.jdbc.idle-transaction-timeout", "0");
    return held;
  }

  /** The payments service as a child process: {@code java -jar once-payments.jar ...}. */
  private static final class Service implements AutoCloseable {
    final Process process;
    final URI uri;
    final Path dataDir;

    private Service(Process process, URI uri, Path dataDir) {
      this.process = process;
      this.uri = uri;
      this.dataDir = dataDir;
    }

    static Service start(Path jar, Map<String, String> props, boolean layer, Duration latency)
        throws IOException {
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      Path dataDir = Files.createTempDirectory("once-http-bench");
      List<String> command =
          new ArrayList<>(
              List.of(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx512m",
                  "-jar",
                  jar.toString(),
                  "--server.port=" + port,
                  "--spring.main.banner-mode=off",
                  "--logging.level.root=WARN",
                  "--logging.level.dev.once.outcome=WARN",
                  "--payments.data-dir=" + dataDir,
                  "--payments.processor-latency=" + latency.toMillis() + "ms",
                  "--once.http.enabled=" + layer));
      props.forEach((k, v) -> command.add("--" + k + "=" + v));
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(dataDir.resolve("service.log").toFile())
              .start();
      return new Service(process, URI.create("http://127.0.0.1:" + port + "/payments"), dataDir);
    }

    void awaitReady() throws IOException, InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IllegalStateException(
              "the payments service exited: " + Files.readString(dataDir.resolve("service.log")));
        }
        try {
          HttpResponse<Void> r =
              HTTP.send(
                  HttpRequest.newBuilder(uri).header("Authorization", AUTH).GET().build(),
                  HttpResponse.BodyHandlers.discarding());
          if (r.statusCode() == 200) {
            return;
          }
        } catch (IOException notYet) {
          // not listening yet
        }
        Thread.sleep(200);
      }
      throw new IllegalStateException("the payments service did not start within 120 s");
    }

    /** Sends a request with {@code key} that stays in flight, then waits until it holds the key. */
    void holdInFlight(String key) throws IOException, InterruptedException {
      CompletableFuture<HttpResponse<Void>> unused =
          HTTP.sendAsync(
              post(uri, key).timeout(Duration.ofMinutes(30)).build(),
              HttpResponse.BodyHandlers.discarding());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        try {
          int status =
              HTTP.send(
                      post(uri, key).timeout(Duration.ofSeconds(2)).build(),
                      HttpResponse.BodyHandlers.discarding())
                  .statusCode();
          if (status == 409) {
            return;
          }
        } catch (java.net.http.HttpTimeoutException probeHoldsIt) {
          // The probe came first and holds the key itself, in flight: the next probe sees 409.
        }
        Thread.sleep(50);
      }
      throw new IllegalStateException("the held request never held its key");
    }

    long cpuNanos() {
      return ProcCpu.process(java.util.OptionalLong.of(process.pid()), "service", "").nanos();
    }

    @Override
    public void close() throws IOException, InterruptedException {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
      try (var files = Files.walk(dataDir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private interface Keys {
    @Nullable String key(int i);
  }

  private static HttpRequest.Builder post(URI uri, @Nullable String key) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", AUTH)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(BODY));
    return key == null ? b : b.header("Idempotency-Key", key);
  }

  private record JavaRun(long[] micros, double seconds, long unexpected) {
    double perSecond() {
      return micros.length / seconds;
    }

    double percentile(double p) {
      int i = (int) Math.ceil(p / 100.0 * micros.length) - 1;
      return micros[Math.max(0, Math.min(i, micros.length - 1))] / 1000.0;
    }
  }

  /** {@code requests} POSTs from {@code clients} threads, closed loop. */
  private static JavaRun javaRun(URI uri, int clients, int requests, Keys keys, int expected)
      throws InterruptedException, java.util.concurrent.ExecutionException {
    long[] micros = new long[requests];
    AtomicInteger next = new AtomicInteger();
    AtomicLong unexpected = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    long start = System.nanoTime();
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        done.add(
            pool.submit(
                () -> {
                  for (int i = next.getAndIncrement(); i < requests; i = next.getAndIncrement()) {
                    long t0 = System.nanoTime();
                    try {
                      int status =
                          HTTP.send(
                                  post(uri, keys.key(i)).build(),
                                  HttpResponse.BodyHandlers.discarding())
                              .statusCode();
                      if (status != expected) {
                        unexpected.incrementAndGet();
                      }
                    } catch (IOException e) {
                      unexpected.incrementAndGet();
                    }
                    micros[i] = (System.nanoTime() - t0) / 1000;
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Arrays.sort(micros);
    return new JavaRun(micros, seconds, unexpected.get());
  }

  private record WrkRun(long requests, double perSecond, double p50, double p99, long unexpected) {}

  private static final Pattern REQUESTS = Pattern.compile("(\\d+) requests in");
  private static final Pattern RATE = Pattern.compile("Requests/sec:\\s+([\\d.]+)");
  private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");
  private static final Pattern ERRORS =
      Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");

  /**
   * One wrk run. wrk counts every answer outside 2xx/3xx as "Non-2xx": for the conflict scenario
   * every answer must be one (409), for the others none.
   */
  private static WrkRun wrk(
      Path lua, URI uri, int connections, int seconds, List<String> args, boolean allNon2xx)
      throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(
            List.of(
                "wrk",
                "-t2",
                "-c" + connections,
                "-d" + seconds + "s",
                "--latency",
                "-s",
                lua.toString(),
                uri.toString(),
                "--"));
    command.addAll(args);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(seconds + 60L, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("wrk failed: " + out);
    }
    long requests = Long.parseLong(group(REQUESTS, out, "0"));
    long non2xx = Long.parseLong(group(NON_2XX, out, "0"));
    long errors = 0;
    Matcher e = ERRORS.matcher(out);
    if (e.find()) {
      for (int i = 1; i <= 4; i++) {
        errors += Long.parseLong(e.group(i));
      }
    }
    long unexpected = errors + (allNon2xx ? requests - non2xx : non2xx);
    return new WrkRun(
        requests,
        Double.parseDouble(group(RATE, out, "0")),
        latency(out, "50%"),
        latency(out, "99%"),
        unexpected);
  }

  private static String group(Pattern p, String text, String otherwise) {
    Matcher m = p.matcher(text);
    return m.find() ? m.group(1) : otherwise;
  }

  /** A percentile of wrk's latency distribution, in ms. */
  private static double latency(String out, String percentile) {
    Matcher m =
        Pattern.compile("\\s" + Pattern.quote(percentile) + "\\s+([\\d.]+)(us|ms|s)").matcher(out);
    if (!m.find()) {
      return Double.NaN;
    }
    double v = Double.parseDouble(m.group(1));
    return switch (m.group(2)) {
      case "us" -> v / 1000;
      case "s" -> v * 1000;
      default -> v;
    };
  }

  /** Per store and client: each round's scenario rate ÷ the same round's layer-off rate. */
  static double[] ratios(List<Rep> reps, String store, String client, Scenario scenario) {
    List<Double> out = new ArrayList<>();
    for (Rep r : reps) {
      if (r.store().equals(store) && r.client().equals(client) && r.scenario() == scenario) {
        reps.stream()
            .filter(
                o ->
                    o.store().equals(store)
                        && o.client().equals(client)
                        && o.round() == r.round()
                        && o.scenario() == Scenario.OFF)
            .findFirst()
            .ifPresent(off -> out.add(r.perSecond() / off.perSecond()));
      }
    }
    return out.stream().mapToDouble(Double::doubleValue).sorted().toArray();
  }

  /** The Markdown report. */
  static String render(Result run, String thisRun) {
    Config c = run.config;
    StringBuilder md = new StringBuilder();
    md.append("# Benchmarks: the HTTP layer\n\n")
        .append(
            "_Written by `once-benchmarks --only http` from its own measurements; do not edit by"
                + " hand. Ratios in the same run, interleaved, median with (min–max) over rounds."
                + " Store-level figures: [benchmarks.md](benchmarks.md)._\n\n")
        .append("- Command: `")
        .append(COMMAND)
        .append("`\n")
        .append(Report.thisRunLine(thisRun, run.started, run.elapsedNanos))
        .append('\n')
        .append("- Load average before: ")
        .append(run.loadBefore)
        .append("; after: ")
        .append(run.loadAfter)
        .append("\n\n## Machine\n\n- cores (nproc): ")
        .append(Runtime.getRuntime().availableProcessors())
        .append("\n- JDK (client and services): ")
        .append(System.getProperty("java.vm.name"))
        .append(' ')
        .append(System.getProperty("java.vm.version"))
        .append("\n- wrk: ")
        .append(
            run.wrkVersion == null
                ? "not installed (`apt-get install wrk`): Java client only"
                : run.wrkVersion)
        .append('\n');
    run.storeNotes.forEach(
        (k, v) -> md.append("- **").append(k).append("**: ").append(v).append('\n'));
    md.append("\n## How it was measured\n\n")
        .append(
            "- The service is the payments example's jar, `java -Xmx512m -jar"
                + " examples/payments/target/once-payments.jar`, three processes per store: the"
                + " layer off (`once.http.enabled=false`), on, and on with a card processor that"
                + " takes ten minutes (`payments.processor-latency`), where one request holds a key"
                + " in flight for the conflict scenario. Client and services share the machine:"
                + " the figures are the layer's relative cost, not a capacity.\n")
        .append(
            String.format(
                Locale.ROOT,
                "- Each request: `POST /payments` with HTTP Basic (the demo user), a 66-byte JSON"
                    + " body bound by an ordinary `@RequestBody` handler behind Spring Security,"
                    + " which charges a fake card processor and inserts the payment. Scenarios:"
                    + " **layer off** (no key); **fresh key** (a key never used: claim, charge,"
                    + " store the response; 201); **replay** (one of %d completed keys: the stored"
                    + " response; 201); **in-flight conflict** (the held key: 409).%n",
                c.clients() * 4))
        .append(
            String.format(
                Locale.ROOT,
                "- Clients: **java**, %d threads of `java.net.http.HttpClient`, closed loop, %,d"
                    + " requests per run; **wrk**, `wrk -t2 -c%d -d%ds --latency -s"
                    + " bench/wrk/payments.lua <url> -- <scenario>`. One warm-up round, then %d"
                    + " measured rounds; in a round every scenario runs once with each client, in"
                    + " the order off, fresh, replay, conflict.%n",
                c.clients(),
                c.requests(),
                c.clients(),
                c.wrkSeconds(),
                c.rounds()))
        .append(
            "- The holding service runs with `once.jdbc.idle-transaction-timeout=0`, so"
                + " PostgreSQL does not end its idle transaction (and free the key) mid-run.\n")
        .append(
            "- *server CPU µs/req*: user+sys time of the service process (`/proc/<pid>/stat`)"
                + " during the run, per request. Every answer is checked against the scenario's"
                + " status (201, or 409 for the conflict); *unexpected* counts the others and"
                + " failed requests.\n");
    md.append("\n## Result: requests/s ÷ the layer off, same store, same client, same round\n\n")
        .append(
            "| store | client | fresh key | replay | in-flight conflict |\n|---|---|---|---|---|\n");
    for (String store : c.stores()) {
      for (String client : List.of("java", "wrk")) {
        if (run.reps.stream().noneMatch(r -> r.client().equals(client))) {
          continue;
        }
        md.append("| ").append(store).append(" | ").append(client);
        for (Scenario s : List.of(Scenario.FRESH, Scenario.REPLAY, Scenario.CONFLICT)) {
          md.append(" | ").append(Stats.spread(ratios(run.reps, store, client, s)));
        }
        md.append(" |\n");
      }
    }
    md.append("\n## Every scenario, medians over rounds\n\n")
        .append(
            "| store | client | scenario | requests/s | p50 ms | p99 ms | server CPU µs/req |"
                + " unexpected |\n|---|---|---|---|---|---|---|---|\n");
    for (String store : c.stores()) {
      for (String client : List.of("java", "wrk")) {
        for (Scenario s : Scenario.values()) {
          List<Rep> reps =
              run.reps.stream()
                  .filter(
                      r ->
                          r.store().equals(store) && r.client().equals(client) && r.scenario() == s)
                  .toList();
          if (reps.isEmpty()) {
            continue;
          }
          md.append("| ")
              .append(store)
              .append(" | ")
              .append(client)
              .append(" | ")
              .append(s.label)
              .append(" | ")
              .append(Stats.spread(values(reps, Rep::perSecond)))
              .append(" | ")
              .append(Stats.spread(values(reps, Rep::p50)))
              .append(" | ")
              .append(Stats.spread(values(reps, Rep::p99)))
              .append(" | ")
              .append(Stats.spread(values(reps, Rep::serverCpuMicros)))
              .append(" | ")
              .append(reps.stream().mapToLong(Rep::unexpected).sum())
              .append(" |\n");
        }
      }
    }
    return md.toString();
  }

  private static double[] values(List<Rep> reps, java.util.function.ToDoubleFunction<Rep> f) {
    return reps.stream().mapToDouble(f).toArray();
  }
}
