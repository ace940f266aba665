package dev.once.drill;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The command line: {@code java -jar once-drill.jar --target http://localhost:8080 --scenario
 * payments}. Exit code 0 when every check passed, 1 when one failed, 2 for bad input (a missing
 * {@code --target}, an unreadable file, a line that is not a request).
 */
@Command(
    name = "once-drill",
    mixinStandardHelpOptions = true,
    version = "once-drill 0.1.0",
    sortOptions = false,
    description = {
      "Replays requests against one service with duplicates, concurrent copies, aborted and slow"
          + " retries, reused keys and bursts, and checks that each took effect once.",
      "Exit code: 0 every check passed, 1 a check failed, 2 bad input."
    })
public final class DrillCommand implements Callable<Integer> {

  /** Exit code when a check failed. */
  public static final int FAILED = 1;

  /** Exit code for bad input. */
  public static final int BAD_INPUT = 2;

  @Option(
      names = "--target",
      required = true,
      paramLabel = "URL",
      description =
          "The service's origin (http://host:port). Every request goes there and only there.")
  private String target = "";

  @ArgGroup(multiplicity = "1")
  private Input input = new Input();

  static final class Input {
    @Option(names = "--jsonl", paramLabel = "FILE", description = "JSON Lines, one request a line.")
    @Nullable Path jsonl;

    @Option(
        names = "--har",
        paramLabel = "FILE",
        description = "A HAR file (log.entries[].request).")
    @Nullable Path har;

    @Option(
        names = "--scenario",
        paramLabel = "NAME",
        description = "A built-in scenario: payments (the payments example, as alice).")
    @Nullable String scenario;
  }

  @Option(
      names = "--har-methods",
      split = ",",
      paramLabel = "METHOD",
      description = "The HAR entries to keep, by method (default: ${DEFAULT-VALUE}).",
      defaultValue = "POST,PUT,PATCH,DELETE")
  private List<String> harMethods = List.of();

  @Option(
      names = "--scenario-size",
      defaultValue = "20",
      description = "Requests in the built-in scenario (default: ${DEFAULT-VALUE}).")
  private int scenarioSize;

  @Option(
      names = "--key-header",
      defaultValue = "Idempotency-Key",
      description = "The key's header; requests without it get one (default: ${DEFAULT-VALUE}).")
  private String keyHeader = "";

  @Option(
      names = "--replay-header",
      defaultValue = "Idempotent-Replayed",
      description = "The header that marks a replay, with value true (default: ${DEFAULT-VALUE}).")
  private String replayHeader = "";

  @Option(
      names = "--duplicate",
      defaultValue = "0.5",
      description = "Fraction sent again after the answer.")
  private double duplicate;

  @Option(
      names = "--concurrent",
      defaultValue = "0.2",
      description = "Fraction sent N times at once.")
  private double concurrent;

  @Option(names = "--concurrency", defaultValue = "5", description = "N for --concurrent.")
  private int concurrency;

  @Option(
      names = "--aborted",
      defaultValue = "0.2",
      description = "Fraction abandoned mid-response, then retried.")
  private double aborted;

  @Option(
      names = "--mismatch",
      defaultValue = "0.2",
      description = "Fraction whose key is reused with a changed body.")
  private double mismatch;

  @Option(
      names = "--slow-retry",
      defaultValue = "0.1",
      description = "Fraction retried later within the window.")
  private double slowRetry;

  @Option(
      names = "--slow-retries",
      defaultValue = "2",
      description = "Retries per slow-retried request.")
  private int slowRetries;

  @Option(
      names = "--slow-window",
      defaultValue = "PT10S",
      description = "The window of slow retries, ISO-8601 (default: ${DEFAULT-VALUE}).")
  private Duration slowWindow = Duration.ZERO;

  @Option(
      names = "--burst",
      defaultValue = "0.2",
      description = "Fraction whose first tries go out together.")
  private double burst;

  @Option(names = "--workers", defaultValue = "4", description = "Requests worked on at a time.")
  private int workers;

  @Option(
      names = "--max-requests",
      defaultValue = "1000",
      description = "Refuse more requests than this.")
  private int maxRequests;

