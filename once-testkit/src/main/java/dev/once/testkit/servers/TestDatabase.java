package dev.once.testkit.servers;

import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Objects;

/**
 * A database server that tests can use: where it is and how to log in.
 *
 * <p>Obtain one from {@link TestServers#postgres()} or {@link TestServers#mariadb()}. The {@link
 * #description()} says which server it is (a local one or an embedded one started for this JVM, and
 * its version) and is also what {@link #toString()} returns, so it can be used as a
 * parameterized-test display name. The password never appears in it.
 *
 * @param description human-readable account of which server this is, e.g. {@code "PostgreSQL: local
 *     server at jdbc:postgresql://127.0.0.1:5432/test (PostgreSQL 15.19)"}
 * @param jdbcUrl JDBC URL of the {@code test} database, e.g. {@code
 *     jdbc:postgresql://127.0.0.1:5432/test}
 * @param user user name
 * @param password password, possibly empty
 */
public record TestDatabase(String description, String jdbcUrl, String user, String password) {

  /**
   * Checks that no component is {@code null}.
   *
   * @param description which server this is
   * @param jdbcUrl JDBC URL of the {@code test} database
   * @param user user name
   * @param password password, possibly empty
   */
  public TestDatabase {
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
  }

  /**
   * Opens a new connection with {@link DriverManager}; the caller closes it.
   *
   * @return a new connection to the {@code test} database
   * @throws SQLException if the server cannot be reached or refuses the login
   */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl, user, password);
  }

  /**
   * The host named in {@link #jdbcUrl()}, e.g. {@code 127.0.0.1}.
   *
   * @return the host part of the URL
   */
  public String host() {
    String host = authority().getHost();
    if (host == null) {
      throw new IllegalStateException("no host in " + jdbcUrl);
    }
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  /**
   * The port named in {@link #jdbcUrl()}, or the driver's default port (5432 for PostgreSQL, 3306
   * for MariaDB/MySQL) if the URL names none.
   *
   * @return the TCP port of the server
   */
  public int port() {
    int port = authority().getPort();
    if (port >= 0) {
      return port;
    }
    if (jdbcUrl.startsWith("jdbc:postgresql:")) {
      return 5432;
    }
    if (jdbcUrl.startsWith("jdbc:mariadb:") || jdbcUrl.startsWith("jdbc:mysql:")) {
      return 3306;
    }
    throw new IllegalStateException("no port in " + jdbcUrl);
  }

  /**
   * The same database reached at another address, typically a {@link TcpProxy} in front of it:
   * {@code db.withAddress("127.0.0.1", proxy.port())}.
   *
   * @param newHost host to put in the URL
   * @param newPort port to put in the URL
   * @return a copy whose URL names {@code newHost:newPort} and whose description says so
   */
  public TestDatabase withAddress(String newHost, int newPort) {
    URI uri = authority();
    String rest = uri.getRawPath() == null ? "" : uri.getRawPath();
    if (uri.getRawQuery() != null) {
      rest += "?" + uri.getRawQuery();
    }
    String scheme = jdbcUrl.substring("jdbc:".length(), jdbcUrl.indexOf("://"));
    String hostPart = newHost.contains(":") ? "[" + newHost + "]" : newHost;
    String url = "jdbc:" + scheme + "://" + hostPart + ":" + newPort + rest;
    return new TestDatabase(description + " via " + newHost + ":" + newPort, url, user, password);
  }

  /** Returns {@link #description()}; never the password. */
  @Override
  public String toString() {
    return description;
  }

  private URI authority() {
    if (!jdbcUrl.startsWith("jdbc:") || !jdbcUrl.contains("://")) {
      throw new IllegalStateException("not a jdbc:<driver>://host:port/... URL: " + jdbcUrl);
    }
    try {
      return URI.create(jdbcUrl.substring("jdbc:".length()));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("cannot parse host and port of " + jdbcUrl, e);
    }
  }
}
