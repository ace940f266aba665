package dev.once.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.once.jdbc.JdbcInbox;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;

/** The consumer in this JVM against a real SQS-compatible server (ElasticMQ) and PostgreSQL. */
class SqsInboxIT {

  private TestSqs sqs;
  private TestDb db;
  private final List<SqsInboxConsumer> consumers = new ArrayList<>();
  private final List<SqsClient> clients = new ArrayList<>();
  private final AtomicInteger settled = new AtomicInteger();
  private final AtomicInteger duplicates = new AtomicInteger();
  private final Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();

  /** Per body, the receive count SQS gave each handler call. */
  private final Map<String, List<Integer>> receives = new ConcurrentHashMap<>();

  /** The handler of the message with this body waits for {@link #gate} once. */
  private volatile String gatedBody;

  private final CountDownLatch entered = new CountDownLatch(1);
  private final CountDownLatch gate = new CountDownLatch(1);

  @BeforeEach
  void setUp() throws Exception {
    sqs = new TestSqs("once-it");
    db = new TestDb();
  }

  @AfterEach
  void tearDown() throws Exception {
    gate.countDown();
    consumers.forEach(SqsInboxConsumer::close);
    clients.forEach(SqsClient::close);
    try {
      sqs.close();
    } finally {
      db.close();
    }
  }

  private SqsInboxConsumer.Builder builder(SqsClient client, String queueUrl, int maxAttempts) {
    JdbcInbox inbox = JdbcInbox.builder(db.pool, db.store()).consumer("sqs-it").build();
    return SqsInboxConsumer.builder(client, queueUrl, inbox)
        .handler(
            (c, m) -> {
              String body = m.body();
              handled.computeIfAbsent(body, k -> new AtomicInteger()).incrementAndGet();
              receives
                  .computeIfAbsent(body, k -> new CopyOnWriteArrayList<>())
                  .add(SqsInboxConsumer.receiveCount(m));
              if (body.equals(gatedBody) && entered.getCount() > 0) {
                entered.countDown();
                assertThat(gate.await(60, TimeUnit.SECONDS)).isTrue();
              }
              if (body.startsWith("poison")) {
                throw new IllegalStateException("cannot apply " + body);
              }
              TestDb.log(c, db.effects(), idOf(m), body);
            })
        .messageId(SqsInboxConsumer.messageAttribute(TestSqs.ID_ATTRIBUTE))
        .batchSize(25)
        .waitTime(Duration.ofSeconds(1))
        .maxAttempts(maxAttempts)
        .backoff(Duration.ofSeconds(1), Duration.ofSeconds(1))
        .onBatch(
            b -> {
              settled.addAndGet(b.applied().size() + b.duplicates().size());
              duplicates.addAndGet(b.duplicates().size());
            });
  }

  private SqsInboxConsumer.Builder builder(String queueUrl, int maxAttempts) {
    return builder(sqs.client, queueUrl, maxAttempts);
  }

  private static String idOf(Message m) {
    return SqsInboxConsumer.messageAttribute(TestSqs.ID_ATTRIBUTE).apply(m);
  }

  private SqsInboxConsumer start(SqsInboxConsumer.Builder builder) {
    SqsInboxConsumer consumer = builder.build();
    consumers.add(consumer);
    consumer.start();
    return consumer;
  }

  @Test
  void thirtyPercentRepeatedIdsAreEachAppliedOnceAndEveryMessageDeleted() throws Exception {
    String queue = sqs.queue(30);
    long seed = System.nanoTime();
    System.out.println("[once-sqs] duplicates seed " + seed);
    Random random = new Random(seed);
    List<String> ids = new ArrayList<>();
    List<Map.Entry<String, String>> sent = new ArrayList<>();
    int messages = 300;
    for (int i = 0; i < messages; i++) {
      String id =
          !ids.isEmpty() && random.nextInt(100) < 30
              ? ids.get(random.nextInt(ids.size()))
              : "m-" + i;
      ids.add(id);
      sent.add(Map.entry(id, "effect " + id));
    }
    sqs.sendAll(queue, sent);
    Set<String> distinct = new LinkedHashSet<>(ids);
    start(builder(queue, 5));

    await().atMost(Duration.ofSeconds(60)).until(() -> settled.get() == messages);
    Map<String, Integer> counts = db.effectCounts();
    assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(distinct);
    assertThat(counts.values()).allMatch(n -> n == 1);
    assertThat(duplicates.get()).isEqualTo(messages - distinct.size());
    await().atMost(Duration.ofSeconds(10)).until(() -> sqs.unsettled(queue) == 0);
  }

