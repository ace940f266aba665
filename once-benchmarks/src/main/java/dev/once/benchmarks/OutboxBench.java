package dev.once.benchmarks;

import dev.once.kafka.KafkaInboxConsumer;
import dev.once.kafka.KafkaOutboxPublisher;
import dev.once.outbox.Outbox;
import dev.once.outbox.OutboxEntry;
import dev.once.outbox.OutboxPublisher;
import dev.once.outbox.OutboxRelay;
import dev.once.outbox.RelayResult;
import dev.once.testkit.servers.TestKafka;
import dev.once.testkit.servers.TestServers;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The transactional outbox on PostgreSQL and the test kit's Kafka broker, each figure against a
 * baseline measured in the same run; writes {@code docs/benchmarks-outbox.md}.
 *
 * <ol>
 *   <li><b>Write path</b>: business transactions per second (one order row, commit) from N threads,
 *       against the same transaction plus one {@link Outbox#enqueue}, with and without {@code
 *       notifyRelays}; interleaved rounds after an unmeasured warm-up.
 *   <li><b>Relay throughput</b>: one {@link OutboxRelay} with {@link KafkaOutboxPublisher} draining
 *       a pre-filled table, against a raw idempotent {@code acks=all} producer sending the same
 *       messages from memory.
 *   <li><b>Commit-to-publish latency</b>: paced writers at about half the relay's measured maximum;
 *       a plain consumer reads each message and its enqueue time (taken just before the writer's
 *       commit: a time taken after the commit cannot be put in the committed row).
 * </ol>
 */
final class OutboxBench {

  /** The command the report names. */
  static final String COMMAND =
      "mvn -B -q -pl once-benchmarks -am package -DskipTests"
          + " && java -jar once-benchmarks/target/once-benchmarks.jar --only outbox";

  static final String ORDERS = "obench_orders";
  static final String OUTBOX = "obench_outbox";

  /** The header carrying {@link System#nanoTime()} taken just before the writer's commit. */
  static final String ENQUEUED_NANOS = "bench-enqueued-nanos";

  private static final int PARTITIONS = 4;
  private static final int KEYS = 1000;

  /**
   * What to run.
   *
   * @param threads writer threads of the write path
   * @param txPerThread transactions each writer commits per write-path run
   * @param rounds measured rounds (each variant once per round), after one warm-up round
   * @param relayMessages messages pre-filled per relay-throughput run
   * @param latencySeconds how long the paced writers write per latency run
   * @param latencyRate messages/s of the latency runs; 0 = {@code latencyLoads} of the measured
   *     maximum: the lower of the relay's (default batch size) and the writers' with the outbox
   * @param latencyLoads the shares of that maximum the latency runs write at
   * @param writers paced writer threads of the latency runs
   * @param quick a short run, not to be quoted
   * @param inProcessBroker start the broker in this JVM (the smoke test) instead of a child JVM
   * @param seed the payloads' random seed
   */
  record Config(
      int threads,
      int txPerThread,
      int rounds,
      int relayMessages,
      double latencySeconds,
      double latencyRate,
      List<Double> latencyLoads,
      int writers,
      boolean quick,
      boolean inProcessBroker,
      long seed) {

    static Config fullRun() {
      return new Config(4, 2_000, 3, 50_000, 15, 0, List.of(0.5, 0.1), 4, false, false, 20261206L);
    }

    static Config quickRun() {
      return new Config(4, 300, 2, 5_000, 5, 0, List.of(0.5, 0.1), 4, true, false, 20261206L);
    }
  }

  enum WriteKind {
    PLAIN("order row, commit"),
    OUTBOX_NOTIFY(
        "order row + Outbox.enqueue (notifyRelays on, at most once per 10 ms: the default),"
            + " commit"),
    OUTBOX_NOTIFY_EVERY("order row + Outbox.enqueue (notifyRelays on, every write), commit"),
    OUTBOX_QUIET("order row + Outbox.enqueue (notifyRelays off), commit");

    final String label;

    WriteKind(String label) {
      this.label = label;
    }
  }

