package dev.once.testkit.servers;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import org.jspecify.annotations.Nullable;

/**
 * The NATS server (with JetStream) the tests use: {@code ONCE_TEST_NATS_URL} (or the system
 * property {@code once.test.nats.url}), default {@code nats://127.0.0.1:4222}. There is no embedded
 * fallback (nats-server is a Go binary, not on Maven Central), so when nothing answers, {@link
 * #url()} fails at once with what to do, instead of every test timing out.
 *
 * <pre>{@code
 * Connection nats = Nats.connect(TestNats.url());
 * }</pre>
 */
public final class TestNats {

  /** The address used when none is configured. */
  public static final String DEFAULT_URL = "nats://127.0.0.1:4222";

  private static @Nullable String checked;

  private TestNats() {}

  /**
   * The server's URL, checked to accept TCP connections (once per JVM).
   *
   * @return the URL: {@code once.test.nats.url}, {@code ONCE_TEST_NATS_URL} or {@link #DEFAULT_URL}
   * @throws IllegalStateException if nothing listens there
   */
  public static synchronized String url() {
    if (checked == null) {
      String configured =
          System.getProperty("once.test.nats.url", System.getenv("ONCE_TEST_NATS_URL"));
      String url = configured == null || configured.isBlank() ? DEFAULT_URL : configured;
      URI parsed = URI.create(url);
      String host = parsed.getHost() == null ? "127.0.0.1" : parsed.getHost();
      int port = parsed.getPort() > 0 ? parsed.getPort() : 4222;
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(host, port), 2000);
      } catch (IOException e) {
        throw new IllegalStateException(
            "no NATS server answers at "
                + host
                + ":"
                + port
                + " ("
                + e.getMessage()
                + "). Start one with JetStream (`.ci/run` starts `nats-server -js`) or point"
                + " ONCE_TEST_NATS_URL at one; there is no embedded fallback for NATS.",
            e);
      }
      System.out.println(
          "[once-testkit] tests use the NATS server at "
              + host
              + ":"
              + port
              + (configured == null || configured.isBlank()
                  ? " (default address)"
                  : " (ONCE_TEST_NATS_URL)"));
      checked = url;
    }
    return checked;
  }
}
