package dev.once.examples.payments.bench;

import dev.once.examples.payments.PaymentsApplication;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * What the Idempotency-Key layer costs over HTTP: {@code POST /payments} on the payments service
 * with the layer off ({@code once.http.enabled=false}) and on, in the same JVM and run, for a fresh
 * key per request and for a replay of a completed key, per store. Prints requests/s and latency
 * percentiles, and the p99 the layer adds, as a Markdown table.
 *
 * <pre>
 * mvn -B -q -pl examples/payments -am -DskipTests install
 * mvn -B -q -pl examples/payments dependency:build-classpath -Dmdep.outputFile=target/bench.cp
 * java -cp examples/payments/target/test-classes:examples/payments/target/classes:$(cat examples/payments/target/bench.cp) \
 *     dev.once.examples.payments.bench.HttpBenchmark [requests-per-scenario] [clients] [stores...]
 * </pre>
 *
 * Stores: {@code h2} (atomic), {@code postgres} (atomic; {@code TestServers.postgres()}), {@code
 * redis} (lease mode; {@code TestServers.redis()}), {@code memory}. Client and server share the
 * machine, so the figures are the layer's relative cost, not a capacity statement.
 */
public final class HttpBenchmark {

  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();
  private static final String AUTH =
      "Basic " + Base64.getEncoder().encodeToString("alice:alice".getBytes(StandardCharsets.UTF_8));

  private record Result(
      String store,
      String scenario,
      int requests,
      double seconds,
      long[] micros,
      long errors,
      Map<Integer, Long> statuses) {
    double perSecond() {
      return requests / seconds;
    }

    double percentile(double p) {
      int i = (int) Math.ceil(p / 100.0 * micros.length) - 1;
      return micros[Math.max(0, Math.min(i, micros.length - 1))] / 1000.0;
    }
  }

  private HttpBenchmark() {}