  enum RelayKind {
    RAW("raw idempotent producer, acks=all, from memory"),
    RELAY("OutboxRelay (batchSize 100, the default) + KafkaOutboxPublisher, from the table", 100),
    RELAY_1000("OutboxRelay (batchSize 1000) + KafkaOutboxPublisher, from the table", 1000),
    RELAY_1000_DELETE(
        "OutboxRelay (batchSize 1000, retention 0: rows deleted when sent) + KafkaOutboxPublisher",
        1000),
    DATABASE_CEILING(
        "OutboxRelay (batchSize 1000) + a publisher that acknowledges at once: the database's part",
        1000);

    final String label;
    final int batchSize;

    RelayKind(String label) {
      this(label, 0);
    }

    RelayKind(String label, int batchSize) {
      this.label = label;
      this.batchSize = batchSize;
    }
  }

  /** One measured (or warm-up) run: {@code count} units of work in {@code nanos}. */
  record Rep(String kind, int round, long count, long nanos) {
    double perSecond() {
      return count * 1e9 / nanos;
    }
  }

  /**
   * One latency run: what the writers wrote and at what rate, what the consumer read, and the
   * enqueue-to-consume latencies.
   */
  record Latency(
      String label,
      boolean listened,
      double load,
      double targetRate,
      double achievedRate,
      long written,
      long consumed,
      long distinct,
      long p50,
      long p99,
      long max) {}

  /** Everything the run saw. */
  static final class Result {
    final Config config;
    final Instant started = Instant.now();
    final Map<String, String> facts = new LinkedHashMap<>();
    final List<Rep> writes = new ArrayList<>();
    final List<Rep> relays = new ArrayList<>();
    final List<Latency> latencies = new ArrayList<>();
    String loadBefore;
    String loadAfter;
    long elapsedNanos;

    Result(Config config) {
      this.config = config;
    }

    double[] ratio(List<Rep> reps, String a, String b) {
      List<Double> r = new ArrayList<>();
      for (Rep x : reps) {
        for (Rep y : reps) {
          if (x.kind().equals(a) && y.kind().equals(b) && x.round() == y.round()) {
            r.add(x.perSecond() / y.perSecond());
          }
        }
      }
      double[] v = r.stream().mapToDouble(Double::doubleValue).toArray();
      return new double[] {
        Stats.median(v),
        java.util.Arrays.stream(v).min().orElse(Double.NaN),
        java.util.Arrays.stream(v).max().orElse(Double.NaN)
      };
    }

    double medianRate(List<Rep> reps, String kind) {
      return Stats.median(
          reps.stream().filter(r -> r.kind().equals(kind)).mapToDouble(Rep::perSecond).toArray());
    }
  }

  private final Config config;
  private final PostgresTarget pg;
  private final String bootstrap;
  private final String runId;
  private final Random random;

  private OutboxBench(Config config, PostgresTarget pg, String bootstrap, String runId) {
    this.config = config;
    this.pg = pg;
    this.bootstrap = bootstrap;
    this.runId = runId;
    this.random = new Random(config.seed());
  }

  /** Runs the three parts and answers what they saw (every count was checked). */
  static Result run(Config config)
      throws ExecutionException, InterruptedException, SQLException, TimeoutException {
    Result result = new Result(config);
    result.loadBefore = KafkaBench.loadAverage();
    long t0 = System.nanoTime();
    String runId = Long.toHexString(System.nanoTime() & 0xffffffL);
    System.out.printf(Locale.ROOT, "[once-benchmarks] outbox: payload seed %d%n", config.seed());
    try (KafkaBroker broker = KafkaBroker.open(config.inProcessBroker());
        PostgresTarget pg =
            PostgresTarget.open(
                TestServers.postgres(), Math.max(config.threads(), config.writers()) + 3)) {
      result.facts.put(
          "PostgreSQL", pg.version() + "; " + pg.where() + "; " + String.join(", ", pg.settings()));
      result.facts.put("Kafka", broker.where());
      OutboxBench bench = new OutboxBench(config, pg, broker.bootstrap(), runId);
      bench.setUp();
      bench.writePath(result);
      double relayMax = bench.relayThroughput(result);
      // The pipeline's maximum is its slower end: the relay, or the writers with the outbox.
      double writeMax = result.medianRate(result.writes, WriteKind.OUTBOX_NOTIFY.name());
      double max = Math.min(relayMax, writeMax);
      for (double load : config.latencyLoads()) {
        double rate = config.latencyRate() > 0 ? config.latencyRate() : max * load;
        result.latencies.add(bench.latency(rate, load, true));
        result.latencies.add(bench.latency(rate, load, false));
      }
    }
    result.elapsedNanos = System.nanoTime() - t0;
    result.loadAfter = KafkaBench.loadAverage();
    return result;
  }

