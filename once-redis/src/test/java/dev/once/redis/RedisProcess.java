package dev.once.redis;

import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import redis.embedded.core.ExecutableProvider;

/**
 * A redis-server child process that a test starts, kills with SIGKILL (as a crash would) and starts
 * again on the same port and data directory. Uses {@code redis-server} from the PATH, else the
 * binary bundled in {@code com.github.codemonstur:embedded-redis}.
 */
final class RedisProcess implements AutoCloseable {

  private final Path executable;
  private final String source;
  private final Path dir;
  private final int port;
  private final boolean persistent;
  private Process process;

  private RedisProcess(Path executable, String source, Path dir, int port, boolean persistent) {
    this.executable = executable;
    this.source = source;
    this.dir = dir;
    this.port = port;
    this.persistent = persistent;
  }

  /**
   * Starts a server on a free port of 127.0.0.1 with its files in {@code dir}.
   *
   * @param persistent append-only file with {@code appendfsync always} (every write is on disk
   *     before Redis answers), else memory only (no AOF, no snapshots)
   */
  static RedisProcess start(Path dir, boolean persistent) {
    Path onPath = findOnPath("redis-server");
    Path executable;
    String source;
    if (onPath != null) {
      executable = onPath;
      source = "redis-server from the PATH (" + onPath + ")";
    } else {
      try {
        executable = ExecutableProvider.newJarResourceProvider().get().toPath();
      } catch (IOException e) {
        throw new UncheckedIOException(
            "no redis-server on the PATH, and embedded-redis could not unpack its own", e);
      }
      source = "the redis-server bundled in embedded-redis (" + executable + ")";
    }
    RedisProcess redis = new RedisProcess(executable, source, dir, freePort(), persistent);
    redis.launch();
    return redis;
  }

  int port() {
    return port;
  }

  String uri() {
    return "redis://127.0.0.1:" + port;
  }

  /** Kills the server with SIGKILL: no shutdown, no final save, open connections reset. */
  void kill() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException(
            "redis-server on port " + port + " did not die within 30 s of SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Starts the server again on the same port, with the same data directory. */
  void restart() {
    if (process.isAlive()) {
      throw new IllegalStateException("redis-server on port " + port + " is still running");
    }
    launch();
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      kill();
    }
  }

  @Override
  public String toString() {
    return source
        + " on port "
        + port
        + (persistent ? ", appendonly yes, appendfsync always" : ", memory only");
  }

  private void launch() {
    List<String> command =
        List.of(
            executable.toString(),
            "--port",
            String.valueOf(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            dir.toString(),
            "--daemonize",
            "no",
            "--save",
            "",
            "--appendonly",
            persistent ? "yes" : "no",
            "--appendfsync",
            "always");
    Path log = dir.resolve("redis-" + port + ".log");
    try {
      process =
          new ProcessBuilder(command)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + this, e);
    }
    await("redis-server on port " + port + " answers PING")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              if (!process.isAlive()) {
                throw new IllegalStateException(
                    this + " exited with " + process.exitValue() + ":\n" + Files.readString(log));
              }
              return ping();
            });
  }

  /** True once the server answers PING with PONG (not while it is still loading its data). */
  private boolean ping() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1_000);
      socket.setSoTimeout(1_000);
      OutputStream out = socket.getOutputStream();
      out.write("*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] reply = in.readNBytes(7);
      return new String(reply, StandardCharsets.US_ASCII).equals("+PONG\r\n");
    } catch (IOException e) {
      return false;
    }
  }

  private static Path findOnPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty()) {
        Path candidate = Path.of(dir, name);
        if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
          return candidate;
        }
      }
    }
    return null;
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