  @Test
  void aDeleteLostAfterTheCommitComesBackAfterTheVisibilityTimeoutAndIsSkipped() throws Exception {
    String queue = sqs.queue(2);
    // The first DeleteMessageBatch never reaches the server: as a connection lost after the
    // commit.
    AtomicInteger deletesLost = new AtomicInteger();
    ExecutionInterceptor loseFirstDelete =
        new ExecutionInterceptor() {
          @Override
          public void beforeExecution(
              Context.BeforeExecution context, ExecutionAttributes attributes) {
            if (context.request() instanceof DeleteMessageBatchRequest
                && deletesLost.compareAndSet(0, 1)) {
              throw SdkClientException.create("connection lost (test)");
            }
          }
        };
    SqsClient losing = TestSqs.client(TestSqs.endpoint(), loseFirstDelete);
    clients.add(losing);
    sqs.send(queue, "d-1", "effect d-1");
    start(builder(losing, queue, 5));

    await().atMost(Duration.ofSeconds(30)).until(() -> duplicates.get() == 1);
    assertThat(deletesLost).hasValue(1);
    assertThat(db.effectCounts()).containsExactly(Map.entry("d-1", 1));
    assertThat(handled.get("effect d-1")).as("the handler ran once").hasValue(1);
    assertThat(settled).as("applied, then skipped on its second receive").hasValue(2);
    await().atMost(Duration.ofSeconds(10)).until(() -> sqs.unsettled(queue) == 0);
  }

  @Test
  void aPoisonMessageIsMovedToTheDeadLetterQueueAfterMaxAttemptsWhileTheOthersAreApplied()
      throws Exception {
    String dlq = sqs.deadLetterQueue();
    String queue = sqs.queue(30, dlq, 3);
    List<Map.Entry<String, String>> sent = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      sent.add(Map.entry("m-" + i, i == 5 ? "poison m-5" : "effect m-" + i));
    }
    sqs.sendAll(queue, sent);
    start(builder(queue, 3));