  private void setUp() throws SQLException {
    pg.execute(
        "DROP TABLE IF EXISTS " + ORDERS,
        "DROP TABLE IF EXISTS " + OUTBOX,
        "CREATE TABLE "
            + ORDERS
            + " (id bigint PRIMARY KEY, customer text NOT NULL, amount bigint NOT NULL,"
            + " created_at bigint NOT NULL)");
    try (Connection c = pg.dataSource().getConnection()) {
      outbox(true).createSchema(c);
    }
  }

  private static Outbox outbox(boolean notify) {
    return Outbox.builder().table(OUTBOX).notifyRelays(notify).build();
  }

  private static Outbox outbox(WriteKind kind) {
    return Outbox.builder()
        .table(OUTBOX)
        .notifyRelays(kind != WriteKind.OUTBOX_QUIET)
        .notifyInterval(
            kind == WriteKind.OUTBOX_NOTIFY_EVERY ? Duration.ZERO : Outbox.DEFAULT_NOTIFY_INTERVAL)
        .build();
  }

  private void truncate() throws SQLException {
    pg.execute("TRUNCATE " + ORDERS, "TRUNCATE " + OUTBOX);
  }

  private long count(String sql) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static byte[] payload(long orderId, String customer, long amount) {
    return ("{\"type\":\"OrderPlaced\",\"order\":"
            + orderId
            + ",\"customer\":\""
            + customer
            + "\",\"amount\":"
            + amount
            + "}")
        .getBytes(StandardCharsets.UTF_8);
  }