  @Option(
      names = "--max-duration",
      defaultValue = "PT5M",
      description = "Stop after this long, ISO-8601 (default: ${DEFAULT-VALUE}).")
  private Duration maxDuration = Duration.ZERO;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "Chooses the requests for each injection.")
  private long seed;

  @Option(
      names = "--in-flight-status",
      split = ",",
      defaultValue = "409",
      description = "In-flight answers.")
  private Set<Integer> inFlight = Set.of();

  @Option(
      names = "--mismatch-status",
      split = ",",
      defaultValue = "422",
      description = "Mismatch answers.")
  private Set<Integer> mismatchStatus = Set.of();

  @Option(
      names = "--max-replay-slowdown",
      description = "Fail if replays' p50 latency exceeds this × first tries'.")
  private @Nullable Double maxReplaySlowdown;

  @Option(
      names = "--oracle-jdbc",
      paramLabel = "URL",
      description = "JDBC URL of the service's database.")
  private @Nullable String oracleJdbc;

  @Option(names = "--oracle-user", description = "The database user.")
  private @Nullable String oracleUser;

  @Option(
      names = "--oracle-password",
      defaultValue = "${env:ONCE_DRILL_ORACLE_PASSWORD}",
      description = "The database password (default: $ONCE_DRILL_ORACLE_PASSWORD, kept out of ps).")
  private @Nullable String oraclePassword;

  @Option(
      names = "--oracle-sql",
      paramLabel = "SQL",
      description = "A count query with {key}, {body.field}, {header.Name}, {method} or {path}.")
  private @Nullable String oracleSql;

  @Option(
      names = "--oracle-http",
      paramLabel = "PATH",
      description = "A GET on the target whose body is the count, e.g. /effects?key={key}.")
  private @Nullable String oracleHttp;

  @Option(names = "--json", paramLabel = "FILE", description = "Write the JSON report here.")
  private @Nullable Path json;

  @Option(names = "--html", paramLabel = "FILE", description = "Write the HTML report here.")
  private @Nullable Path html;

  @CommandLine.Spec private CommandLine.Model.@Nullable CommandSpec spec;

  /**
   * Runs the command line and exits with its code.
   *
   * @param args the arguments
   */
  public static void main(String[] args) {
    System.exit(
        execute(
            args,
            new PrintWriter(System.out, true, StandardCharsets.UTF_8),
            new PrintWriter(System.err, true, StandardCharsets.UTF_8)));
  }

  /**
   * Runs the command line without exiting.
   *
   * @param args the arguments
   * @param out where the verdict goes
   * @param err where errors and progress go
   * @return the exit code: 0 passed, 1 a check failed, 2 bad input
   */
  public static int execute(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new DrillCommand());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler(
        (e, line, parsed) -> {
          if (e instanceof DrillInputException || e instanceof IllegalArgumentException) {
            line.getErr().println("once-drill: " + e.getMessage());
            return BAD_INPUT;
          }
          throw e;
        });
    return cli.execute(args);
  }

  @Override
  public Integer call() throws IOException {
    CommandLine.Model.CommandSpec s = java.util.Objects.requireNonNull(spec);
    PrintWriter out = s.commandLine().getOut();
    PrintWriter err = s.commandLine().getErr();
    URI uri;
    try {
      uri = new URI(target);
    } catch (URISyntaxException e) {
      throw new DrillInputException("--target is not a URL: '" + target + "'", e);
    }
    Drill.Builder builder =
        Drill.builder(uri, requests())
            .keyHeader(keyHeader)
            .replayMarker(replayHeader, "true")
            .fraction(Injection.DUPLICATE, duplicate)
            .fraction(Injection.CONCURRENT, concurrent)
            .fraction(Injection.ABORTED, aborted)
            .fraction(Injection.MISMATCH, mismatch)
            .fraction(Injection.SLOW_RETRY, slowRetry)
            .fraction(Injection.BURST, burst)
            .concurrency(concurrency)
            .slowRetries(slowRetries, slowWindow)
            .workers(workers)
            .maxRequests(maxRequests)
            .maxDuration(maxDuration)
            .seed(seed)
            .inFlightStatuses(inFlight)
            .mismatchStatuses(mismatchStatus)
            .progress(progressBar(err));
    if (maxReplaySlowdown != null) {
      builder.maxReplaySlowdown(maxReplaySlowdown);
    }
    Oracle oracle = oracle(uri);
    if (oracle != null) {
      builder.oracle(oracle);
    }
    DrillReport report = builder.build().run();
    err.println();
    out.print(report.table());
    out.flush();
    if (json != null) {
      Files.writeString(json, report.json(), StandardCharsets.UTF_8);
    }
    if (html != null) {
      Files.writeString(html, report.html(), StandardCharsets.UTF_8);
    }
    return report.passed() ? 0 : FAILED;
  }

  private List<DrillRequest> requests() {
    if (input.jsonl != null) {
      return DrillInputs.jsonLines(input.jsonl);
    }
    if (input.har != null) {
      return DrillInputs.har(
          input.har,
          harMethods.stream().map(m -> m.toUpperCase(Locale.ROOT)).collect(Collectors.toSet()));
    }
    if ("payments".equals(input.scenario)) {
      return DrillInputs.paymentsScenario(
          scenarioSize, java.util.UUID.randomUUID().toString().substring(0, 8));
    }
    throw new DrillInputException("unknown --scenario '" + input.scenario + "'; known: payments");
  }

  private @Nullable Oracle oracle(URI uri) {
    if (oracleJdbc != null && oracleHttp != null) {
      throw new DrillInputException("give --oracle-jdbc or --oracle-http, not both");
    }
    if (oracleJdbc != null) {
      if (oracleSql == null) {
        throw new DrillInputException("--oracle-jdbc needs --oracle-sql, the count query");
      }
      return Oracle.jdbc(oracleJdbc, oracleUser, oraclePassword, oracleSql);
    }
    if (oracleSql != null) {
      throw new DrillInputException("--oracle-sql needs --oracle-jdbc, the database's JDBC URL");
    }
    return oracleHttp == null ? null : Oracle.http(uri, oracleHttp);
  }

  /**
   * A bar redrawn in place when stderr is a terminal; otherwise a line at each tenth, so a log
   * stays short.
   */
  private static DrillProgress progressBar(PrintWriter err) {
    boolean terminal = System.console() != null;
    int[] lastTenth = {-1};
    return (done, planned) -> {
      synchronized (lastTenth) {
        int tenth = planned == 0 ? 10 : done * 10 / planned;
        if (terminal) {
          int width = 40;
          int filled = planned == 0 ? width : done * width / planned;
          err.print(
              "\r["
                  + "#".repeat(filled)
                  + " ".repeat(width - filled)
                  + "] "
                  + done
                  + "/"
                  + planned);
          err.flush();
        } else if (tenth != lastTenth[0]) {
          lastTenth[0] = tenth;
          err.println("once-drill: " + done + "/" + planned + " answered");
        }
      }
    };
  }
}
