package dev.once.benchmarks;

import dev.once.jdbc.ConcurrentClaimPolicy;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.JdbcInbox;
import dev.once.sqs.SqsInboxConsumer;
import dev.once.testkit.servers.TestServers;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * The SQS inbox against a plain SQS consumer with no dedupe, on the same SQS-compatible server
 * (ElasticMQ in this JVM), the same PostgreSQL and the same effect, in one run; writes {@code
 * docs/benchmarks-sqs.md}.
 *
 * <p>Per round each variant gets a queue of its own, filled up front with the same messages (the id
 * in a message attribute; of every 100, {@code dupPercent} repeat an earlier id), and reads it to
 * the end with one thread, receives of ten, interleaved (plain, Once, plain, Once, ...) after one
 * unmeasured warm-up round. The effect is one ledger row per applied message. The plain loop does
 * what a hand-written consumer does: per receive one transaction with the inserts as one JDBC
 * batch, commit, then {@code DeleteMessageBatch}. Once is {@link SqsInboxConsumer} with a
 * per-message handler doing the same {@code INSERT} on the batch's connection.
 */
final class SqsBench {

  /** The command the report names. */
  static final String COMMAND =
      "mvn -B -q -pl once-benchmarks -am package -DskipTests"
          + " && java -jar once-benchmarks/target/once-benchmarks.jar --only sqs";

  private static final String ID_ATTRIBUTE = "Once-Id";
  private static final String ONCE_TABLE = "sbench_once";

  /**
   * What to run.
   *
   * @param messages messages per queue
   * @param dupPercent of every 100 messages, this many repeat an earlier id
   * @param repetitions measured rounds (each variant once per round), after one warm-up round
   */
  record Config(int messages, int dupPercent, int repetitions) {
    static Config fullRun() {
      return new Config(10_000, 20, 3);
    }

    static Config quickRun() {
      return new Config(2_000, 20, 1);
    }
  }

  /** The variants. */
  enum Kind {
    PLAIN("plain SQS consumer, no dedupe", "sbench_plain"),
    ONCE("Once SqsInboxConsumer", "sbench_once_ledger");

    final String label;
    final String ledger;

    Kind(String label, String ledger) {
      this.label = label;
      this.ledger = ledger;
    }
  }

  /** One measured run of one variant. */
  record Rep(Kind kind, int round, int received, long ledgerRows, long nanos) {
    double rate() {
      return received / (nanos / 1e9);
    }
  }

  /** What a run saw. */
  static final class Result {
    final Config config;
    final List<Rep> reps = new ArrayList<>();
    final Map<String, String> facts = new LinkedHashMap<>();
    int distinctIds;
    Instant started = Instant.now();
    long elapsedNanos;
    String loadBefore = "";
    String loadAfter = "";

    Result(Config config) {
      this.config = config;
    }
  }

  private final Config config;
  private final DataSource ds;
  private final SqsClient sqs;
  private final String runId = Long.toHexString(System.nanoTime() & 0xffffffL);

  private SqsBench(Config config, DataSource ds, SqsClient sqs) {
    this.config = config;
    this.ds = ds;
    this.sqs = sqs;
  }