  /** The business change every variant makes: one order row. */
  private static void insertOrder(Connection c, long id, String customer, long amount)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO " + ORDERS + " (id, customer, amount, created_at) VALUES (?, ?, ?, ?)")) {
      ps.setLong(1, id);
      ps.setString(2, customer);
      ps.setLong(3, amount);
      ps.setLong(4, System.currentTimeMillis());
      ps.executeUpdate();
    }
  }

  // ----------------------------------------------------------------------------------------------
  // 1. write path

  private void writePath(Result result)
      throws ExecutionException, InterruptedException, SQLException {
    System.out.printf(
        Locale.ROOT,
        "%n== outbox write path: %d threads x %,d transactions per run%n",
        config.threads(),
        config.txPerThread());
    for (int round = 0; round <= config.rounds(); round++) {
      for (WriteKind kind : WriteKind.values()) {
        truncate();
        Rep rep = writeRun(kind, round);
        long expected = (long) config.threads() * config.txPerThread();
        check(count("SELECT count(*) FROM " + ORDERS) == expected, kind.label + ": order rows");
        check(
            count("SELECT count(*) FROM " + OUTBOX) == (kind == WriteKind.PLAIN ? 0 : expected),
            kind.label + ": outbox rows");
        if (round > 0) {
          result.writes.add(rep);
        }
        System.out.printf(
            Locale.ROOT,
            "  %s %-58s %,10.0f tx/s%n",
            round == 0 ? "warm-up" : "round " + round,
            kind.label,
            rep.perSecond());
      }
    }
  }

  private Rep writeRun(WriteKind kind, int round) throws ExecutionException, InterruptedException {
    Outbox outbox = outbox(kind);
    int threads = config.threads();
    long seed = random.nextLong();
    List<Callable<Void>> tasks = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      long base = (long) t * 1_000_000_000L;
      Random r = new Random(seed + t);
      tasks.add(
          () -> {
            for (int i = 0; i < config.txPerThread(); i++) {
              long id = base + i;
              String customer = "customer-" + r.nextInt(KEYS);
              long amount = 1L + r.nextInt(100_000);
              try (Connection c = pg.dataSource().getConnection()) {
                c.setAutoCommit(false);
                insertOrder(c, id, customer, amount);
                if (kind != WriteKind.PLAIN) {
                  outbox.enqueue(c, "orders", customer, payload(id, customer, amount));
                }
                c.commit();
              }
            }
            return null;
          });
    }
    long nanos = runAll(tasks);
    return new Rep(kind.name(), round, (long) threads * config.txPerThread(), nanos);
  }

  private static long runAll(List<Callable<Void>> tasks)
      throws ExecutionException, InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
    try {
      long t0 = System.nanoTime();
      List<Future<Void>> futures = new ArrayList<>();
      for (Callable<Void> task : tasks) {
        futures.add(pool.submit(task));
      }
      for (Future<Void> f : futures) {
        f.get();
      }
      return System.nanoTime() - t0;
    } finally {
      pool.shutdownNow();
    }
  }

  // ----------------------------------------------------------------------------------------------
  // 2. relay throughput

  /** One message as both the table and the raw producer carry it. */
  private record Message(UUID id, String key, byte[] payload) {}

  private double relayThroughput(Result result)
      throws ExecutionException, InterruptedException, SQLException, TimeoutException {
    int n = config.relayMessages();
    System.out.printf(Locale.ROOT, "%n== outbox relay throughput: %,d messages per run%n", n);
    Map<String, Object> producerConfig = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (KafkaOutboxPublisher publisher = KafkaOutboxPublisher.builder(producerConfig).build();
        KafkaProducer<byte[], byte[]> raw = rawProducer()) {
      for (int round = 0; round <= config.rounds(); round++) {
        for (RelayKind kind : RelayKind.values()) {
          String topic = "obench-" + runId + "-" + kind.name().toLowerCase(Locale.ROOT) + round;
          TestKafka.createTopic(topic, PARTITIONS);
          truncate();
          List<Message> messages = fill(topic, n);
          Rep rep =
              kind == RelayKind.RAW
                  ? rawRun(raw, topic, messages, round)
                  : relayRun(kind, publisher, round, n);
          if (round > 0) {
            result.relays.add(rep);
          }
          System.out.printf(
              Locale.ROOT,
              "  %s %-52s %,10.0f msg/s%n",
              round == 0 ? "warm-up" : "round " + round,
              kind.label,
              rep.perSecond());
        }
      }
    }
    return result.medianRate(result.relays, RelayKind.RELAY.name());
  }

  private KafkaProducer<byte[], byte[]> rawProducer() {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    c.put(ProducerConfig.ACKS_CONFIG, "all");
    c.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
    return new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /**
   * Writes {@code n} messages to the outbox table (1,000 per transaction, no notify) and answers
   * them as the raw producer sends them. Both variants fill, so both rounds start alike.
   */
  private List<Message> fill(String topic, int n) throws SQLException {
    Outbox outbox = outbox(false);
    List<Message> messages = new ArrayList<>(n);
    try (Connection c = pg.dataSource().getConnection()) {
      c.setAutoCommit(false);
      List<OutboxEntry> batch = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String customer = "customer-" + random.nextInt(KEYS);
        batch.add(
            new OutboxEntry(topic, customer, payload(i, customer, 1 + random.nextInt(100_000))));
        if (batch.size() == 1000 || i == n - 1) {
          List<UUID> ids = outbox.enqueueAll(c, batch);
          c.commit();
          for (int j = 0; j < batch.size(); j++) {
            messages.add(
                new Message(
                    ids.get(j),
                    java.util.Objects.requireNonNull(batch.get(j).key()),
                    batch.get(j).payload()));
          }
          batch.clear();
        }
      }
    }
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("VACUUM ANALYZE " + OUTBOX);
    }
    return messages;
  }

  private Rep relayRun(RelayKind kind, KafkaOutboxPublisher publisher, int round, int n)
      throws InterruptedException, SQLException {
    OutboxPublisher through = kind == RelayKind.DATABASE_CEILING ? messages -> Map.of() : publisher;
    OutboxRelay relay =
        OutboxRelay.builder(pg.dataSource(), through)
            .table(OUTBOX)
            .batchSize(kind.batchSize)
            .retention(kind == RelayKind.RELAY_1000_DELETE ? Duration.ZERO : Duration.ofDays(7))
            .build();
    long sent = 0;
    long t0 = System.nanoTime();
    while (true) {
      RelayResult r = relay.relayOnce();
      sent += r.sent();
      if (r.claimed() == 0) {
        break;
      }
      check(r.refused() == 0, "the broker refused " + r.refused() + " messages");
    }
    long nanos = System.nanoTime() - t0;
    relay.close();
    check(sent == n, "relay sent " + sent + " of " + n);
    check(
        kind == RelayKind.RELAY_1000_DELETE
            ? count("SELECT count(*) FROM " + OUTBOX) == 0
            : count("SELECT count(*) FROM " + OUTBOX + " WHERE state = 'S'") == n,
        "rows marked sent (deleted, at retention 0)");
    return new Rep(kind.name(), round, n, nanos);
  }

  private static Rep rawRun(
      KafkaProducer<byte[], byte[]> raw, String topic, List<Message> messages, int round)
      throws ExecutionException, InterruptedException {
    long t0 = System.nanoTime();
    List<Future<RecordMetadata>> acks = new ArrayList<>(messages.size());
    for (Message m : messages) {
      ProducerRecord<byte[], byte[]> record =
          new ProducerRecord<>(topic, m.key().getBytes(StandardCharsets.UTF_8), m.payload());
      record.headers().add(KafkaInboxConsumer.MESSAGE_ID_HEADER, uuidBytes(m.id()));
      acks.add(raw.send(record));
    }
    for (Future<RecordMetadata> f : acks) {
      f.get();
    }
    long nanos = System.nanoTime() - t0;
    return new Rep(RelayKind.RAW.name(), round, messages.size(), nanos);
  }

  private static byte[] uuidBytes(UUID id) {
    return id.toString().getBytes(StandardCharsets.UTF_8);
  }

  // ----------------------------------------------------------------------------------------------
  // 3. commit-to-publish latency

  private Latency latency(double rate, double load, boolean notify)
      throws ExecutionException, InterruptedException, SQLException, TimeoutException {
    String label =
        notify
            ? "LISTEN/NOTIFY (notifyRelays on, relay listens; pollInterval 1 s)"
            : "polling only (notifyRelays off, listen off; pollInterval 1 s, the default)";
    long planned = Math.max(1, Math.round(rate * config.latencySeconds()));
    System.out.printf(
        Locale.ROOT,
        "%n== outbox latency, %s: %,d messages at %,.0f msg/s%n",
        label,
        planned,
        rate);
    truncate();
    String topic =
        "obench-" + runId + "-latency-" + (notify ? "notify-" : "poll-") + Math.round(load * 100);
    TestKafka.createTopic(topic, PARTITIONS);
    Outbox outbox = outbox(notify);
    Map<String, Object> producerConfig = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    Histogram histogram = new Histogram();
    Set<String> ids = new HashSet<>();
    long[] consumed = {0};
    try (KafkaOutboxPublisher publisher = KafkaOutboxPublisher.builder(producerConfig).build();
        KafkaConsumer<byte[], byte[]> consumer = consumer()) {
      List<TopicPartition> parts = new ArrayList<>();
      for (PartitionInfo p : consumer.partitionsFor(topic)) {
        parts.add(new TopicPartition(topic, p.partition()));
      }
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      consumer.poll(Duration.ofMillis(100)); // join the partitions before the clock starts
      OutboxRelay relay =
          OutboxRelay.builder(pg.dataSource(), publisher).table(OUTBOX).listen(notify).build();
      relay.start();
      try {
        // One unmeasured message first: the producer's metadata and producer-id requests and the
        // consumer's first fetch happen once per pipeline, not per message; they are not latency.
        UUID warmUp;
        try (Connection c = pg.dataSource().getConnection()) {
          c.setAutoCommit(false);
          warmUp = outbox.enqueue(c, topic, "warm-up", new byte[0]);
          c.commit();
        }
        String warmUpId = warmUp.toString();
        long warmUpDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        boolean warm = false;
        while (!warm && System.nanoTime() < warmUpDeadline) {
          for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(100))) {
            Header id = rec.headers().lastHeader(KafkaInboxConsumer.MESSAGE_ID_HEADER);
            warm |= id != null && warmUpId.equals(new String(id.value(), StandardCharsets.UTF_8));
          }
        }
        check(warm, "the warm-up message did not arrive within 60 s");
        int writers = config.writers();
        long interval = (long) (1e9 * writers / rate);
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
          int writer = w;
          long seed = random.nextLong();
          tasks.add(
              () -> {
                Random r = new Random(seed);
                long offset = start + (long) (1e9 * writer / rate);
                for (long i = writer; i < planned; i += writers) {
                  long due = offset + (i / writers) * interval;
                  long wait = due - System.nanoTime();
                  if (wait > 0) {
                    LockSupport.parkNanos(wait);
                  }
                  String customer = "customer-" + r.nextInt(KEYS);
                  long amount = 1L + r.nextInt(100_000);
                  try (Connection c = pg.dataSource().getConnection()) {
                    c.setAutoCommit(false);
                    insertOrder(c, i, customer, amount);
                    outbox.enqueue(
                        c,
                        topic,
                        customer,
                        payload(i, customer, amount),
                        Map.of(ENQUEUED_NANOS, Long.toString(System.nanoTime())));
                    c.commit();
                  }
                }
                return null;
              });
        }
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        List<Future<Void>> futures = new ArrayList<>();
        for (Callable<Void> task : tasks) {
          futures.add(pool.submit(task));
        }
        long writeStart = start;
        long deadline =
            System.nanoTime() + TimeUnit.SECONDS.toNanos((long) config.latencySeconds() * 3 + 30);
        long writeEnd = -1;
        while (consumed[0] < planned && System.nanoTime() < deadline) {
          for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(100))) {
            long now = System.nanoTime();
            Header enqueued = rec.headers().lastHeader(ENQUEUED_NANOS);
            Header id = rec.headers().lastHeader(KafkaInboxConsumer.MESSAGE_ID_HEADER);
            check(enqueued != null && id != null, "a record without its headers");
            if (ids.add(new String(id.value(), StandardCharsets.UTF_8))) {
              histogram.record(
                  now - Long.parseLong(new String(enqueued.value(), StandardCharsets.UTF_8)));
            }
            consumed[0]++;
          }
          if (writeEnd < 0 && futures.stream().allMatch(Future::isDone)) {
            writeEnd = System.nanoTime();
          }
        }
        for (Future<Void> f : futures) {
          f.get();
        }
        pool.shutdown();
        if (writeEnd < 0) {
          writeEnd = System.nanoTime();
        }
        check(ids.size() == planned, "consumed " + ids.size() + " distinct of " + planned);
        double achieved = planned * 1e9 / Math.max(1, writeEnd - writeStart);
        Latency l =
            new Latency(
                label,
                notify,
                load,
                rate,
                achieved,
                planned,
                consumed[0],
                ids.size(),
                histogram.quantile(0.50),
                histogram.quantile(0.99),
                histogram.quantile(1.0));
        System.out.printf(
            Locale.ROOT,
            "  written at %,.0f msg/s; p50 %s, p99 %s, max %s%n",
            achieved,
            OutboxReport.millis(l.p50()),
            OutboxReport.millis(l.p99()),
            OutboxReport.millis(l.max()));
        return l;
      } finally {
        relay.close();
      }
    }
  }

  private KafkaConsumer<byte[], byte[]> consumer() {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10);
    return new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException("outbox benchmark check failed: " + what);
    }
  }
}
