package dev.once.testkit.servers;

import java.util.Objects;

/**
 * A Redis server that tests can use. Obtain one from {@link TestServers#redis()}. The {@link
 * #description()} says which server it is (the configured one or an embedded one started for this
 * JVM, and its version) and is also what {@link #toString()} returns.
 *
 * @param description human-readable account of which server this is, e.g. {@code "Redis: local
 *     server at redis://127.0.0.1:6379 (Redis 7.0.15)"}
 * @param host host to connect to, e.g. {@code 127.0.0.1}
 * @param port TCP port, e.g. {@code 6379}
 */
public record TestRedis(String description, String host, int port) {

  /**
   * Checks the components.
   *
   * @param description which server this is
   * @param host host to connect to
   * @param port TCP port, 1 to 65535
   */
  public TestRedis {
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(host, "host");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("bad Redis port " + port);
    }
  }

  /**
   * The server as a Redis URI, e.g. {@code redis://127.0.0.1:6379}.
   *
   * @return a {@code redis://host:port} URI
   */
  public String uri() {
    return "redis://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  /** Returns {@link #description()}. */
  @Override
  public String toString() {
    return description;
  }
}