  /** Runs the scenario; the ledger row counts are checked after every run. */
  static Result run(Config config) throws InterruptedException, SQLException {
    Result result = new Result(config);
    result.loadBefore = KafkaBench.loadAverage();
    long t0 = System.nanoTime();
    SQSRestServer server =
        SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
    try (PostgresTarget pg = PostgresTarget.open(TestServers.postgres(), 2)) {
      int port = server.waitUntilStarted().localAddress().getPort();
      try (SqsClient sqs =
          SqsClient.builder()
              .endpointOverride(URI.create("http://127.0.0.1:" + port))
              .region(Region.US_EAST_1)
              .credentialsProvider(
                  StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
              .httpClient(UrlConnectionHttpClient.create())
              .build()) {
        result.facts.put(
            "PostgreSQL",
            pg.version() + "; " + pg.where() + "; " + String.join(", ", pg.settings()));
        result.facts.put(
            "SQS",
            "ElasticMQ (elasticmq-rest-sqs_2.13) in this JVM at 127.0.0.1:"
                + port
                + ", in memory; AWS SDK for Java v2 with its url-connection-client");
        new SqsBench(config, pg.dataSource(), sqs).runAll(result);
      }
    } finally {
      // Not awaited: ElasticMQ's HTTP server can take a minute to unbind, and the figures are in.
      server.stopAndGetFuture().apply();
    }
    result.elapsedNanos = System.nanoTime() - t0;
    result.loadAfter = KafkaBench.loadAverage();
    return result;
  }

  private void runAll(Result result) throws InterruptedException, SQLException {
    List<Map.Entry<String, String>> messages = messages();
    result.distinctIds = (int) messages.stream().map(Map.Entry::getKey).distinct().count();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      for (Kind kind : Kind.values()) {
        s.execute(
            "CREATE TABLE IF NOT EXISTS "
                + kind.ledger
                + " (msg_id VARCHAR(100) NOT NULL, payload TEXT NOT NULL)");
      }
    }
    store().createSchema();
    for (int round = 0; round <= config.repetitions(); round++) {
      for (Kind kind : Kind.values()) {
        String queue = fill(kind, round, messages);
        Rep rep = kind == Kind.PLAIN ? runPlain(queue, round) : runOnce(queue, round);
        long expected = kind == Kind.PLAIN ? messages.size() : result.distinctIds;
        if (rep.ledgerRows() != expected || rep.received() != messages.size()) {
          throw new IllegalStateException(
              kind.label
                  + " received "
                  + rep.received()
                  + " of "
                  + messages.size()
                  + " and wrote "
                  + rep.ledgerRows()
                  + " ledger rows, expected "
                  + expected);
        }
        System.out.printf(
            Locale.ROOT,
            "%s round %d: %,d messages in %s, %s msg/s%n",
            kind.label,
            round,
            rep.received(),
            Report.duration(rep.nanos()),
            Report.num(rep.rate()));
        if (round > 0) {
          result.reps.add(rep);
        }
        sqs.deleteQueue(b -> b.queueUrl(queue));
      }
    }
  }

  private JdbcIdempotencyStore store() {
    return JdbcIdempotencyStore.builder(ds)
        .table(ONCE_TABLE)
        .concurrentClaims(ConcurrentClaimPolicy.WAIT)
        .build();
  }

  private List<Map.Entry<String, String>> messages() {
    Random random = new Random(42);
    List<String> fresh = new ArrayList<>();
    List<Map.Entry<String, String>> out = new ArrayList<>(config.messages());
    for (int i = 0; i < config.messages(); i++) {
      String id;
      if (!fresh.isEmpty() && random.nextInt(100) < config.dupPercent()) {
        id = fresh.get(random.nextInt(fresh.size()));
      } else {
        id = "c-" + i;
        fresh.add(id);
      }
      out.add(Map.entry(id, "{\"id\":\"" + id + "\",\"amount\":" + random.nextInt(1000) + "}"));
    }
    return out;
  }

