package dev.once.jdbc;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.Outcome;
import dev.once.Scope;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import javax.sql.DataSource;

/**
 * A child JVM for {@link MultiProcessIT}: races other processes for keys, or holds a key until it
 * is killed. Speaks one line per event on stdout.
 */
public final class ClaimWorker {

  private ClaimWorker() {}

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    String url = args[1];
    String user = args[2];
    String password = args[3].equals("-") ? "" : args[3];
    String table = args[4];
    String tenant = args[5];
    DataSource ds = new DriverManagerDataSource(url, user, password);
    JdbcIdempotencyStore store = JdbcIdempotencyStore.builder(ds).table(table).build();
    Scope scope = Scope.of(tenant, "multi-process");
    switch (mode) {
      case "race" -> race(store, scope, Integer.parseInt(args[6]), Long.parseLong(args[7]));
      case "hold-transaction" -> holdInTransaction(ds, store, scope, args[6], args[7]);
      case "hold-lease" -> holdLease(store, scope, args[6]);
      default -> throw new IllegalArgumentException(mode);
    }
  }

  /** Claims keys 0..n-1 in a shuffled order, in random chunks (single claims and batches). */
  private static void race(JdbcIdempotencyStore store, Scope scope, int n, long seed) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      order.add(i);
    }
    Random random = new Random(seed);
    Collections.shuffle(order, random);
    System.out.println("READY");
    int at = 0;
    while (at < n) {
      int chunk = Math.min(n - at, random.nextBoolean() ? 1 : 1 + random.nextInt(25));
      List<ClaimRequest> requests = new ArrayList<>();
      for (int i : order.subList(at, at + chunk)) {
        requests.add(
            new ClaimRequest(
                IdempotencyKey.of(scope, "key-" + i),
                Fingerprint.of("same"),
                Duration.ofMinutes(5),
                Duration.ofHours(1)));
      }
      List<ClaimResult> results =
          chunk == 1 ? List.of(store.claim(requests.get(0))) : store.claimAll(requests);
      for (int j = 0; j < chunk; j++) {
        if (results.get(j) instanceof ClaimResult.Acquired acquired) {
          store.complete(
              requests.get(j).key(), acquired.token(), Outcome.empty(), Duration.ofHours(1));
          System.out.println("ACQUIRED " + order.get(at + j));
        }
      }
      at += chunk;
    }
    System.out.println("DONE");
  }

  /** Claims a key and writes a business row in one open transaction, then waits to be killed. */
  private static void holdInTransaction(
      DataSource ds, JdbcIdempotencyStore store, Scope scope, String key, String businessTable)
      throws Exception {
    Connection c = ds.getConnection();
    c.setAutoCommit(false);
    IdempotencyKey k = IdempotencyKey.of(scope, key);
    ClaimResult r =
        store
            .onConnection(c)
            .claim(
                new ClaimRequest(
                    k, Fingerprint.of("same"), Duration.ofMinutes(5), Duration.ofHours(1)));
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO " + businessTable + " (id) VALUES (?)")) {
      ps.setString(1, key);
      ps.executeUpdate();
    }
    System.out.println("HELD " + r);
    System.in.read(); // until killed
  }

  /**
   * Claims a key standalone (committed, with a lease) and waits to be killed before completing it.
   */
  private static void holdLease(JdbcIdempotencyStore store, Scope scope, String key)
      throws Exception {
    ClaimResult r =
        store.claim(
            new ClaimRequest(
                IdempotencyKey.of(scope, key),
                Fingerprint.of("same"),
                Duration.ofMinutes(1),
                Duration.ofHours(1)));
    System.out.println("HELD " + ((ClaimResult.Acquired) r).token());
    System.in.read(); // until killed
  }

  /** Enough of a DataSource for one child process; pools are beside the point here. */
  private record DriverManagerDataSource(String url, String user, String password)
      implements DataSource {
    @Override
    public Connection getConnection() throws java.sql.SQLException {
      return DriverManager.getConnection(url, user, password);
    }

    @Override
    public Connection getConnection(String u, String p) throws java.sql.SQLException {
      return DriverManager.getConnection(url, u, p);
    }

    @Override
    public java.io.PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(java.io.PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public java.util.logging.Logger getParentLogger() {
      return java.util.logging.Logger.getGlobal();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws java.sql.SQLException {
      throw new java.sql.SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
      return false;
    }
  }
}
