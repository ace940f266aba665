package dev.once.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's quick start, run as users run it: retried and raced transfers move money once. */
class QuickstartTest {

  @Test
  void retriedAndRacedTransfersMoveMoneyOnce(@TempDir Path folder) throws Exception {
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL(
        "jdbc:h2:file:" + folder.resolve("quickstart").toAbsolutePath() + ";DB_CLOSE_DELAY=-1");
    ByteArrayOutputStream printed = new ByteArrayOutputStream();

    long[] balances =
        new Quickstart(h2).demo(new PrintStream(printed, true, StandardCharsets.UTF_8));

    assertThat(balances).containsExactly(6_500, 13_500);
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .contains("Attempt 1", "executed", "replayed, nothing moved")
        .contains("16 racing copies of one transfer: 1 executed, 15 replayed.")
        .contains("Same key, other amount: refused (FingerprintMismatchException).");
  }
}