  public static void main(String[] args) throws Exception {
    int requests = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
    int clients = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    List<String> stores =
        args.length > 2
            ? Arrays.asList(args).subList(2, args.length)
            : List.of("h2", "postgres", "redis", "memory");
    measure("memory", requests, clients); // warms the JIT for every store alike; discarded
    List<Result> results = new ArrayList<>();
    for (String store : stores) {
      results.addAll(measure(store, requests, clients));
    }
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "POST /payments, %d requests per scenario, %d concurrent clients, %d cores, Java %s%n%n",
        requests,
        clients,
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"));
    System.out.println(
        "| store | scenario | requests/s | p50 ms | p99 ms | p99 added by the layer |");
    System.out.println("|---|---|---:|---:|---:|---:|");
    Map<String, Result> off = new LinkedHashMap<>();
    for (Result r : results) {
      if (r.scenario().equals("layer off")) {
        off.put(r.store(), r);
      }
      Result base = off.get(r.store());
      String added =
          r.scenario().equals("layer off") || base == null
              ? "—"
              : String.format(Locale.ROOT, "%+.2f ms", r.percentile(99) - base.percentile(99));
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %.0f | %.2f | %.2f | %s |%n",
          r.store(),
          r.scenario(),
          r.perSecond(),
          r.percentile(50),
          r.percentile(99),
          added + (r.errors() > 0 ? " (not 201: " + r.statuses() + ")" : ""));
    }
  }

  private static List<Result> measure(String store, int requests, int clients) throws Exception {
    Map<String, String> props = new LinkedHashMap<>();
    String schema = null;
    String prefix = "bench-" + UUID.randomUUID() + ":";
    switch (store) {
      case "h2" ->
          props.put(
              "spring.datasource.url",
              "jdbc:h2:mem:bench-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
      case "memory" -> {
        props.put(
            "spring.datasource.url",
            "jdbc:h2:mem:bench-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        props.put("once.store", "memory");
      }
      case "redis" -> {
        props.put(
            "spring.datasource.url",
            "jdbc:h2:mem:bench-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        props.put("once.store", "redis");
        props.put("once.redis.url", TestServers.redis().uri());
        props.put("once.redis.key-prefix", prefix);
      }
      case "postgres" -> {
        TestDatabase db = TestServers.postgres();
        schema = "payments_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = db.connect();
            Statement s = c.createStatement()) {
          s.execute("CREATE SCHEMA " + schema);
        }
        props.put(
            "spring.datasource.url",
            db.jdbcUrl() + (db.jdbcUrl().contains("?") ? "&" : "?") + "currentSchema=" + schema);
        props.put("spring.datasource.username", db.user());
        props.put("spring.datasource.password", db.password());
      }
      default ->
          throw new IllegalArgumentException(
              "unknown store " + store + "; use h2, postgres, redis or memory");
    }
    List<Result> results = new ArrayList<>();
    try (ConfigurableApplicationContext off = start(props, false);
        ConfigurableApplicationContext on = start(props, true)) {
      URI offUri = uri(off);
      URI onUri = uri(on);
      // Replays cycle through completed keys, more than there are clients, so that concurrent
      // replays are of
      // different keys (as retries of different requests are).
      String[] replayKeys = new String[clients * 4];
      Arrays.setAll(replayKeys, i -> UUID.randomUUID().toString());
      run(onUri, clients, replayKeys.length, i -> replayKeys[i]); // completes them
      run(onUri, clients, requests / 4, i -> UUID.randomUUID().toString()); // warm-up, every path
      run(offUri, clients, requests / 4, i -> null);
      run(onUri, clients, requests / 4, i -> replayKeys[i % replayKeys.length]);
      results.add(result(store, "layer off", requests, run(offUri, clients, requests, i -> null)));
      results.add(
          result(
              store,
              "layer on, fresh key",
              requests,
              run(onUri, clients, requests, i -> UUID.randomUUID().toString())));
      results.add(
          result(
              store,
              "layer on, replay",
              requests,
              run(onUri, clients, requests, i -> replayKeys[i % replayKeys.length])));
    } finally {
      if (store.equals("redis")) {
        io.lettuce.core.RedisClient client =
            io.lettuce.core.RedisClient.create(TestServers.redis().uri());
        try (var connection = client.connect()) {
          List<String> written = connection.sync().keys(prefix + "*");
          if (!written.isEmpty()) {
            connection.sync().del(written.toArray(String[]::new));
          }
        } finally {
          client.shutdown();
        }
      }
      if (schema != null) {
        try (Connection c = TestServers.postgres().connect();
            Statement s = c.createStatement()) {
          s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
      }
    }
    return results;
  }

  private static ConfigurableApplicationContext start(Map<String, String> props, boolean layer) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--server.port=0",
                "--spring.main.banner-mode=off",
                "--logging.level.root=WARN",
                "--once.http.enabled=" + layer));
    props.forEach((k, v) -> args.add("--" + k + "=" + v));
    return new SpringApplicationBuilder(PaymentsApplication.class).run(args.toArray(String[]::new));
  }

  private static URI uri(ConfigurableApplicationContext context) {
    return URI.create(
        "http://127.0.0.1:"
            + context.getEnvironment().getProperty("local.server.port")
            + "/payments");
  }

  private interface Keys {
    String key(int i);
  }

  private static Result result(String store, String scenario, int requests, Object[] run) {
    long[] micros = (long[]) run[0];
    Arrays.sort(micros);
    @SuppressWarnings("unchecked")
    Map<Integer, Long> statuses = (Map<Integer, Long>) run[3];
    return new Result(store, scenario, requests, (double) run[1], micros, (long) run[2], statuses);
  }

  /**
   * Sends {@code requests} POSTs from {@code clients} threads; answers {latencies in µs, seconds,
   * errors}.
   */
  private static Object[] run(URI uri, int clients, int requests, Keys keys) throws Exception {
    long[] micros = new long[requests];
    AtomicLong next = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    Map<Integer, Long> statuses = new java.util.concurrent.ConcurrentSkipListMap<>();
    String body = "{\"customerId\":\"cus_bench\",\"amountCents\":1250,\"currency\":\"EUR\"}";
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    long start = System.nanoTime();
    try {
      List<Future<Void>> done = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        done.add(
            pool.submit(
                (Callable<Void>)
                    () -> {
                      for (int i = (int) next.getAndIncrement();
                          i < requests;
                          i = (int) next.getAndIncrement()) {
                        HttpRequest.Builder b =
                            HttpRequest.newBuilder(uri)
                                .timeout(Duration.ofSeconds(30))
                                .header("Authorization", AUTH)
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body));
                        String key = keys.key(i);
                        if (key != null) {
                          b.header("Idempotency-Key", key);
                        }
                        long t0 = System.nanoTime();
                        try {
                          HttpResponse<Void> r =
                              HTTP.send(b.build(), HttpResponse.BodyHandlers.discarding());
                          if (r.statusCode() != 201) {
                            errors.incrementAndGet();
                            statuses.merge(r.statusCode(), 1L, Long::sum);
                          }
                        } catch (IOException e) {
                          errors.incrementAndGet();
                          statuses.merge(-1, 1L, Long::sum);
                        }
                        micros[i] = (System.nanoTime() - t0) / 1000;
                      }
                      return null;
                    }));
      }
      for (Future<Void> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    return new Object[] {micros, (System.nanoTime() - start) / 1e9, errors.get(), statuses};
  }
}
