package dev.once.testkit.servers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The Redis server the tests use: the configured one, and the embedded fallback forced by an
 * address where nothing listens.
 */
class RedisServerIT {

  @Test
  void redisAnswersCommands() throws IOException {
    TestRedis server = TestServers.redis();

    assertThat(server.description()).startsWith("Redis: ").contains(String.valueOf(server.port()));
    assertThat(server).hasToString(server.description());
    assertThat(server.uri()).isEqualTo("redis://" + server.host() + ":" + server.port());
    assertSetAndGet(server);
    assertThat(TestServers.redis()).isSameAs(server);
  }

  @Test
  void startsEmbeddedRedisWhenNothingAnswers() throws IOException {
    String nowhere = "redis://127.0.0.1:1";

    TestRedis server = TestServers.resolveRedis(nowhere);

    assertThat(server.description())
        .startsWith("Redis: embedded codemonstur server Redis ")
        .contains("on port " + server.port())
        .contains("no server answered at " + nowhere);
    assertThat(server.host()).isEqualTo("127.0.0.1");
    assertThat(server.port()).isNotEqualTo(1);
    assertSetAndGet(server);
    assertThat(command(server, "CONFIG", "GET", "save")).contains("save");
  }

  @Test
  void rejectsAnAddressThatIsNotARedisUri() {
    assertThatThrownBy(() -> TestServers.resolveRedis("jdbc:postgresql://127.0.0.1:5432/test"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("redis://host:port");
  }

  private static void assertSetAndGet(TestRedis server) throws IOException {
    String key = "once-testkit:probe:" + UUID.randomUUID();
    assertThat(command(server, "SET", key, "once", "PX", "60000")).isEqualTo("+OK");
    assertThat(command(server, "GET", key)).isEqualTo("$4\r\nonce");
    assertThat(command(server, "DEL", key)).isEqualTo(":1");
  }

  /**
   * Sends one command and returns its reply: the first line, and for a bulk string its content
   * after a CRLF.
   */
  private static String command(TestRedis server, String... parts) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(server.host(), server.port()), 5_000);
      socket.setSoTimeout(5_000);
      StringBuilder request = new StringBuilder("*" + parts.length + "\r\n");
      for (String part : parts) {
        request
            .append('$')
            .append(part.getBytes(StandardCharsets.UTF_8).length)
            .append("\r\n")
            .append(part)
            .append("\r\n");
      }
      OutputStream out = socket.getOutputStream();
      out.write(request.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = socket.getInputStream();
      String first = line(in);
      if (first.startsWith("$") && !first.equals("$-1")) {
        byte[] bulk = in.readNBytes(Integer.parseInt(first.substring(1)) + 2);
        return first + "\r\n" + new String(bulk, 0, bulk.length - 2, StandardCharsets.UTF_8);
      }
      if (first.startsWith("*")) {
        StringBuilder all = new StringBuilder(first);
        for (int i = Integer.parseInt(first.substring(1)); i > 0; i--) {
          String header = line(in);
          byte[] bulk = in.readNBytes(Integer.parseInt(header.substring(1)) + 2);
          all.append("\r\n").append(new String(bulk, 0, bulk.length - 2, StandardCharsets.UTF_8));
        }
        return all.toString();
      }
      return first;
    }
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b == -1) {
        throw new IOException("connection closed mid-reply");
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.UTF_8);
  }
}
