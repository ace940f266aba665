package dev.once.benchmarks;

import dev.once.jdbc.ConcurrentClaimPolicy;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.JdbcInbox;
import dev.once.jdbc.SqlDialect;
import dev.once.kafka.KafkaInboxConsumer;
import dev.once.testkit.servers.TestKafka;
import dev.once.testkit.servers.TestServers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.camel.processor.idempotent.jdbc.JdbcMessageIdRepository;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Kafka inbox against a plain consumer with no dedupe and against the same plain consumer
 * guarded by Camel's JDBC idempotent repository, on the same topic, the same PostgreSQL and the
 * same effect, in one run; writes {@code docs/benchmarks-kafka.md}.
 *
 * <p>Per duplicate ratio, one topic is filled up front ({@code message-id} header, record key = id,
 * so a duplicate lands on its original's partition, as a producer retry does). Then every variant
 * reads that whole topic from the beginning in a consumer group of its own, interleaved (plain,
 * Once, Camel, plain, Once, Camel, ...), after one unmeasured warm-up round. The effect is the same
 * for all: one row per applied message in a ledger table of the variant's own. The plain and Camel
 * loops do what a hand-written consumer does: per poll, one transaction with one JDBC batch of the
 * inserts, then {@code commitSync}; Camel's {@code JdbcMessageIdRepository.add(id)} runs first for
 * each record, as its idempotent consumer calls it (one call and transaction per message). Once is
 * {@link KafkaInboxConsumer} twice: with a per-record handler (one {@code INSERT} per record on the
 * batch's connection) and with a batch handler (the fresh records' inserts as one JDBC batch, the
 * plain loop's effect code); ids claimed in one statement per batch, offsets stored in the same
 * transaction.
 */
final class KafkaBench {

  /** The command the report names. */
  static final String COMMAND =
      "mvn -B -q -pl once-benchmarks -am package -DskipTests"
          + " && java -jar once-benchmarks/target/once-benchmarks.jar --only kafka";

  private static final String SCHEMA_TABLE_PREFIX = "kbench_";
  private static final String ONCE_TABLE = "kbench_once";
  private static final String OFFSETS_TABLE = "kbench_once_offsets";
  private static final String CAMEL_TABLE = "CAMEL_MESSAGEPROCESSED";
  private static final Duration POLL = Duration.ofMillis(500);

  /**
   * What to run.
   *
   * @param messages records produced per topic (per duplicate ratio)
   * @param partitions partitions of each topic
   * @param maxPollRecords {@code max.poll.records} of every consumer
   * @param dupPercents duplicate ratios: of every 100 records, this many repeat an earlier id
   * @param repetitions measured rounds (each variant once per round), after one warm-up round
   * @param warmupMessages records each variant processes in the warm-up round
   * @param camelMaxMessages Camel's measured run stops after this many records ...
   * @param camelMaxMillis ... or after this long, whichever comes first
   * @param inProcessBroker start the broker in this JVM (the smoke test) instead of a child JVM
   * @param probe run the statement probe (CountingDataSource) after the measured rounds
   */
  record Config(
      int messages,
      int partitions,
      int maxPollRecords,
      List<Integer> dupPercents,
      int repetitions,
      int warmupMessages,
      int camelMaxMessages,
      long camelMaxMillis,
      boolean quick,
      boolean inProcessBroker,
      boolean probe) {

    static Config fullRun() {
      return new Config(
          200_000, 4, 500, List.of(0, 20), 3, 20_000, 20_000, 20_000, false, false, true);
    }

    static Config quickRun() {
      return new Config(20_000, 4, 500, List.of(20), 2, 5_000, 2_000, 5_000, true, false, true);
    }
  }

  enum Kind {
    PLAIN("plain consumer, no dedupe"),
    ONCE("Once KafkaInboxConsumer"),
    /**
     * Once with a batch handler: the fresh records' inserts as one JDBC batch, like the plain
     * consumer's.
     */
    ONCE_BATCH("Once KafkaInboxConsumer, batch handler"),
    CAMEL("plain consumer + Camel JdbcMessageIdRepository.add");

    final String label;

    Kind(String label) {
      this.label = label;
    }

    String table() {
      return SCHEMA_TABLE_PREFIX + "ledger_" + name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * One variant's run over one topic. CPU figures are nanoseconds over the measured window, -1 when
   * unknown; {@code polled} counts every record the run polled, {@code ledgerRows} the rows its
   * effect left (checked).
   */
  record Rep(
      Kind kind,
      int dupPercent,
      int round,
      long messages,
      long nanos,
      long jvmCpu,
      long pgCpu,
      long brokerCpu,
      long machineBusy,
      long walBytes,
      long polled,
      long ledgerRows,
      boolean capped) {

    double perSecond() {
      return messages * 1e9 / nanos;
    }

    double perMessage(long cpu) {
      return cpu < 0 || messages == 0 ? Double.NaN : (double) cpu / messages;
    }

    /** Consumer-side CPU per message: this JVM plus the PostgreSQL server. */
    double consumerSidePerMessage() {
      return jvmCpu < 0 ? Double.NaN : perMessage(jvmCpu + Math.max(pgCpu, 0));
    }
  }

  /** Statements and commits per non-empty poll, from a run through {@link CountingDataSource}. */
  record Probe(
      Kind kind,
      int dupPercent,
      long polls,
      long messages,
      long statements,
      long commits,
      Map<String, Long> bySql,
      Map<String, Long> nanosBySql,
      long nanos) {}

  /** Everything the run saw. */
  static final class Result {
    final Config config;
    final Instant started = Instant.now();
    final Map<String, String> facts = new LinkedHashMap<>();
    final List<Rep> reps = new ArrayList<>();
    final List<Probe> probes = new ArrayList<>();
    final Map<Integer, Integer> distinctIds = new LinkedHashMap<>();
    String loadBefore;
    String loadAfter;
    long elapsedNanos;

    Result(Config config) {
      this.config = config;
    }
  }

  private final Config config;
  private final PostgresTarget pg;
  private final KafkaBroker broker;
  private final String runId;
  private final ProcCpu.Source pgCpu;
  private final ProcCpu.Source brokerCpu;
  private KafkaProducer<String, String> producer;

  private KafkaBench(Config config, PostgresTarget pg, KafkaBroker broker, String runId)
      throws SQLException {
    this.config = config;
    this.pg = pg;
    this.broker = broker;
    this.runId = runId;
    this.pgCpu = backends(pg);
    this.brokerCpu = broker.cpu();
  }

  /**
   * The CPU of the PostgreSQL backends serving this run's pool: the server may be shared (other
   * builds' tests), so the whole server's CPU would count their work too. All pool connections are
   * borrowed at once to learn their backend pids; the pool keeps them for the run. Background
   * processes (WAL writer, checkpointer) are not counted.
   */
  private static ProcCpu.Source backends(PostgresTarget pg) throws SQLException {
    if (!pg.serverCpu().available()) {
      return pg.serverCpu();
    }
    List<Connection> all = new ArrayList<>();
    List<Long> pids = new ArrayList<>();
    try {
      for (int i = 0; i < pg.pool.getMaximumPoolSize(); i++) {
        Connection c = pg.dataSource().getConnection();
        all.add(c);
        try (var s = c.createStatement();
            var rs = s.executeQuery("SELECT pg_backend_pid()")) {
          rs.next();
          pids.add(rs.getLong(1));
        }
      }
    } finally {
      for (Connection c : all) {
        c.close();
      }
    }
    return ProcCpu.processes(
        pids, "the PostgreSQL backends of this run's " + pids.size() + " pooled connections");
  }

  /**
   * Runs the scenario and answers what it saw (the ledger row counts were checked after every run).
   */
  static Result run(Config config) throws Exception {
    Result result = new Result(config);
    result.loadBefore = loadAverage();
    long t0 = System.nanoTime();
    String runId = Long.toHexString(System.nanoTime() & 0xffffffL);
    try (KafkaBroker broker = KafkaBroker.open(config.inProcessBroker());
        PostgresTarget pg = PostgresTarget.open(TestServers.postgres(), 2)) {
      KafkaBench bench = new KafkaBench(config, pg, broker, runId);
      result.facts.put(
          "PostgreSQL",
          pg.version()
              + "; "
              + pg.where()
              + "; "
              + String.join(", ", pg.settings())
              + "; pgjdbc defaults (no reWriteBatchedInserts)");
      result.facts.put("PostgreSQL CPU", bench.pgCpu.description());
      result.facts.put("Kafka", broker.where());
      result.facts.put("Kafka CPU", bench.brokerCpu.description());
      try {
        bench.runAll(result);
      } finally {
        if (bench.producer != null) {
          bench.producer.close(Duration.ofSeconds(10));
        }
      }
    }
    result.elapsedNanos = System.nanoTime() - t0;
    result.loadAfter = loadAverage();
    return result;
  }

  private void runAll(Result result) throws Exception {
    setUpTables();
    producer = producer();
    Kind[] kinds = Kind.values();
    for (int dup : config.dupPercents()) {
      String topic = "kbench-" + runId + "-d" + dup;
      TestKafka.createTopic(topic, config.partitions());
      long p0 = System.nanoTime();
      int distinct = produce(topic, dup);
      result.distinctIds.put(dup, distinct);
      System.out.printf(
          Locale.ROOT,
          "%n== Kafka, %d%% duplicates: %,d records (%,d distinct ids) produced to %s in %s%n",
          dup,
          config.messages(),
          distinct,
          topic,
          Report.duration(System.nanoTime() - p0));
      for (int round = 0; round <= config.repetitions(); round++) {
        for (Kind kind : kinds) {
          Rep rep = runOne(kind, topic, dup, round, distinct, pg.dataSource());
          if (round > 0) {
            result.reps.add(rep);
          }
          System.out.printf(
              Locale.ROOT,
              "  %s %-52s %,10.0f msg/s  CPU µs/msg: JVM %s, PostgreSQL %s, broker %s%s%n",
              round == 0 ? "warm-up" : "round " + round,
              kind.label,
              rep.perSecond(),
              Report.num(rep.perMessage(rep.jvmCpu()) / 1000),
              Report.num(rep.perMessage(rep.pgCpu()) / 1000),
              Report.num(rep.perMessage(rep.brokerCpu()) / 1000),
              rep.capped() ? "  (capped)" : "");
        }
      }
      if (config.probe()) {
        for (Kind kind : kinds) {
          result.probes.add(probe(kind, topic, dup));
        }
      }
    }
  }

  // ----------------------------------------------------------------------------------------------
  // set-up

  private void setUpTables() throws SQLException {
    for (Kind kind : Kind.values()) {
      pg.execute(
          "DROP TABLE IF EXISTS " + kind.table(),
          "CREATE TABLE "
              + kind.table()
              + " (seq bigserial PRIMARY KEY, message_id text NOT NULL, kafka_partition int NOT NULL,"
              + " kafka_offset bigint NOT NULL, payload text NOT NULL)");
    }
    pg.execute(
        "DROP TABLE IF EXISTS " + ONCE_TABLE,
        "DROP SEQUENCE IF EXISTS " + ONCE_TABLE + "_token_seq",
        "DROP TABLE IF EXISTS " + OFFSETS_TABLE,
        "DROP TABLE IF EXISTS " + CAMEL_TABLE);
    onceStore(pg.dataSource(), true);
    // Camel's documented table; its own create-on-start fails on PostgreSQL (see Peers.camel).
    pg.execute(new JdbcMessageIdRepository(pg.dataSource(), "kbench").getCreateString());
  }

  private static JdbcIdempotencyStore onceStore(DataSource ds, boolean createSchema) {
    return JdbcIdempotencyStore.builder(ds)
        .dialect(SqlDialect.POSTGRESQL)
        .table(ONCE_TABLE)
        .createSchema(createSchema)
        .concurrentClaims(ConcurrentClaimPolicy.WAIT)
        .build();
  }

  private KafkaProducer<String, String> producer() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 10);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, 128 * 1024);
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  /**
   * Produces the topic's records and answers how many distinct ids they carry. Of every 100
   * records, {@code dup} repeat the id (and key, hence partition) of one of the last 10,000 fresh
   * records.
   */
  private int produce(String topic, int dup) throws ExecutionException, InterruptedException {
    Random random = new Random(42 + dup);
    List<String> fresh = new ArrayList<>(config.messages());
    List<Future<RecordMetadata>> sends = new ArrayList<>(config.messages());
    for (int i = 0; i < config.messages(); i++) {
      String id;
      if (i % 100 < dup && !fresh.isEmpty()) {
        id = fresh.get(fresh.size() - 1 - random.nextInt(Math.min(fresh.size(), 10_000)));
      } else {
        id = runId + "-d" + dup + "-" + i;
        fresh.add(id);
      }
      String payload =
          String.format(
              Locale.ROOT,
              "{\"account\":\"acct-%06d\",\"amount\":%d}",
              random.nextInt(100_000),
              1 + random.nextInt(10_000));
      ProducerRecord<String, String> r = new ProducerRecord<>(topic, id, payload);
      r.headers().add(KafkaInboxConsumer.MESSAGE_ID_HEADER, id.getBytes(StandardCharsets.UTF_8));
      sends.add(producer.send(r));
    }
    producer.flush();
    // A record the broker refused would leave the topic short and every variant's count wrong.
    for (Future<RecordMetadata> send : sends) {
      send.get();
    }
    return fresh.size();
  }

  private KafkaConsumer<String, String> consumer(String group) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.maxPollRecords());
    return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
  }

  // ----------------------------------------------------------------------------------------------
  // variants

  /** One poll-and-process step of a variant: the number of records polled. */
  private interface Loop extends AutoCloseable {
    int step() throws Exception;

    /** Records the variant applied (its ledger must hold exactly this many rows). */
    long expectedRows(long polled, int distinctIdsOfTopic, boolean wholeTopic);

    @Override
    void close();
  }

  private static final String INSERT =
      "INSERT INTO %s (message_id, kafka_partition, kafka_offset, payload)"
          + " VALUES (?, ?, ?, ?)";

  private static void bind(PreparedStatement ps, ConsumerRecord<String, String> r)
      throws SQLException {
    ps.setString(1, KafkaInboxConsumer.messageIdHeader(r));
    ps.setInt(2, r.partition());
    ps.setLong(3, r.offset());
    ps.setString(4, r.value());
  }

  /**
   * The hand-written consumer's effect: one transaction per poll, the inserts as one JDBC batch.
   */
  private static void applyBatch(
      DataSource ds, String table, List<ConsumerRecord<String, String>> records)
      throws SQLException {
    if (records.isEmpty()) {
      return;
    }
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement(String.format(Locale.ROOT, INSERT, table))) {
        for (ConsumerRecord<String, String> r : records) {
          bind(ps, r);
          ps.addBatch();
        }
        ps.executeBatch();
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    }
  }

  private Loop open(Kind kind, String topic, String group, DataSource ds) throws SQLException {
    switch (kind) {
      case PLAIN -> {
        pg.execute("TRUNCATE TABLE " + kind.table());
        KafkaConsumer<String, String> consumer = consumer(group);
        consumer.subscribe(List.of(topic));
        return new Loop() {
          @Override
          public int step() throws SQLException {
            ConsumerRecords<String, String> records = consumer.poll(POLL);
            if (records.isEmpty()) {
              return 0;
            }
            List<ConsumerRecord<String, String>> all = new ArrayList<>(records.count());
            records.forEach(all::add);
            applyBatch(ds, kind.table(), all);
            consumer.commitSync();
            return records.count();
          }

          @Override
          public long expectedRows(long polled, int distinct, boolean whole) {
            return polled; // no dedupe: every duplicate is applied again
          }

          @Override
          public void close() {
            consumer.close();
          }
        };
      }
      case CAMEL -> {
        pg.execute("TRUNCATE TABLE " + kind.table(), "TRUNCATE TABLE " + CAMEL_TABLE);
        JdbcMessageIdRepository repository = new JdbcMessageIdRepository(ds, "kbench");
        repository.start();
        KafkaConsumer<String, String> consumer = consumer(group);
        consumer.subscribe(List.of(topic));
        List<String> seen = new ArrayList<>();
        return new Loop() {
          @Override
          public int step() throws SQLException {
            ConsumerRecords<String, String> records = consumer.poll(POLL);
            if (records.isEmpty()) {
              return 0;
            }
            List<ConsumerRecord<String, String>> fresh = new ArrayList<>(records.count());
            for (ConsumerRecord<String, String> r : records) {
              String id = KafkaInboxConsumer.messageIdHeader(r);
              seen.add(id);
              if (repository.add(
                  id)) { // Camel's idempotent consumer, eager: add first, then the route
                fresh.add(r);
              }
            }
            applyBatch(ds, kind.table(), fresh);
            consumer.commitSync();
            return records.count();
          }

          @Override
          public long expectedRows(long polled, int distinct, boolean whole) {
            return new HashSet<>(seen).size();
          }

          @Override
          public void close() {
            consumer.close();
            repository.stop();
          }
        };
      }
      case ONCE, ONCE_BATCH -> {
        pg.execute("TRUNCATE TABLE " + kind.table(), "TRUNCATE TABLE " + ONCE_TABLE);
        String insert = String.format(Locale.ROOT, INSERT, kind.table());
        JdbcInbox inbox = JdbcInbox.builder(ds, onceStore(ds, false)).consumer("kbench").build();
        KafkaInboxConsumer.Builder<String, String> builder =
            kind == Kind.ONCE
                ? KafkaInboxConsumer.builder(
                    consumer(group),
                    ds,
                    inbox,
                    (c, r) -> {
                      try (PreparedStatement ps = c.prepareStatement(insert)) {
                        bind(ps, r);
                        ps.executeUpdate();
                      }
                    })
                : KafkaInboxConsumer.batchBuilder(
                    consumer(group),
                    ds,
                    inbox,
                    (c, fresh) -> {
                      try (PreparedStatement ps = c.prepareStatement(insert)) {
                        for (ConsumerRecord<String, String> r : fresh) {
                          bind(ps, r);
                          ps.addBatch();
                        }
                        ps.executeBatch();
                      }
                    });
        KafkaInboxConsumer<String, String> consumer =
            builder
                .topics(List.of(topic))
                .deadLetters(producer)
                .offsetsTable(OFFSETS_TABLE)
                .createSchema(true)
                .build();
        pg.execute("TRUNCATE TABLE " + OFFSETS_TABLE); // created by the first build
        return new Loop() {
          @Override
          public int step() {
            return consumer.pollOnce(POLL);
          }

          @Override
          public long expectedRows(long polled, int distinct, boolean whole) {
            KafkaInboxConsumer.Stats s = consumer.stats();
            if (s.deadLettered() != 0 || s.applied() + s.duplicates() != polled) {
              throw new AssertionError("Once polled " + polled + " records but its stats say " + s);
            }
            if (whole && s.applied() != distinct) {
              throw new AssertionError(
                  "Once applied " + s.applied() + " of the topic's " + distinct + " distinct ids");
            }
            return s.applied();
          }

          @Override
          public void close() {
            consumer.close();
          }
        };
      }
      default -> throw new IllegalArgumentException(kind.name());
    }
  }

  /**
   * One variant over the topic, in a fresh consumer group. The window runs from the end of the
   * first non-empty poll (so the group join and the first fetch are outside it) to the end of the
   * last; its records are those polled after the first batch. Round 0 is the warm-up, capped at
   * {@link Config#warmupMessages}.
   */
  private Rep runOne(Kind kind, String topic, int dup, int round, int distinct, DataSource ds)
      throws Exception {
    String group =
        "kbench-" + runId + "-" + kind.name().toLowerCase(Locale.ROOT) + "-d" + dup + "-r" + round;
    long target =
        round == 0 ? Math.min(config.warmupMessages(), config.messages()) : config.messages();
    long maxNanos = Long.MAX_VALUE;
    if (kind == Kind.CAMEL) {
      target =
          Math.min(
              target,
              round == 0 ? Math.max(1, config.camelMaxMessages() / 5) : config.camelMaxMessages());
      maxNanos = TimeUnit.MILLISECONDS.toNanos(config.camelMaxMillis());
    }
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    try (Loop loop = open(kind, topic, group, ds)) {
      long polled = 0;
      long first = 0;
      long t0 = 0;
      long jvm0 = 0;
      long pg0 = 0;
      long broker0 = 0;
      long busy0 = 0;
      long wal0 = 0;
      long t1 = 0;
      boolean capped = false;
      while (polled < target) {
        int n = loop.step();
        if (n == 0) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                kind.label + " polled only " + polled + " of " + target + " records in 5 min");
          }
          continue;
        }
        polled += n;
        t1 = System.nanoTime();
        if (first == 0) {
          first = n;
          t0 = t1;
          jvm0 = ProcCpu.selfNanos();
          pg0 = pgCpu.nanos();
          broker0 = brokerCpu.nanos();
          busy0 = ProcCpu.machineBusyNanos();
          wal0 = pg.walBytes();
        } else if (t1 - t0 >= maxNanos) {
          capped = true;
          break;
        }
      }
      capped |= polled < config.messages();
      long jvm = delta(jvm0, ProcCpu.selfNanos());
      long pgNanos = delta(pg0, pgCpu.nanos());
      long brokerNanos = delta(broker0, brokerCpu.nanos());
      long busy = delta(busy0, ProcCpu.machineBusyNanos());
      long wal = delta(wal0, pg.walBytes());
      long rows =
          checkLedger(
              pg, kind, loop.expectedRows(polled, distinct, polled == config.messages()), polled);
      return new Rep(
          kind,
          dup,
          round,
          polled - first,
          t1 - t0,
          jvm,
          pgNanos,
          brokerNanos,
          busy,
          wal,
          polled,
          rows,
          capped);
    }
  }

  /**
   * Checks the variant's ledger row by row, not only its total, so a lost effect and a doubled one
   * cannot cancel out: no dedupe must hold each polled record (partition, offset) once, the others
   * each message id once; and the total must be {@code expected}.
   *
   * @return the ledger's row count
   */
  static long checkLedger(JdbcTarget pg, Kind kind, long expected, long polled)
      throws SQLException {
    String perKey = kind == Kind.PLAIN ? "kafka_partition, kafka_offset" : "message_id";
    long repeated =
        pg.queryLong(
            "SELECT count(*) FROM (SELECT "
                + perKey
                + " FROM "
                + kind.table()
                + " GROUP BY "
                + perKey
                + " HAVING count(*) > 1) repeated");
    long rows = pg.queryLong("SELECT count(*) FROM " + kind.table());
    if (repeated != 0 || rows != expected) {
      throw new AssertionError(
          kind.label
              + ": "
              + rows
              + " ledger rows, expected "
              + expected
              + ", and "
              + repeated
              + (kind == Kind.PLAIN ? " records" : " message ids")
              + " with more than one row ("
              + polled
              + " records polled)");
    }
    return rows;
  }

  private static long delta(long before, long after) {
    return before < 0 || after < 0 ? -1 : after - before;
  }

  /**
   * The same variant once more through a counting data source: JDBC executions and commits per
   * poll.
   */
  private Probe probe(Kind kind, String topic, int dup) throws Exception {
    CountingDataSource counting = new CountingDataSource(pg.dataSource());
    String group =
        "kbench-" + runId + "-" + kind.name().toLowerCase(Locale.ROOT) + "-d" + dup + "-probe";
    long target = Math.min(config.messages(), 10L * config.maxPollRecords());
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    try (Loop loop = open(kind, topic, group, counting.dataSource())) {
      long total = 0;
      long polled = 0;
      long polls = 0;
      long t0 = 0;
      while (total < target) {
        int n = loop.step();
        if (n > 0) {
          total += n;
          if (polls == 0) {
            counting
                .reset(); // leave the group join and the first batch's one-off work (the offsets
            // read) out
            t0 = System.nanoTime();
          } else {
            polled += n;
          }
          polls++;
        } else if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              kind.label + " probe polled only " + total + " of " + target + " records");
        }
      }
      long nanos = System.nanoTime() - t0;
      return new Probe(
          kind,
          dup,
          polls - 1,
          polled,
          counting.statements(),
          counting.commits(),
          counting.statementsBySql(),
          counting.nanosBySql(),
          nanos);
    }
  }

  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " / " + f[1] + " / " + f[2] + " (1 / 5 / 15 min)";
    } catch (Exception e) {
      return "unknown";
    }
  }
}
