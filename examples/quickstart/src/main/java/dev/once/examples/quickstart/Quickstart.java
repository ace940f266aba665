package dev.once.examples.quickstart;

import dev.once.Execution;
import dev.once.Fingerprint;
import dev.once.FingerprintMismatchException;
import dev.once.IdempotencyKey;
import dev.once.InProgressException;
import dev.once.Once;
import dev.once.ResultCodec;
import dev.once.Scope;
import dev.once.jdbc.ConcurrentClaimPolicy;
import dev.once.jdbc.JdbcIdempotencyStore;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;

/**
 * Moves money between two accounts in an embedded H2 file database, with the idempotency record
 * committed in the same transaction as the balances. A retried transfer and sixteen racing copies
 * of one transfer each move the money once; the same key with another amount is refused.
 *
 * <p>Run: {@code java -jar examples/quickstart/target/once-quickstart.jar [data-folder]}.
 */
public final class Quickstart {

  private final DataSource dataSource;
  private final JdbcIdempotencyStore store;
  private final Once once;

  Quickstart(DataSource dataSource) {
    this.dataSource = dataSource;
    this.store =
        JdbcIdempotencyStore.builder(dataSource)
            .createSchema(true) // or ship db/once/h2/V1__once_records.sql yourself
            .concurrentClaims(
                ConcurrentClaimPolicy.WAIT) // a racing copy waits, then sees the committed result
            .build();
    this.once = Once.builder(store).build();
  }

  public static void main(String[] args) throws Exception {
    Path folder = Path.of(args.length > 0 ? args[0] : "data");
    Files.createDirectories(folder);
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL(
        "jdbc:h2:file:" + folder.resolve("quickstart").toAbsolutePath() + ";DB_CLOSE_DELAY=-1");
    new Quickstart(h2).demo(System.out);
  }

  /** Runs the three scenes and returns the balances of the two accounts it used. */
  long[] demo(PrintStream out) throws SQLException, InterruptedException, ExecutionException {
    String from = "acct-" + UUID.randomUUID().toString().substring(0, 8);
    String to = "acct-" + UUID.randomUUID().toString().substring(0, 8);
    openAccounts(from, to, 10_000);
    out.printf("Opened %s and %s with 10000 cents each.%n", from, to);

    String key = "transfer-" + UUID.randomUUID();
    for (int attempt = 1; attempt <= 3; attempt++) {
      Execution<String> e = transfer(key, from, to, 2_500);
      out.printf(
          "Attempt %d with key %s...: %s (%s)%n",
          attempt,
          key.substring(0, 17),
          e.value(),
          e.replayed() ? "replayed, nothing moved" : "executed");
    }

    String raced = "transfer-" + UUID.randomUUID();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<Future<Execution<String>>> copies = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      Callable<Execution<String>> copy = () -> transfer(raced, from, to, 1_000);
      copies.add(pool.submit(copy));
    }
    int executed = 0;
    int replayed = 0;
    for (Future<Execution<String>> f : copies) {
      if (f.get().replayed()) {
        replayed++;
      } else {
        executed++;
      }
    }
    pool.shutdown();
    out.printf("16 racing copies of one transfer: %d executed, %d replayed.%n", executed, replayed);

    try {
      transfer(key, from, to, 9_999);
    } catch (FingerprintMismatchException e) {
      out.println("Same key, other amount: refused (" + e.getClass().getSimpleName() + ").");
    }

    long[] balances = {balance(from), balance(to)};
    out.printf(
        "Balances: %s = %d, %s = %d (expected 6500 and 13500).%n",
        from, balances[0], to, balances[1]);
    return balances;
  }

  /** One transfer, run once per key: the record and the balance updates share one transaction. */
  Execution<String> transfer(String key, String from, String to, long cents) throws SQLException {
    IdempotencyKey idempotencyKey = IdempotencyKey.of(Scope.of(from, "transfer"), key);
    Fingerprint fingerprint =
        Fingerprint.builder().add(from).add(to).add(Long.toString(cents)).build();
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        Execution<String> e =
            once.withStore(store.onConnection(c))
                .execute(
                    idempotencyKey,
                    fingerprint,
                    ResultCodec.utf8(),
                    () -> move(c, from, to, cents));
        c.commit();
        return e;
      } catch (RuntimeException | SQLException e) {
        c.rollback();
        throw e;
      }
    } catch (InProgressException e) {
      throw new IllegalStateException("a racing copy should have waited", e);
    }
  }

  private static String move(Connection c, String from, String to, long cents) {
    try (PreparedStatement debit =
            c.prepareStatement(
                "UPDATE quickstart_accounts SET balance = balance - ? WHERE id = ?");
        PreparedStatement credit =
            c.prepareStatement(
                "UPDATE quickstart_accounts SET balance = balance + ? WHERE id = ?")) {
      debit.setLong(1, cents);
      debit.setString(2, from);
      debit.executeUpdate();
      credit.setLong(1, cents);
      credit.setString(2, to);
      credit.executeUpdate();
      return "moved " + cents + " cents";
    } catch (SQLException e) {
      throw new IllegalStateException("transfer failed", e);
    }
  }

  private void openAccounts(String a, String b, long cents) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS quickstart_accounts (id VARCHAR(40) PRIMARY KEY, balance BIGINT NOT NULL)");
      try (PreparedStatement ps =
          c.prepareStatement("INSERT INTO quickstart_accounts VALUES (?, ?)")) {
        for (String id : List.of(a, b)) {
          ps.setString(1, id);
          ps.setLong(2, cents);
          ps.executeUpdate();
        }
      }
    }
  }

  private long balance(String account) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT balance FROM quickstart_accounts WHERE id = ?")) {
      ps.setString(1, account);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