    await().atMost(Duration.ofSeconds(60)).until(() -> sqs.unsettled(dlq) == 1);
    await().atMost(Duration.ofSeconds(30)).until(() -> sqs.unsettled(queue) == 0);
    assertThat(db.effectCounts()).hasSize(19).doesNotContainKey("m-5");
    assertThat(receives.get("poison m-5"))
        .as("tried on each of its receives, then moved by the redrive policy")
        .containsExactly(1, 2, 3);
    Message dead = sqs.client.receiveMessage(b -> b.queueUrl(dlq)).messages().get(0);
    assertThat(dead.body()).isEqualTo("poison m-5");
  }

  @Test
  void aMessageWithoutAnIdIsNeverAppliedAndEndsInTheDeadLetterQueue() throws Exception {
    String dlq = sqs.deadLetterQueue();
    String queue = sqs.queue(30, dlq, 2);
    sqs.client.sendMessage(b -> b.queueUrl(queue).messageBody("no id"));
    sqs.send(queue, "m-1", "effect m-1");
    start(builder(queue, 2));

    await().atMost(Duration.ofSeconds(30)).until(() -> sqs.unsettled(dlq) == 1);
    await().atMost(Duration.ofSeconds(30)).until(() -> sqs.unsettled(queue) == 0);
    assertThat(handled).doesNotContainKey("no id");
    assertThat(db.effectCounts()).containsExactly(Map.entry("m-1", 1));
  }

  @Test
  void withoutARedrivePolicyAGivenUpMessageIsKeptAndComesBackAfterMaxBackoff() throws Exception {
    String queue = sqs.queue(30);
    sqs.send(queue, "p-1", "poison p-1");
    start(builder(queue, 1));

    // Given up on every receive, and still on the queue: never deleted unapplied.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> handled.get("poison p-1") != null && handled.get("poison p-1").get() >= 3);
    assertThat(receives.get("poison p-1")).startsWith(1, 2, 3);
    assertThat(sqs.unsettled(queue)).isEqualTo(1);
  }

  @Test
  void aBatchRunningLongerThanTheVisibilityTimeoutIsNotReceivedByAnotherConsumer()
      throws Exception {
    int visibility = 2;
    String queue = sqs.queue(visibility);
    gatedBody = "effect slow";
    sqs.send(queue, "slow", "effect slow");
    start(builder(queue, 5));
    assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
    // A second consumer receives all along: it would get the message once its visibility ran out.
    start(builder(queue, 5));

    await()
        .during(Duration.ofSeconds(visibility * 3L))
        .atMost(Duration.ofSeconds(visibility * 4L))
        .until(() -> handled.get("effect slow").get() == 1 && sqs.inFlight(queue) == 1);
    gate.countDown();

    await().atMost(Duration.ofSeconds(30)).until(() -> sqs.unsettled(queue) == 0);
    assertThat(receives.get("effect slow")).as("received once, never again").containsExactly(1);
    assertThat(db.effectCounts()).containsExactly(Map.entry("slow", 1));
  }

  @Test
  void aFifoQueuesDeduplicationIdIsTheMessageId() throws Exception {
    String queue =
        sqs.create(
            "once-it-" + System.nanoTime() + ".fifo",
            Map.of(
                QueueAttributeName.FIFO_QUEUE, "true",
                QueueAttributeName.VISIBILITY_TIMEOUT, "30"));
    sqs.client.sendMessage(
        b ->
            b.queueUrl(queue)
                .messageBody("effect f-1")
                .messageGroupId("g")
                .messageDeduplicationId("f-1"));
    AtomicBoolean sawId = new AtomicBoolean();
    JdbcInbox inbox = JdbcInbox.builder(db.pool, db.store()).consumer("sqs-it").build();
    start(
        SqsInboxConsumer.builder(sqs.client, queue, inbox)
            .messageId(SqsInboxConsumer::deduplicationId)
            .waitTime(Duration.ofSeconds(1))
            .handler(
                (c, m) -> {
                  sawId.set("f-1".equals(SqsInboxConsumer.deduplicationId(m)));
                  TestDb.log(c, db.effects(), SqsInboxConsumer.deduplicationId(m), m.body());
                }));

    await().atMost(Duration.ofSeconds(30)).until(() -> sqs.unsettled(queue) == 0);
    assertThat(sawId).isTrue();
    assertThat(db.effectCounts()).containsExactly(Map.entry("f-1", 1));
  }

  @Test
  void closeAbandonsALongPollAtOnceAndWhatItBringsIsHandedBackBeforeAwaitTerminationReturns()
      throws Exception {
    // A visibility timeout far longer than the test: a message the abandoned poll took and did not
    // hand back could not be applied in time.
    String queue = sqs.queue(300);
    CountDownLatch polling = new CountDownLatch(1);
    AtomicInteger receivedAfterClose = new AtomicInteger();
    AtomicBoolean closed = new AtomicBoolean();
    ExecutionInterceptor seePoll =
        new ExecutionInterceptor() {
          @Override
          public void beforeTransmission(
              Context.BeforeTransmission context, ExecutionAttributes attributes) {
            if (context.request() instanceof ReceiveMessageRequest) {
              polling.countDown();
            }
          }

          @Override
          public void afterExecution(
              Context.AfterExecution context, ExecutionAttributes attributes) {
            if (closed.get() && context.response() instanceof ReceiveMessageResponse r) {
              receivedAfterClose.addAndGet(r.messages().size());
            }
          }
        };
    SqsClient watched = TestSqs.client(TestSqs.endpoint(), seePoll);
    clients.add(watched);
    SqsInboxConsumer first = start(builder(watched, queue, 5).waitTime(Duration.ofSeconds(20)));
    assertThat(polling.await(30, TimeUnit.SECONDS)).isTrue();

    long t0 = System.nanoTime();
    closed.set(true);
    first.close();
    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .as("close() did not wait for the 20 s poll")
        .isLessThan(Duration.ofSeconds(5));

    // The abandoned poll is still waiting on the server: it takes this message.
    sqs.send(queue, "after", "effect after");
    assertThat(first.awaitTermination(Duration.ofSeconds(30))).isTrue();
    assertThat(receivedAfterClose).as("taken by the abandoned poll").hasValue(1);
    watched.close(); // the application closes its client only now

    start(builder(queue, 5));
    await().atMost(Duration.ofSeconds(60)).until(() -> sqs.unsettled(queue) == 0);
    assertThat(db.effectCounts()).containsExactly(Map.entry("after", 1));
    assertThat(handled.get("effect after")).as("handled once, by the open consumer").hasValue(1);
  }

  @Test
  void badSettingsAreRefusedWithTheValue() {
    String queue = sqs.queue(30);
    JdbcInbox inbox = JdbcInbox.builder(db.pool, db.store()).consumer("sqs-it").build();
    SqsInboxConsumer.Builder b = SqsInboxConsumer.builder(sqs.client, queue, inbox);
    assertThatThrownBy(() -> b.batchSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("batchSize must be positive, but was 0");
    assertThatThrownBy(() -> b.waitTime(Duration.ofSeconds(21)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("waitTime must be whole seconds from 0 to 20 s, but was PT21S");
    assertThatThrownBy(() -> b.waitTime(Duration.ofMillis(1500)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT1.5S");
    assertThatThrownBy(() -> b.maxAttempts(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxAttempts must be positive, but was 0");
    assertThatThrownBy(() -> b.backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT1S");
    assertThatThrownBy(() -> b.storeRetryDelay(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("storeRetryDelay must be positive, but was PT0S");
    assertThatThrownBy(() -> SqsInboxConsumer.builder(sqs.client, " ", inbox))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("queueUrl must not be blank, but was ' '");
    assertThatThrownBy(() -> SqsInboxConsumer.messageAttribute(""))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("handler is required");
  }

  @Test
  void startRefusesAQueueItCannotConsumeSafely() {
    String dlq = sqs.deadLetterQueue();
    String movesTooSoon = sqs.queue(30, dlq, 2);
    assertThatThrownBy(() -> start(builder(movesTooSoon, 5)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("after 2 receives (RedrivePolicy maxReceiveCount)")
        .hasMessageContaining("fewer than maxAttempts 5");

    String noVisibility = sqs.queue(0);
    assertThatThrownBy(() -> start(builder(noVisibility, 1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("VisibilityTimeout 0");

    String missing = sqs.queue(30);
    sqs.client.deleteQueue(r -> r.queueUrl(missing));
    assertThatThrownBy(() -> start(builder(missing, 1)))
        .isInstanceOf(QueueDoesNotExistException.class);

    SqsInboxConsumer twice = start(builder(sqs.queue(30), 1));
    assertThatThrownBy(twice::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already started");
  }
}
