package dev.once.drill;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input on the command line: exit code 2 and a message that says what to fix. */
class DrillCommandTest {
  @TempDir Path dir;

  private record Run(int code, String err) {}

  private static Run run(String... args) {
    StringWriter err = new StringWriter();
    int code =
        DrillCommand.execute(
            args, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
    return new Run(code, err.toString());
  }

  @Test
  void refusesToRunWithoutATarget() {
    Run r = run("--scenario", "payments");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Missing required option: '--target=URL'");
  }

  @Test
  void refusesATargetThatIsNotAnHttpOrigin() {
    Run r = run("--target", "localhost:8080", "--scenario", "payments");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .contains(
            "once-drill: --target must be an http:// or https:// URL with a host, but was 'localhost:8080'");
  }

  @Test
  void refusesWithoutAnInputOrWithTwo() {
    assertThat(run("--target", "http://127.0.0.1:1").code()).isEqualTo(2);
    Run two = run("--target", "http://127.0.0.1:1", "--scenario", "payments", "--har", "x.har");
    assertThat(two.code()).isEqualTo(2);
    assertThat(two.err()).contains("mutually exclusive");
  }

  @Test
  void namesTheBadLineOfAJsonLinesFile() throws Exception {
    Path f =
        Files.writeString(
            dir.resolve("r.jsonl"),
            "{\"method\":\"POST\",\"url\":\"/a\"}\nnope\n",
            StandardCharsets.UTF_8);
    Run r = run("--target", "http://127.0.0.1:1", "--jsonl", f.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("once-drill: " + f + ":2: not JSON");
  }

  @Test
  void namesAnUnreadableFile() {
    Path missing = dir.resolve("missing.har");
    Run r = run("--target", "http://127.0.0.1:1", "--har", missing.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("once-drill: " + missing + ": cannot read the file");
  }

  @Test
  void refusesAnUnknownScenarioAndAHalfGivenOracle() {
    Run scenario = run("--target", "http://127.0.0.1:1", "--scenario", "shop");
    assertThat(scenario.code()).isEqualTo(2);
    assertThat(scenario.err()).contains("unknown --scenario 'shop'; known: payments");
    Run sql =
        run(
            "--target",
            "http://127.0.0.1:1",
            "--scenario",
            "payments",
            "--oracle-sql",
            "select {key}");
    assertThat(sql.code()).isEqualTo(2);
    assertThat(sql.err()).contains("--oracle-sql needs --oracle-jdbc");
    Run fraction =
        run("--target", "http://127.0.0.1:1", "--scenario", "payments", "--duplicate", "2");
    assertThat(fraction.code()).isEqualTo(2);
    assertThat(fraction.err()).contains("fraction of DUPLICATE must be in [0, 1], but was 2.0");
  }
}
