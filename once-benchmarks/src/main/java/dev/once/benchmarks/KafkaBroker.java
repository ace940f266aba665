package dev.once.benchmarks;

import dev.once.testkit.ChildJvm;
import dev.once.testkit.servers.TestKafka;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Kafka broker of the Kafka scenario: the configured one ({@code ONCE_TEST_KAFKA_BOOTSTRAP})
 * when it answers, otherwise the test kit's in-process KRaft broker started in a <em>child
 * JVM</em>, so that the broker's CPU is not counted as the consumer's (this JVM's CPU is read from
 * {@code /proc/self}) and can be read on its own.
 */
final class KafkaBroker implements AutoCloseable {

  private static final String READY = "KAFKA-BOOTSTRAP ";

  private final String bootstrap;
  private final ChildJvm child;
  private final String where;

  private KafkaBroker(String bootstrap, ChildJvm child, String where) {
    this.bootstrap = bootstrap;
    this.child = child;
    this.where = where;
  }

  /**
   * Finds or starts the broker; {@code inProcess} starts the test kit's broker in this JVM instead
   * (for the smoke test: no child process, and its CPU then counts as this JVM's).
   */
  static KafkaBroker open(boolean inProcess) throws InterruptedException {
    String configured =
        System.getProperty("once.test.kafka.bootstrap", System.getenv("ONCE_TEST_KAFKA_BOOTSTRAP"));
    if (inProcess || (configured != null && !configured.isBlank())) {
      String servers = TestKafka.bootstrap();
      boolean external = servers.equals(configured);
      return new KafkaBroker(
          servers,
          null,
          external
              ? "the configured broker at "
                  + servers
                  + " (ONCE_TEST_KAFKA_BOOTSTRAP); its CPU is not counted"
              : "the test kit's in-process KRaft broker (kafka_2.13 4.4.0) in THIS JVM: its CPU counts as the consumer's");
    }
    ChildJvm child =
        ChildJvm.start(KafkaBroker.class, List.of("-Xmx1g", "-XX:+UseParallelGC"), List.of());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!child.saw(READY)) {
      if (!child.process().isAlive() || System.nanoTime() > deadline) {
        child.kill();
        throw new IllegalStateException(
            "the child broker JVM did not start; it said: " + child.lines());
      }
      Thread.sleep(50);
    }
    String servers = child.firstWith(READY).substring(READY.length()).strip();
    TestKafka.use(servers);
    return new KafkaBroker(
        servers,
        child,
        "the test kit's in-process KRaft broker (kafka_2.13 4.4.0) in a child JVM"
            + " (pid "
            + child.process().pid()
            + ", -Xmx1g)");
  }

  String bootstrap() {
    return bootstrap;
  }

  String where() {
    return where;
  }

  /** The child broker's CPU (all its threads), or unavailable when the broker is not our child. */
  ProcCpu.Source cpu() {
    if (child == null) {
      return ProcCpu.none("not counted separately: " + where);
    }
    return ProcCpu.process(
        java.util.OptionalLong.of(child.process().pid()), "the broker's child JVM", "gone");
  }

  /**
   * Asks the child to stop (its shutdown hook stops the broker and deletes its directory); kills it
   * if it hangs.
   */
  @Override
  public void close() throws InterruptedException {
    if (child == null) {
      return;
    }
    try {
      child.send("stop");
      if (!child.process().waitFor(30, TimeUnit.SECONDS)) {
        child.kill();
      }
    } catch (IOException e) {
      child.kill();
    }
  }

  /**
   * The child: starts the broker, prints its address, and stops when its parent says so or goes
   * away.
   */
  public static void main(String[] args) throws IOException {
    System.out.println(READY + TestKafka.bootstrap());
    System.out.flush();
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      while (true) {
        String line = in.readLine();
        if (line == null || line.strip().equals("stop")) {
          break;
        }
      }
    }
    System.exit(0); // the test kit's shutdown hook stops the broker
  }
}
