package dev.once.testkit.servers;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import redis.embedded.RedisServer;

/**
 * Starts a codemonstur embedded Redis (the {@code redis-server} binary bundled in its jar). Kept
 * apart from {@link TestServers} so that its classes are needed only when the fallback actually
 * runs.
 */
final class EmbeddedRedisServer {

  private static final int ATTEMPTS = 3;

  private EmbeddedRedisServer() {}

  static TestRedis start(String why) {
    long started = System.nanoTime();
    IOException failure = null;
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      int port;
      try {
        port = freePort();
      } catch (IOException e) {
        failure = e;
        continue;
      }
      RedisServer server;
      try {
        server =
            RedisServer.newRedisServer()
                .port(port)
                .bind("127.0.0.1")
                .setting("save \"\"") // memory only: nothing is written next to the binary
                .setting("appendonly no")
                .build();
        server.start(); // stopped by the library's own shutdown hook
      } catch (IOException | RuntimeException e) {
        // most likely another process took the port between freePort() and the start
        failure = e instanceof IOException io ? io : new IOException(e);
        continue;
      }
      String version;
      try {
        version = TestServers.probeRedis("127.0.0.1", port);
      } catch (IOException e) {
        stopQuietly(server);
        throw new IllegalStateException(
            "Redis: embedded server started on port " + port + " but does not answer: " + e, e);
      }
      return new TestRedis(
          "Redis: embedded codemonstur server "
              + version
              + " on port "
              + port
              + ", started in "
              + TestServers.seconds(System.nanoTime() - started)
              + " ("
              + why
              + ")",
          "127.0.0.1",
          port);
    }
    throw new IllegalStateException(
        "Redis: "
            + why
            + ", and the embedded codemonstur server did not start after "
            + ATTEMPTS
            + " attempts: "
            + failure
            + ". Or start a local Redis and set "
            + TestServers.REDIS_URL_PROPERTY
            + " / ONCE_TEST_REDIS_URL.",
        failure);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static void stopQuietly(RedisServer server) {
    try {
      server.stop();
    } catch (IOException | RuntimeException ignored) {
      // best effort
    }
  }
}
