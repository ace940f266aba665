package dev.once.drill.junit;

import dev.once.drill.Drill;
import dev.once.drill.DrillReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.AssertionFailedError;

/**
 * Runs drills inside JUnit 5 tests: each drill's JSON and HTML reports are written to a directory
 * under the test's name ({@code <TestClass>.<method>.html}, {@code -2}, {@code -3} for a test's
 * further drills), and {@link #assertPasses} fails the test with the verdict's table.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final DrillExtension drills = DrillExtension.writingReportsTo(Path.of("target/drills"));
 *
 * @Test
 * void ordersSurviveRetries() {
 *   drills.assertPasses(Drill.builder(serviceUri, DrillInputs.jsonLines(recording)));
 * }
 * }</pre>
 *
 * <p>Tests may run in parallel: the current test is tracked per thread, so call {@link #run} and
 * {@link #assertPasses} from the test's own thread.
 */
public final class DrillExtension implements BeforeEachCallback, AfterEachCallback {

  private final Path directory;
  private final ThreadLocal<String> currentTest = new ThreadLocal<>();
  private final Map<String, Integer> runs = new ConcurrentHashMap<>();

  private DrillExtension(Path directory) {
    this.directory = directory;
  }

  /**
   * {@return an extension that writes each drill's reports to {@code directory}}
   *
   * @param directory where the reports go; created when the first one is written
   */
  public static DrillExtension writingReportsTo(Path directory) {
    return new DrillExtension(directory);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    currentTest.set(
        context.getRequiredTestClass().getSimpleName()
            + "."
            + context.getRequiredTestMethod().getName());
  }

  @Override
  public void afterEach(ExtensionContext context) {
    currentTest.remove();
  }

  /**
   * Builds and runs the drill and writes its reports, whatever the verdict.
   *
   * @param drill the drill's builder
   * @return the report
   * @throws IllegalStateException outside a test of a class that registers this extension
   * @throws UncheckedIOException if a report cannot be written
   */
  public DrillReport run(Drill.Builder drill) {
    String test = currentTest.get();
    if (test == null) {
      throw new IllegalStateException(
          "no current test: register the DrillExtension with @RegisterExtension on the test class"
              + " and run drills from the test method's thread");
    }
    DrillReport report = drill.build().run();
    int n = runs.merge(test, 1, Integer::sum);
    String name = n == 1 ? test : test + "-" + n;
    try {
      Files.createDirectories(directory);
      Files.writeString(directory.resolve(name + ".json"), report.json(), StandardCharsets.UTF_8);
      Files.writeString(directory.resolve(name + ".html"), report.html(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the drill's reports to " + directory, e);
    }
    return report;
  }

  /**
   * Runs the drill like {@link #run} and fails the test when a check failed.
   *
   * @param drill the drill's builder
   * @return the report, when it passed
   * @throws AssertionFailedError with the verdict's table, when a check failed
   */
  public DrillReport assertPasses(Drill.Builder drill) {
    DrillReport report = run(drill);
    if (!report.passed()) {
      throw new AssertionFailedError("the drill failed:\n" + report.table());
    }
    return report;
  }
}