  /** A new queue for one run, filled with the messages; its ledger and the markers emptied. */
  private String fill(Kind kind, int round, List<Map.Entry<String, String>> messages)
      throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("TRUNCATE " + kind.ledger);
      s.execute("TRUNCATE " + ONCE_TABLE);
    }
    String queue =
        sqs.createQueue(
                b ->
                    b.queueName(
                            "sbench-" + runId + "-" + kind.name().toLowerCase(Locale.ROOT) + round)
                        .attributes(Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, "60")))
            .queueUrl();
    for (int from = 0; from < messages.size(); from += 10) {
      List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
      for (int i = from; i < Math.min(from + 10, messages.size()); i++) {
        entries.add(
            SendMessageBatchRequestEntry.builder()
                .id(Integer.toString(i - from))
                .messageBody(messages.get(i).getValue())
                .messageAttributes(
                    Map.of(
                        ID_ATTRIBUTE,
                        MessageAttributeValue.builder()
                            .dataType("String")
                            .stringValue(messages.get(i).getKey())
                            .build()))
                .build());
      }
      sqs.sendMessageBatch(b -> b.queueUrl(queue).entries(entries));
    }
    return queue;
  }

  private Rep runPlain(String queue, int round) throws SQLException {
    int received = 0;
    long t0 = System.nanoTime();
    while (received < config.messages()) {
      List<Message> batch =
          sqs.receiveMessage(
                  b ->
                      b.queueUrl(queue)
                          .maxNumberOfMessages(10)
                          .waitTimeSeconds(1)
                          .messageAttributeNames("All"))
              .messages();
      if (batch.isEmpty()) {
        continue;
      }
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(false);
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO " + Kind.PLAIN.ledger + " (msg_id, payload) VALUES (?, ?)")) {
          for (Message m : batch) {
            ps.setString(1, m.messageAttributes().get(ID_ATTRIBUTE).stringValue());
            ps.setString(2, m.body());
            ps.addBatch();
          }
          ps.executeBatch();
        }
        c.commit();
      }
      List<DeleteMessageBatchRequestEntry> entries = new ArrayList<>();
      for (int i = 0; i < batch.size(); i++) {
        entries.add(
            DeleteMessageBatchRequestEntry.builder()
                .id(Integer.toString(i))
                .receiptHandle(batch.get(i).receiptHandle())
                .build());
      }
      sqs.deleteMessageBatch(b -> b.queueUrl(queue).entries(entries));
      received += batch.size();
    }
    long nanos = System.nanoTime() - t0;
    return new Rep(Kind.PLAIN, round, received, ledgerRows(Kind.PLAIN), nanos);
  }

  private Rep runOnce(String queue, int round) throws InterruptedException, SQLException {
    AtomicInteger received = new AtomicInteger();
    AtomicLong done = new AtomicLong();
    CountDownLatch all = new CountDownLatch(1);
    JdbcInbox inbox = JdbcInbox.builder(ds, store()).consumer("sqs-bench").build();
    String insert = "INSERT INTO " + Kind.ONCE.ledger + " (msg_id, payload) VALUES (?, ?)";
    SqsInboxConsumer consumer =
        SqsInboxConsumer.builder(sqs, queue, inbox)
            .messageId(SqsInboxConsumer.messageAttribute(ID_ATTRIBUTE))
            .batchSize(10)
            .waitTime(Duration.ofSeconds(1))
            .handler(
                (c, m) -> {
                  try (PreparedStatement ps = c.prepareStatement(insert)) {
                    ps.setString(1, m.messageAttributes().get(ID_ATTRIBUTE).stringValue());
                    ps.setString(2, m.body());
                    ps.executeUpdate();
                  }
                })
            .onBatch(
                b -> {
                  if (received.addAndGet(b.applied().size() + b.duplicates().size())
                      >= config.messages()) {
                    done.set(System.nanoTime());
                    all.countDown();
                  }
                })
            .build();
    long t0 = System.nanoTime();
    consumer.start();
    try {
      if (!all.await(10, TimeUnit.MINUTES)) {
        throw new IllegalStateException(
            "the Once consumer settled " + received.get() + " of " + config.messages());
      }
    } finally {
      consumer.close();
    }
    return new Rep(Kind.ONCE, round, received.get(), ledgerRows(Kind.ONCE), done.get() - t0);
  }

  private long ledgerRows(Kind kind) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        var rs = s.executeQuery("SELECT COUNT(*) FROM " + kind.ledger)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Once ÷ plain per round. */
  static double[] ratios(List<Rep> reps) {
    Map<Integer, Double> plain = new LinkedHashMap<>();
    for (Rep r : reps) {
      if (r.kind() == Kind.PLAIN) {
        plain.put(r.round(), r.rate());
      }
    }
    return reps.stream()
        .filter(r -> r.kind() == Kind.ONCE && plain.containsKey(r.round()))
        .mapToDouble(r -> r.rate() / plain.get(r.round()))
        .sorted()
        .toArray();
  }

  /** The Markdown report. */
  static String render(Result run, String thisRun) {
    StringBuilder md = new StringBuilder();
    md.append("# Benchmarks: the SQS inbox\n\n")
        .append(
            "_Written by `once-benchmarks --only sqs` from its own measurements; do not edit by"
                + " hand. Ratios in the same run, interleaved, median with spread. The Kafka inbox:"
                + " [benchmarks-kafka.md](benchmarks-kafka.md)._\n\n")
        .append("- Command: `")
        .append(COMMAND)
        .append("`\n")
        .append(Report.thisRunLine(thisRun, run.started, run.elapsedNanos))
        .append('\n')
        .append("- Load average before: ")
        .append(run.loadBefore)
        .append("; after: ")
        .append(run.loadAfter)
        .append('\n')
        .append("\n## Machine\n\n")
        .append("- cores (nproc): ")
        .append(Runtime.getRuntime().availableProcessors())
        .append('\n')
        .append("- JDK: ")
        .append(System.getProperty("java.vm.name"))
        .append(' ')
        .append(System.getProperty("java.vm.version"))
        .append('\n');
    run.facts.forEach((k, v) -> md.append("- ").append(k).append(": ").append(v).append('\n'));
    Config c = run.config;
    md.append("\n## How it was measured\n\n")
        .append(
            String.format(
                Locale.ROOT,
                "- Per round each variant reads a queue of its own, filled first with %,d messages"
                    + " (~40-byte JSON body, the id in the message attribute `%s`; of every 100,"
                    + " %d repeat an earlier id: %,d distinct ids), to the end: one thread,"
                    + " receives of 10 with `WaitTimeSeconds` 1. One unmeasured warm-up round,"
                    + " then %d measured rounds, interleaved (plain, Once, plain, Once, ...).%n",
                c.messages(),
                ID_ATTRIBUTE,
                c.dupPercent(),
                run.distinctIds,
                c.repetitions()))
        .append(
            "- The effect is the same for both: an `INSERT` of one ledger row (message id, body)"
                + " per applied message, into a table of the variant's own, emptied before each"
                + " run. After each run the ledger's row count is checked: plain = messages"
                + " received (duplicates applied again), Once = distinct ids; a mismatch fails"
                + " the run.\n")
        .append(
            "  - **"
                + Kind.PLAIN.label
                + "**: per receive one transaction with the inserts as one JDBC batch, commit,"
                + " then `DeleteMessageBatch`: the hand-written at-least-once consumer.\n")
        .append(
            "  - **"
                + Kind.ONCE.label
                + "**: `batchSize(10)`, a per-message handler doing `executeUpdate` of the same"
                + " `INSERT` on the batch's connection; `JdbcInbox` on `JdbcIdempotencyStore`"
                + " (PostgreSQL, `ConcurrentClaimPolicy.WAIT`): the batch's ids claimed in one"
                + " statement with their markers, commit, then `DeleteMessageBatch`; visibility"
                + " extension ticker running.\n")
        .append(
            "- Window: plain from its first receive to its last delete; Once from `start()`"
                + " (which reads the queue's attributes) to the delete of its last batch. *msg/s*"
                + " counts every message received, duplicates included.\n");
    double[] ratios = ratios(run.reps);
    md.append("\n## Result\n\n").append("| variant | msg/s, median (min–max) |\n|---|---|\n");
    for (Kind kind : Kind.values()) {
      double[] rates =
          run.reps.stream().filter(r -> r.kind() == kind).mapToDouble(Rep::rate).sorted().toArray();
      md.append("| ").append(kind.label).append(" | ").append(Stats.spread(rates)).append(" |\n");
    }
    md.append("\n**msg/s, Once ÷ plain: ")
        .append(Stats.spread(ratios))
        .append(
            "** (paired within each round). Both variants ran against ElasticMQ in this JVM, not"
                + " AWS; the figures hold for this machine and its load average above.\n");
    md.append("\n## Every round\n\n| round | variant | received | ledger rows | time | msg/s |\n")
        .append("|---|---|---|---|---|---|\n");
    for (Rep r : run.reps) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %d | %s | %,d | %,d | %s | %s |%n",
              r.round(),
              r.kind().label,
              r.received(),
              r.ledgerRows(),
              Report.duration(r.nanos()),
              Report.num(r.rate())));
    }
    return md.toString();
  }
}
