package dev.once.architecture;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The house, one line per module: where its classes are built, the package it owns, the Once
 * modules it may use and the libraries it may use beside the JDK. {@link ModuleRulesTest} turns
 * each line into rules; a new module gets them by adding its line here (and a test dependency on it
 * in this module's pom, so the reactor builds it first).
 *
 * <p>A module owns its root package and every package below it that no other module's root claims:
 * once-core owns {@code dev.once} and {@code dev.once.internal}, but not {@code dev.once.jdbc}.
 * Using another module means its public API: its packages outside {@code .internal}.
 */
enum OnceModule {
  CORE("once-core", "dev.once", uses()),
  JDBC("once-jdbc", "dev.once.jdbc", uses(CORE), "org.postgresql.."),
  OUTBOX("once-outbox", "dev.once.outbox", uses(CORE, JDBC), "org.postgresql.."),
  REDIS("once-redis", "dev.once.redis", uses(CORE), "io.lettuce.core.."),
  SERVLET(
      "once-servlet", "dev.once.servlet", uses(CORE), "jakarta.servlet..", "tools.jackson.core.."),
  KAFKA("once-kafka", "dev.once.kafka", uses(CORE, JDBC, OUTBOX), "org.apache.kafka.."),
  RABBITMQ("once-rabbitmq", "dev.once.rabbitmq", uses(CORE, JDBC, OUTBOX), "com.rabbitmq.client.."),
  NATS("once-nats", "dev.once.nats", uses(CORE, JDBC), "io.nats.client.."),
  SQS("once-sqs", "dev.once.sqs", uses(CORE, JDBC), "software.amazon.awssdk.."),
  MICROMETER(
      "once-micrometer",
      "dev.once.micrometer",
      uses(CORE, OUTBOX),
      "io.micrometer..",
      "org.slf4j.."),
  SPRING_BOOT_STARTER(
      "once-spring-boot-starter",
      "dev.once.spring.boot",
      uses(CORE, JDBC, REDIS, SERVLET, OUTBOX, KAFKA, RABBITMQ, NATS, SQS, MICROMETER),
      "org.springframework..",
      "org.aopalliance..",
      "org.apache.commons.logging..",
      "jakarta.servlet..",
      "org.apache.kafka..",
      "com.rabbitmq.client..",
      "io.nats.client..",
      "software.amazon.awssdk..",
      "io.lettuce.core..",
      "io.micrometer.."),
  DRILL(
      "once-drill",
      "dev.once.drill",
      uses(),
      "tools.jackson..",
      "picocli..",
      "org.junit.jupiter.api..",
      "org.opentest4j.."),
  TESTKIT(
      "once-testkit",
      "dev.once.testkit",
      uses(CORE),
      "org.junit..",
      "org.opentest4j..",
      "org.assertj..",
      "org.awaitility..",
      "io.zonky.test..",
      "ch.vorburger..",
      "redis.embedded..",
      "com.zaxxer.hikari..",
      "org.apache.kafka..",
      "kafka.."),
  EXAMPLE_QUICKSTART(
      "examples/quickstart",
      "dev.once.examples.quickstart",
      uses(CORE, JDBC),
      OnceModule.ANY_LIBRARY),
  EXAMPLE_PAYMENTS(
      "examples/payments",
      "dev.once.examples.payments",
      uses(CORE, SERVLET, JDBC, REDIS, MICROMETER, SPRING_BOOT_STARTER),
      OnceModule.ANY_LIBRARY),
  EXAMPLE_ORDERS(
      "examples/orders",
      "dev.once.examples.orders",
      uses(CORE, JDBC, OUTBOX, KAFKA, RABBITMQ, SPRING_BOOT_STARTER),
      OnceModule.ANY_LIBRARY),
  BENCHMARKS(
      "once-benchmarks",
      "dev.once.benchmarks",
      uses(CORE, JDBC, OUTBOX, REDIS, KAFKA, NATS, SQS, SPRING_BOOT_STARTER, TESTKIT),
      OnceModule.ANY_LIBRARY);

  /** In place of a library list: the module may use any library (examples and benchmarks). */
  static final String ANY_LIBRARY = "..";

  /**
   * Allowed in every module: nullness annotations are part of a signature, not a runtime dependency
   * (the annotations are not needed at run time).
   */
  static final List<String> EVERYWHERE = List.of("org.jspecify.annotations..");

  /**
   * The exceptions to "no module uses another module's internals", like JPMS qualified exports:
   * once-core's {@code InboxDecisions} (what every inbox decides alike: message id, outage or
   * poison, retry or dead-letter, backoff) is shared with the modules that run an inbox or the
   * outbox relay, and once-jdbc's {@code SchemaScript} (how a schema file is renamed for the user's
   * table) with the outbox and the Kafka offsets table, which ship the same way, and once-core's
   * {@code Failpoints} (crash tests' stop points) with the RabbitMQ, NATS and SQS inboxes, and
   * once-core's {@code BatchTicker} (keeps a long batch from being redelivered) with the NATS and
   * SQS inboxes, and once-core's {@code RecentCounts} (per-id counts the broker does not keep) with
   * the RabbitMQ inbox and the starter's RabbitMQ advice; with no one else. Not public API.
   */
  private static final Map<String, Set<OnceModule>> SHARED_INTERNALS =
      Map.of(
          "dev.once.internal.InboxDecisions",
          EnumSet.of(JDBC, OUTBOX, KAFKA, RABBITMQ, NATS, SQS, SPRING_BOOT_STARTER),
          "dev.once.jdbc.internal.SchemaScript",
          EnumSet.of(OUTBOX, KAFKA),
          "dev.once.internal.Failpoints",
          EnumSet.of(RABBITMQ, NATS, SQS),
          "dev.once.internal.BatchTicker",
          EnumSet.of(NATS, SQS),
          "dev.once.internal.RecentCounts",
          EnumSet.of(RABBITMQ, SPRING_BOOT_STARTER));

  private static final Pattern INTERNAL = Pattern.compile("\\.internal(\\.|$)");

  /** The packages the running JDK exports: "the JDK" in the rules. */
  static final Set<String> JDK_PACKAGES =
      ModuleFinder.ofSystem().findAll().stream()
          .map(reference -> reference.descriptor())
          .flatMap(descriptor -> descriptor.exports().stream())
          .filter(export -> !export.isQualified())
          .map(ModuleDescriptor.Exports::source)
          .collect(Collectors.toUnmodifiableSet());

  final String directory;
  final String rootPackage;
  private final OnceModule[] uses;
  final List<String> libraries;

  OnceModule(String directory, String rootPackage, OnceModule[] uses, String... libraries) {
    this.directory = directory;
    this.rootPackage = rootPackage;
    this.uses = uses;
    this.libraries = List.of(libraries);
  }

  private static OnceModule[] uses(OnceModule... modules) {
    return modules;
  }

  List<OnceModule> allowedModules() {
    return List.of(uses);
  }

  boolean anyLibrary() {
    return libraries.contains(ANY_LIBRARY);
  }

  /** The module's compiled main classes, as the reactor built them. */
  Path classes() {
    Path root = Path.of(System.getProperty("once.root", ".."));
    Path classes = root.resolve(directory).resolve("target/classes").normalize();
    if (!Files.isDirectory(classes)) {
      throw new IllegalStateException(
          classes
              + " does not exist: build "
              + directory
              + " first (mvn verify at the root, or -pl ... -am)");
    }
    return classes;
  }

  /**
   * The module that owns {@code packageName}: the one with the longest root package above it, if
   * any.
   */
  static Optional<OnceModule> owning(String packageName) {
    return Arrays.stream(values())
        .filter(module -> isAtOrBelow(packageName, module.rootPackage))
        .max(Comparator.comparingInt(module -> module.rootPackage.length()));
  }

  static boolean isAtOrBelow(String packageName, String root) {
    return packageName.equals(root) || packageName.startsWith(root + ".");
  }

  /** Whether {@code packageName} is an implementation package: {@code internal} or below it. */
  static boolean isInternal(String packageName) {
    return INTERNAL.matcher(packageName).find();
  }

  /** {@code packageName} without its {@code .internal} part and what is below it. */
  static String withoutInternal(String packageName) {
    Matcher internal = INTERNAL.matcher(packageName);
    return internal.find() ? packageName.substring(0, internal.start()) : packageName;
  }

  /** Whether the internal class {@code className} (top level) is shared with {@code module}. */
  static boolean sharedWith(OnceModule module, String className) {
    return SHARED_INTERNALS.getOrDefault(className, Set.of()).contains(module);
  }

  @Override
  public String toString() {
    return directory;
  }
}
