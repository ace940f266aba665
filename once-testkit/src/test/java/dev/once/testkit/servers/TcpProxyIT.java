package dev.once.testkit.servers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TcpProxyIT {

  private TestDatabase direct;
  private TcpProxy proxy;
  private TestDatabase viaProxy;

  @BeforeEach
  void startProxy() {
    direct = TestServers.postgres();
    proxy = TcpProxy.start(direct.host(), direct.port());
    viaProxy = direct.withAddress("127.0.0.1", proxy.port());
  }

  @AfterEach
  void stopProxy() {
    proxy.close();
  }

  @Test
  void trafficFlowsThroughToPostgres() throws SQLException {
    try (Connection c = connect(viaProxy);
        Statement s = c.createStatement()) {
      assertThat(scalar(s, "select 1")).isEqualTo("1");
      // a result much larger than the proxy's buffer arrives whole
      assertThat(scalar(s, "select length(repeat('x', 3000000))")).isEqualTo("3000000");
      assertThat(scalar(s, "select md5(repeat('once', 500000))"))
          .isEqualTo(
              scalar(s, "select md5(string_agg('once', '')) from generate_series(1, 500000)"));
      assertThat(scalar(s, "select repeat('ab', 1000000)")).hasSize(2_000_000);
    }
    assertThat(viaProxy.jdbcUrl()).contains("127.0.0.1:" + proxy.port());
    assertThat(proxy.acceptedConnections()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void cutBreaksOpenConnectionsAndNewOnesFailUntilRestored() throws SQLException {
    try (Connection open = connect(viaProxy);
        Statement s = open.createStatement()) {
      String backendPid = scalar(s, "select pg_backend_pid()");
      assertThat(proxy.activeConnections()).isEqualTo(1);

      proxy.cut();

      assertThat(proxy.isCut()).isTrue();
      assertThat(proxy.activeConnections()).isZero();
      assertThatThrownBy(() -> scalar(s, "select 1")).isInstanceOf(SQLException.class);
      assertThat(open.isValid(2)).isFalse();
      assertThatThrownBy(() -> connect(viaProxy)).isInstanceOf(SQLException.class);
      assertThatThrownBy(() -> connect(viaProxy)).isInstanceOf(SQLException.class);
      // the server saw its side of the connection go too, as it would if it had gone down
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                try (Connection c = connect(direct);
                    Statement check = c.createStatement()) {
                  assertThat(
                          scalar(
                              check,
                              "select count(*) from pg_stat_activity where pid = " + backendPid))
                      .isEqualTo("0");
                }
              });
    }

    proxy.restore();

    assertThat(proxy.isCut()).isFalse();
    try (Connection c = connect(viaProxy);
        Statement s = c.createStatement()) {
      assertThat(scalar(s, "select 1")).isEqualTo("1");
    }
  }

  @Test
  void partitionBreaksTheClientsSideAndLeavesTheServersSideOpenUntilClose() throws SQLException {
    try (Connection open = connect(viaProxy);
        Statement s = open.createStatement()) {
      open.setAutoCommit(false);
      String backendPid = scalar(s, "select pg_backend_pid()");

      proxy.partition();

      assertThat(proxy.isCut()).isTrue();
      assertThatThrownBy(() -> scalar(s, "select 1")).isInstanceOf(SQLException.class);
      assertThatThrownBy(() -> connect(viaProxy)).isInstanceOf(SQLException.class);
      // The server heard nothing: its backend still waits in the transaction for a client that is
      // gone.
      try (Connection c = connect(direct);
          Statement check = c.createStatement()) {
        assertThat(scalar(check, "select state from pg_stat_activity where pid = " + backendPid))
            .isEqualTo("idle in transaction");
      }
      proxy.restore();
      try (Connection c = connect(viaProxy);
          Statement again = c.createStatement()) {
        assertThat(scalar(again, "select 1")).isEqualTo("1");
      }

      proxy.close();

      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                try (Connection c = connect(direct);
                    Statement check = c.createStatement()) {
                  assertThat(
                          scalar(
                              check,
                              "select count(*) from pg_stat_activity where pid = " + backendPid))
                      .isEqualTo("0");
                }
              });
    }
  }

  @Test
  void cutAndRestoreRepeatedly() throws SQLException {
    for (int i = 0; i < 3; i++) {
      try (Connection c = connect(viaProxy);
          Statement s = c.createStatement()) {
        assertThat(scalar(s, "select " + i)).isEqualTo(String.valueOf(i));
        proxy.cut();
        assertThatThrownBy(() -> scalar(s, "select 1")).isInstanceOf(SQLException.class);
      }
      assertThatThrownBy(() -> connect(viaProxy)).isInstanceOf(SQLException.class);
      proxy.restore();
    }
  }

  @Test
  void closeStopsListening() throws SQLException {
    try (Connection c = connect(viaProxy)) {
      proxy.close();
      assertThatThrownBy(() -> scalar(c.createStatement(), "select 1"))
          .isInstanceOf(SQLException.class);
    }
    assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), proxy.port()).close())
        .isInstanceOf(ConnectException.class);
    proxy.close(); // idempotent
  }

  @Test
  void bytesAndHalfCloseArePassedOnExactly() throws Exception {
    try (ServerSocket echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        TcpProxy echoProxy = TcpProxy.start("127.0.0.1", echo.getLocalPort())) {
      CompletableFuture<Void> server =
          CompletableFuture.runAsync(
              () -> {
                try (Socket peer = echo.accept()) {
                  peer.getInputStream().transferTo(peer.getOutputStream());
                  peer.shutdownOutput();
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              });
      byte[] sent = new byte[5_000_000];
      new Random(42).nextBytes(sent);
      try (Socket client = new Socket()) {
        client.connect(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), echoProxy.port()), 5_000);
        client.setSoTimeout(30_000);
        CompletableFuture<byte[]> received =
            CompletableFuture.supplyAsync(
                () -> {
                  try (InputStream in = client.getInputStream()) {
                    ByteArrayOutputStream all = new ByteArrayOutputStream();
                    in.transferTo(all);
                    return all.toByteArray();
                  } catch (IOException e) {
                    throw new IllegalStateException(e);
                  }
                });
        OutputStream out = client.getOutputStream();
        out.write(sent);
        client.shutdownOutput(); // the echo server sees EOF, finishes, and closes its side

        assertThat(received.get(30, TimeUnit.SECONDS)).isEqualTo(sent);
      }
      server.get(30, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(10)).until(() -> echoProxy.activeConnections() == 0);
    }
  }

  @Test
  void lostRepliesReachNoClientWhileRequestsStillReachTheServer() throws Exception {
    try (ServerSocket echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        TcpProxy echoProxy = TcpProxy.start("127.0.0.1", echo.getLocalPort())) {
      CompletableFuture<String> heard = new CompletableFuture<>();
      CompletableFuture.runAsync(
          () -> {
            for (int i = 0; i < 2; i++) {
              try (Socket peer = echo.accept()) {
                byte[] request = peer.getInputStream().readNBytes(4);
                if (i == 0) {
                  heard.complete(new String(request, java.nio.charset.StandardCharsets.US_ASCII));
                }
                peer.getOutputStream().write(request);
                peer.getOutputStream().flush();
                peer.getInputStream().read(); // until the client goes
              } catch (IOException e) {
                // the proxy reset this connection: expected for the first one
              }
            }
          });
      try (Socket client = new Socket()) {
        client.connect(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), echoProxy.port()), 5_000);
        client.setSoTimeout(30_000);
        echoProxy.loseReplies();
        client.getOutputStream().write("ping".getBytes(java.nio.charset.StandardCharsets.US_ASCII));

        assertThat(heard.get(30, TimeUnit.SECONDS))
            .as("what the server received")
            .isEqualTo("ping");
        echoProxy.cut();
        // The server answered, but the answer was dropped: the client only sees its connection
        // reset.
        assertThatThrownBy(() -> client.getInputStream().read()).isInstanceOf(IOException.class);
      }
      echoProxy.restore();
      try (Socket client = new Socket()) {
        client.connect(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), echoProxy.port()), 5_000);
        client.setSoTimeout(30_000);
        client.getOutputStream().write("pong".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThat(client.getInputStream().readNBytes(4)).asString().isEqualTo("pong");
      }
    }
  }

  @Test
  void closeConnectionsEndsThemInAnOrderlyWayAndKeepsProxying() throws Exception {
    try (ServerSocket echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        TcpProxy echoProxy = TcpProxy.start("127.0.0.1", echo.getLocalPort())) {
      CompletableFuture.runAsync(
          () -> {
            for (int i = 0; i < 2; i++) {
              try (Socket peer = echo.accept()) {
                peer.getInputStream().transferTo(peer.getOutputStream());
              } catch (IOException e) {
                // the proxy closed this connection
              }
            }
          });
      try (Socket client = new Socket()) {
        client.connect(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), echoProxy.port()), 5_000);
        client.setSoTimeout(30_000);
        client.getOutputStream().write("ping".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThat(client.getInputStream().readNBytes(4)).asString().isEqualTo("ping");

        echoProxy.closeConnections();

        assertThat(client.getInputStream().read()).as("end of stream, not a reset").isEqualTo(-1);
        assertThat(echoProxy.activeConnections()).isZero();
      }
      try (Socket client = new Socket()) {
        client.connect(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), echoProxy.port()), 5_000);
        client.setSoTimeout(30_000);
        client.getOutputStream().write("pong".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThat(client.getInputStream().readNBytes(4)).asString().isEqualTo("pong");
      }
    }
  }

  private static Connection connect(TestDatabase db) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", db.user());
    props.setProperty("password", db.password());
    props.setProperty("connectTimeout", "5");
    props.setProperty("loginTimeout", "5");
    props.setProperty("socketTimeout", "30");
    return DriverManager.getConnection(db.jdbcUrl(), props);
  }

  private static String scalar(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      assertThat(rs.next()).isTrue();
      return rs.getString(1);
    }
  }
}
