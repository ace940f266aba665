package dev.once.benchmarks;

import dev.once.jdbc.ConcurrentClaimPolicy;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.JdbcInbox;
import dev.once.jdbc.SqlDialect;
import dev.once.nats.NatsInboxConsumer;
import dev.once.testkit.servers.TestNats;
import dev.once.testkit.servers.TestServers;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The NATS JetStream inbox against a plain JetStream pull consumer with no dedupe, on the same
 * stream, the same PostgreSQL and the same effect, in one run; writes {@code
 * docs/benchmarks-nats.md}.
 *
 * <p>Per duplicate ratio, one stream is filled up front (the id in an {@code event-id} header, so
 * JetStream's own duplicate window does not drop the repeats). Then each variant reads the whole
 * stream from the beginning through a durable pull consumer of its own, interleaved (plain, Once,
 * plain, Once, ...) after one unmeasured warm-up round. The plain loop does what a hand-written
 * consumer does: per fetch, one transaction with one JDBC batch of the inserts, then an ack per
 * message. Once is {@link NatsInboxConsumer} twice: with a per-message handler (one {@code INSERT}
 * on the batch's connection) and with a batch handler (the fresh messages' inserts as one JDBC
 * batch, the plain loop's effect code); the ids claimed in one statement per batch, an ack per
 * message after the commit.
 */
final class NatsBench {

  /** The command the report names. */
  static final String COMMAND =
      "mvn -B -q -pl once-benchmarks -am package -DskipTests"
          + " && java -jar once-benchmarks/target/once-benchmarks.jar --only nats";

  private static final String ONCE_TABLE = "nbench_once";
  private static final String ID_HEADER = "event-id";

  /**
   * What to run.
   *
   * @param messages messages published per stream (per duplicate ratio)
   * @param batch messages per fetch (and per transaction) for both variants
   * @param dupPercents of every 100 messages, this many repeat an earlier id
   * @param repetitions measured rounds, after one warm-up round
   * @param quick whether this is a short run, not to be quoted
   */
  record Config(
      int messages, int batch, List<Integer> dupPercents, int repetitions, boolean quick) {
    static Config fullRun() {
      return new Config(100_000, 500, List.of(0, 20), 3, false);
    }

    static Config quickRun() {
      return new Config(10_000, 500, List.of(20), 2, true);
    }
  }

  enum Kind {
    PLAIN("plain JetStream pull consumer, no dedupe"),
    ONCE("Once NatsInboxConsumer"),
    /**
     * Once with a batch handler: the fresh messages' inserts as one JDBC batch, like the plain one.
     */
    ONCE_BATCH("Once NatsInboxConsumer, batch handler");

    final String label;

    Kind(String label) {
      this.label = label;
    }

    String table() {
      return "nbench_ledger_" + name().toLowerCase(Locale.ROOT);
    }
  }

  /** One variant's pass over one stream; {@code rows} is what its effect left (checked). */
  record Rep(Kind kind, int dupPercent, int round, long messages, long nanos, long rows) {
    double perSecond() {
      return messages * 1e9 / nanos;
    }
  }

  /** Everything the run saw. */
  static final class Result {
    final Config config;
    final Instant started = Instant.now();
    final Map<String, String> facts = new LinkedHashMap<>();
    final List<Rep> reps = new ArrayList<>();
    final Map<Integer, Integer> distinctIds = new LinkedHashMap<>();
    String loadBefore;
    String loadAfter;
    long elapsedNanos;

    Result(Config config) {
      this.config = config;
    }

    /** {@code kind}'s msg/s ÷ the plain consumer's, per measured round, for one duplicate ratio. */
    double[] ratios(Kind kind, int dup) {
      List<Double> r = new ArrayList<>();
      for (int round = 1; round <= config.repetitions(); round++) {
        Rep plain = find(Kind.PLAIN, dup, round);
        Rep once = find(kind, dup, round);
        if (plain != null && once != null) {
          r.add(once.perSecond() / plain.perSecond());
        }
      }
      return r.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    }

    double[] rates(Kind kind, int dup) {
      return reps.stream()
          .filter(x -> x.kind() == kind && x.dupPercent() == dup)
          .mapToDouble(Rep::perSecond)
          .sorted()
          .toArray();
    }

    private Rep find(Kind kind, int dup, int round) {
      for (Rep r : reps) {
        if (r.kind() == kind && r.dupPercent() == dup && r.round() == round) {
          return r;
        }
      }
      return null;
    }
  }

  private final Config config;
  private final PostgresTarget pg;
  private final Connection nats;
  private final String runId = Long.toHexString(System.nanoTime() & 0xffffffL);

  private NatsBench(Config config, PostgresTarget pg, Connection nats) {
    this.config = config;
    this.pg = pg;
    this.nats = nats;
  }

  /** Runs the scenario; every pass's ledger rows were checked. */
  static Result run(Config config) throws Exception {
    Result result = new Result(config);
    result.loadBefore = KafkaBench.loadAverage();
    long t0 = System.nanoTime();
    try (PostgresTarget pg = PostgresTarget.open(TestServers.postgres(), 2)) {
      Connection nats = Nats.connect(TestNats.url());
      try {
        result.facts.put(
            "PostgreSQL",
            pg.version() + "; " + pg.where() + "; " + String.join(", ", pg.settings()));
        result.facts.put(
            "NATS",
            "nats-server "
                + nats.getServerInfo().getVersion()
                + " at "
                + TestNats.url()
                + ", JetStream file storage");
        new NatsBench(config, pg, nats).runAll(result);
      } finally {
        nats.close();
      }
    }
    result.elapsedNanos = System.nanoTime() - t0;
    result.loadAfter = KafkaBench.loadAverage();
    return result;
  }

  private void runAll(Result result) throws Exception {
    for (Kind kind : Kind.values()) {
      pg.execute(
          "DROP TABLE IF EXISTS " + kind.table(),
          "CREATE TABLE "
              + kind.table()
              + " (seq bigserial PRIMARY KEY, message_id text NOT NULL, payload text NOT NULL)");
    }
    pg.execute(
        "DROP TABLE IF EXISTS " + ONCE_TABLE,
        "DROP SEQUENCE IF EXISTS " + ONCE_TABLE + "_token_seq");
    store(true);
    JetStreamManagement jsm = nats.jetStreamManagement();
    for (int dup : config.dupPercents()) {
      String stream = "nbench-" + runId + "-d" + dup;
      jsm.addStream(
          StreamConfiguration.builder()
              .name(stream)
              .subjects(stream + ".in")
              .storageType(StorageType.File)
              .build());
      try {
        long p0 = System.nanoTime();
        int distinct = publish(stream, dup);
        result.distinctIds.put(dup, distinct);
        System.out.printf(
            Locale.ROOT,
            "%n== NATS, %d%% duplicates: %,d messages (%,d distinct ids) published to %s in %s%n",
            dup,
            config.messages(),
            distinct,
            stream,
            Report.duration(System.nanoTime() - p0));
        for (int round = 0; round <= config.repetitions(); round++) {
          for (Kind kind : Kind.values()) {
            Rep rep = runOne(jsm, kind, stream, dup, round, distinct);
            if (round > 0) {
              result.reps.add(rep);
            }
            System.out.printf(
                Locale.ROOT,
                "  %s %-44s %,10.0f msg/s%n",
                round == 0 ? "warm-up" : "round " + round,
                kind.label,
                rep.perSecond());
          }
        }
      } finally {
        jsm.deleteStream(stream);
      }
    }
  }

  private JdbcIdempotencyStore store(boolean createSchema) {
    return JdbcIdempotencyStore.builder(pg.dataSource())
        .dialect(SqlDialect.POSTGRESQL)
        .table(ONCE_TABLE)
        .createSchema(createSchema)
        .concurrentClaims(ConcurrentClaimPolicy.WAIT)
        .build();
  }

  /** Publishes the stream's messages; answers how many distinct ids they carry. */
  private int publish(String stream, int dup)
      throws ExecutionException, IOException, InterruptedException, TimeoutException {
    JetStream js = nats.jetStream();
    Random random = new Random(42 + dup);
    List<String> fresh = new ArrayList<>(config.messages());
    List<CompletableFuture<PublishAck>> acks = new ArrayList<>();
    for (int i = 0; i < config.messages(); i++) {
      String id;
      if (i % 100 < dup && !fresh.isEmpty()) {
        id = fresh.get(fresh.size() - 1 - random.nextInt(Math.min(fresh.size(), 10_000)));
      } else {
        id = runId + "-d" + dup + "-" + i;
        fresh.add(id);
      }
      Headers headers = new Headers();
      headers.put(ID_HEADER, id);
      String payload =
          String.format(
              Locale.ROOT,
              "{\"account\":\"acct-%06d\",\"amount\":%d}",
              random.nextInt(100_000),
              1 + random.nextInt(10_000));
      acks.add(
          js.publishAsync(
              NatsMessage.builder()
                  .subject(stream + ".in")
                  .headers(headers)
                  .data(payload.getBytes(StandardCharsets.UTF_8))
                  .build()));
      if (acks.size() >= 1000) {
        CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        acks.clear();
      }
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    return fresh.size();
  }

  private Rep runOne(
      JetStreamManagement jsm, Kind kind, String stream, int dup, int round, int distinct)
      throws Exception {
    pg.execute("TRUNCATE " + kind.table(), "TRUNCATE " + ONCE_TABLE);
    String durable = kind.name().toLowerCase(Locale.ROOT) + "-r" + round;
    jsm.addOrUpdateConsumer(
        stream,
        ConsumerConfiguration.builder()
            .durable(durable)
            .ackPolicy(AckPolicy.Explicit)
            .deliverPolicy(DeliverPolicy.All)
            .ackWait(Duration.ofSeconds(60))
            .maxAckPending(Math.max(1000, 2 * config.batch()))
            .build());
    try {
      long nanos =
          kind == Kind.PLAIN
              ? plain(stream, durable)
              : once(stream, durable, kind == Kind.ONCE_BATCH);
      long rows = count(kind.table());
      long expected = kind == Kind.PLAIN ? config.messages() : distinct;
      if (rows != expected) {
        throw new IllegalStateException(
            kind.label + " left " + rows + " ledger rows, expected " + expected);
      }
      return new Rep(kind, dup, round, config.messages(), nanos, rows);
    } finally {
      jsm.deleteConsumer(stream, durable);
    }
  }

  /** The hand-written consumer: fetch, one transaction with a JDBC batch, commit, ack each. */
  private long plain(String stream, String durable) throws Exception {
    JetStreamSubscription sub =
        nats.jetStream().subscribe(null, PullSubscribeOptions.bind(stream, durable));
    try {
      long t0 = System.nanoTime();
      long done = 0;
      while (done < config.messages()) {
        List<Message> batch = sub.fetch(config.batch(), Duration.ofMillis(100));
        if (batch.isEmpty()) {
          continue;
        }
        try (java.sql.Connection c = pg.dataSource().getConnection()) {
          c.setAutoCommit(false);
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO " + Kind.PLAIN.table() + " (message_id, payload) VALUES (?, ?)")) {
            for (Message m : batch) {
              ps.setString(1, m.getHeaders().getFirst(ID_HEADER));
              ps.setString(2, new String(m.getData(), StandardCharsets.UTF_8));
              ps.addBatch();
            }
            ps.executeBatch();
          }
          c.commit();
        }
        batch.forEach(Message::ack);
        done += batch.size();
      }
      return System.nanoTime() - t0;
    } finally {
      sub.unsubscribe();
    }
  }

  /**
   * Once's consumer, with a per-message handler or a batch handler; the pass ends when every
   * message was settled.
   */
  private long once(String stream, String durable, boolean batchHandler)
      throws IOException, InterruptedException, JetStreamApiException {
    AtomicLong settled = new AtomicLong();
    CountDownLatch allSettled = new CountDownLatch(1);
    JdbcInbox inbox = JdbcInbox.builder(pg.dataSource(), store(false)).consumer("nbench").build();
    Kind kind = batchHandler ? Kind.ONCE_BATCH : Kind.ONCE;
    String insert = "INSERT INTO " + kind.table() + " (message_id, payload) VALUES (?, ?)";
    NatsInboxConsumer.Builder builder =
        NatsInboxConsumer.builder(nats, stream, durable, inbox)
            .messageId(m -> m.getHeaders().getFirst(ID_HEADER))
            .batchSize(config.batch())
            .onBatch(
                b -> {
                  if (settled.addAndGet(b.applied().size() + b.duplicates().size())
                      >= config.messages()) {
                    allSettled.countDown();
                  }
                });
    if (batchHandler) {
      builder.batchHandler(
          (c, fresh) -> {
            try (PreparedStatement ps = c.prepareStatement(insert)) {
              for (Message m : fresh) {
                ps.setString(1, m.getHeaders().getFirst(ID_HEADER));
                ps.setString(2, new String(m.getData(), StandardCharsets.UTF_8));
                ps.addBatch();
              }
              ps.executeBatch();
            }
          });
    } else {
      builder.handler(
          (c, m) -> {
            try (PreparedStatement ps = c.prepareStatement(insert)) {
              ps.setString(1, m.getHeaders().getFirst(ID_HEADER));
              ps.setString(2, new String(m.getData(), StandardCharsets.UTF_8));
              ps.executeUpdate();
            }
          });
    }
    NatsInboxConsumer consumer = builder.build();
    long t0 = System.nanoTime();
    consumer.start();
    try {
      if (!allSettled.await(10, TimeUnit.MINUTES)) {
        throw new IllegalStateException(
            "Once settled " + settled.get() + " of " + config.messages() + " in 10 minutes");
      }
      return System.nanoTime() - t0;
    } finally {
      consumer.close();
    }
  }

  /** docs/benchmarks-nats.md from a run; every figure in it comes from the run. */
  static String render(Result run, String thisRun) {
    StringBuilder md = new StringBuilder();
    Config c = run.config;
    md.append("# Benchmarks: the NATS JetStream inbox\n\n");
    md.append(
        "_Written by `once-benchmarks --only nats` from its own measurements; do not edit by hand."
            + " Figures are ratios against a plain consumer measured in the same run, interleaved by"
            + " round; median with (min–max). The Kafka inbox:"
            + " [benchmarks-kafka.md](benchmarks-kafka.md)._\n");
    if (c.quick()) {
      md.append("\n**This is a `--quick` run: too short to quote.**\n");
    }
    md.append("\n- Command: `").append(COMMAND).append("`\n");
    md.append(Report.thisRunLine(thisRun, run.started, run.elapsedNanos)).append('\n');
    md.append("- Load average before: ")
        .append(run.loadBefore)
        .append("; after: ")
        .append(run.loadAfter)
        .append(
            ". The machine may be shared with other work; the baseline ran in the same rounds, so"
                + " the ratios are fairer than the absolute rates.\n");
    md.append("\n## Machine\n\n");
    for (Map.Entry<String, String> e : Benchmarks.machine().entrySet()) {
      md.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
    }
    for (Map.Entry<String, String> e : run.facts.entrySet()) {
      md.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
    }
    md.append("\n## Throughput\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "%,d messages per stream, fetched %d at a time by each variant from a durable pull"
                + " consumer of its own (explicit acks), one transaction per fetch on PostgreSQL;"
                + " %d measured rounds after a warm-up. The plain consumer inserts every message"
                + " (a JDBC batch per fetch) and applies duplicates again; Once applies each id"
                + " once and skips the repeats, with a per-message handler (one INSERT per fresh"
                + " message on the batch's connection) and with a batch handler (the fresh"
                + " messages' inserts as one JDBC batch, the plain loop's effect code). Ledger rows"
                + " were checked after every pass.%n%n",
            c.messages(),
            c.batch(),
            c.repetitions()));
    md.append(
        "| duplicates | distinct ids | plain msg/s | Once msg/s | Once ÷ plain | Once, batch handler"
            + " msg/s | Once batch ÷ plain |\n");
    md.append("|---|---|---|---|---|---|---|\n");
    for (int dup : c.dupPercents()) {
      md.append("| ")
          .append(dup)
          .append(" % | ")
          .append(String.format(Locale.ROOT, "%,d", run.distinctIds.getOrDefault(dup, 0)))
          .append(" | ")
          .append(Stats.spread(run.rates(Kind.PLAIN, dup)))
          .append(" | ")
          .append(Stats.spread(run.rates(Kind.ONCE, dup)))
          .append(" | ")
          .append(Stats.spread(run.ratios(Kind.ONCE, dup)))
          .append(" | ")
          .append(Stats.spread(run.rates(Kind.ONCE_BATCH, dup)))
          .append(" | ")
          .append(Stats.spread(run.ratios(Kind.ONCE_BATCH, dup)))
          .append(" |\n");
    }
    return md.toString();
  }

  private long count(String table) throws SQLException {
    try (java.sql.Connection c = pg.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + table);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
