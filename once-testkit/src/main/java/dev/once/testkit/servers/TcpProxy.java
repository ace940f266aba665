package dev.once.testkit.servers;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on 127.0.0.1 that a test can cut to simulate a database server going down, and
 * restore to simulate it coming back.
 *
 * <pre>{@code
 * try (TcpProxy proxy = TcpProxy.start(db.host(), db.port())) {
 *     TestDatabase viaProxy = db.withAddress("127.0.0.1", proxy.port());
 *     // point the store's connection pool at viaProxy.jdbcUrl() ...
 *     proxy.cut();      // every proxied connection is reset; new ones are closed at once
 *     proxy.restore();  // new connections reach the server again
 * }
 * }</pre>
 *
 * <p>To lose an answer after the server acted on the request (the case a retry must survive), call
 * {@link #loseReplies()}, send the request, wait until the server shows its effect, then {@link
 * #cut()}: the client never hears the answer and sees its connection reset.
 *
 * <p>Each accepted connection gets a new connection to the target and two daemon threads copying
 * bytes, one each way. While cut, the proxy keeps listening (so its port stays its own) but closes
 * every connection it accepts straight away, so a client's connect or login fails. Thread-safe.
 */
public final class TcpProxy implements AutoCloseable {

  private static final int CONNECT_TIMEOUT_MILLIS = 5_000;
  private static final int BUFFER_SIZE = 16 * 1024;

  private final String targetHost;
  private final int targetPort;
  private final ServerSocket server;
  private final Thread acceptor;
  private final Object lock = new Object();
  private final Set<Link> links = new HashSet<>(); // guarded by lock
  private final List<Socket> silenced =
      new ArrayList<>(); // guarded by lock: server sides left open by partition()
  private boolean cut; // guarded by lock
  private boolean closed; // guarded by lock
  private volatile boolean losingReplies;
  private final AtomicInteger accepted = new AtomicInteger();

  private TcpProxy(String targetHost, int targetPort, ServerSocket server) {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.server = server;
    this.acceptor =
        new Thread(this::acceptLoop, "once-tcp-proxy-" + server.getLocalPort() + "-accept");
    this.acceptor.setDaemon(true);
  }

  /**
   * Starts a proxy listening on 127.0.0.1 on a free port, forwarding to the target.
   *
   * @param targetHost host of the real server, e.g. {@code 127.0.0.1}
   * @param targetPort port of the real server, e.g. {@code 5432}
   * @return the running proxy; close it when done
   * @throws UncheckedIOException if no port could be bound
   */
  public static TcpProxy start(String targetHost, int targetPort) {
    if (targetPort <= 0 || targetPort > 65535) {
      throw new IllegalArgumentException("bad target port " + targetPort);
    }
    ServerSocket server = null;
    try {
      server = new ServerSocket();
      server.setReuseAddress(true);
      server.bind(
          new InetSocketAddress(
              InetAddress.getByAddress("localhost", new byte[] {127, 0, 0, 1}), 0),
          128);
    } catch (IOException e) {
      if (server != null) {
        closeQuietly(server);
      }
      throw new UncheckedIOException(
          "could not listen on 127.0.0.1 for a proxy to " + targetHost + ":" + targetPort, e);
    }
    TcpProxy proxy = new TcpProxy(targetHost, targetPort, server);
    proxy.acceptor.start();
    return proxy;
  }

  /**
   * The port the proxy listens on, on 127.0.0.1.
   *
   * @return the local port
   */
  public int port() {
    return server.getLocalPort();
  }

  /**
   * Simulates the server going down: resets every live proxied connection at once, and makes every
   * new connection fail (it is accepted and closed at once) until {@link #restore()}. When this
   * returns, every connection that was live has been closed.
   */
  public void cut() {
    List<Link> toClose;
    synchronized (lock) {
      cut = true;
      toClose = new ArrayList<>(links);
      links.clear();
    }
    for (Link link : toClose) {
      link.abort();
    }
  }

  /**
   * Closes every live proxied connection in an orderly way (FIN, not a reset), as a server does
   * that shuts down or drops idle clients; new connections are proxied as before. When this
   * returns, every connection that was live has been closed.
   */
  public void closeConnections() {
    List<Link> toClose;
    synchronized (lock) {
      toClose = new ArrayList<>(links);
      links.clear();
    }
    for (Link link : toClose) {
      link.close();
    }
  }

  /**
   * Simulates a network partition as the client sees it: resets every live client connection at
   * once, while the server's side of each stays open and silent (no FIN, no RST: nothing reaches
   * the server, as when the network between them is lost), until {@link #close()}. The server
   * learns that its clients are gone only from its own timeouts. New connections fail until {@link
   * #restore()}, as with {@link #cut()}.
   */
  public void partition() {
    List<Link> toSever;
    synchronized (lock) {
      cut = true;
      toSever = new ArrayList<>(links);
      links.clear();
    }
    for (Link link : toSever) {
      link.sever();
    }
  }

  /**
   * Simulates the server coming back: new connections are proxied again, and replies pass again.
   */
  public void restore() {
    synchronized (lock) {
      cut = false;
      losingReplies = false;
    }
  }

  /**
   * Makes the server's answers get lost on the way: from now until {@link #restore()}, bytes from
   * the server to the clients of every connection, open or new, are dropped, while the clients'
   * bytes still reach the server. A client then waits for an answer that never comes, though the
   * server did what it was asked.
   */
  public void loseReplies() {
    losingReplies = true;
  }

  /**
   * Whether the proxy is cut.
   *
   * @return {@code true} between {@link #cut()} and {@link #restore()}
   */
  public boolean isCut() {
    synchronized (lock) {
      return cut;
    }
  }

  /**
   * How many proxied connections are open now.
   *
   * @return the number of live client connections
   */
  public int activeConnections() {
    synchronized (lock) {
      return links.size();
    }
  }

  /**
   * How many client connections the proxy has accepted so far, including those it closed at once
   * while cut.
   *
   * @return the number accepted since start
   */
  public int acceptedConnections() {
    return accepted.get();
  }

  /**
   * Stops listening and closes every proxied connection; once this returns, connecting to {@link
   * #port()} is refused. Idempotent.
   */
  @Override
  public void close() {
    List<Link> toClose;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      toClose = new ArrayList<>(links);
      links.clear();
    }
    closeQuietly(server);
    for (Link link : toClose) {
      link.abort();
    }
    List<Socket> toRelease;
    synchronized (lock) {
      toRelease = new ArrayList<>(silenced);
      silenced.clear();
    }
    for (Socket socket : toRelease) {
      abort(socket);
    }
    // The listening socket is released only once the acceptor's blocked accept() has
    // returned; wait for that so that a connect after close() is refused.
    if (Thread.currentThread() != acceptor) {
      try {
        acceptor.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public String toString() {
    return "TcpProxy[127.0.0.1:"
        + port()
        + " -> "
        + targetHost
        + ":"
        + targetPort
        + (isCut() ? ", cut" : "")
        + "]";
  }

  private void acceptLoop() {
    while (true) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        synchronized (lock) {
          if (closed) {
            return;
          }
        }
        if (server.isClosed()) {
          return;
        }
        // e.g. too many open files: back off briefly rather than spin
        try {
          Thread.sleep(50);
        } catch (InterruptedException ie) {
          return;
        }
        continue;
      }
      int n = accepted.incrementAndGet();
      if (isCut() || isClosed()) {
        abort(client);
        continue;
      }
      // Connecting to the target can take a while: do it in a thread of its own, which then
      // pumps client-to-target bytes.
      Thread connector =
          new Thread(() -> connect(client), "once-tcp-proxy-" + port() + "-conn-" + n);
      connector.setDaemon(true);
      connector.start();
    }
  }

  private boolean isClosed() {
    synchronized (lock) {
      return closed;
    }
  }

  private void connect(Socket client) {
    Socket upstream = new Socket();
    try {
      client.setTcpNoDelay(true);
      upstream.setTcpNoDelay(true);
      upstream.connect(new InetSocketAddress(targetHost, targetPort), CONNECT_TIMEOUT_MILLIS);
    } catch (IOException e) {
      abort(client);
      closeQuietly(upstream);
      return;
    }
    Link link = new Link(client, upstream);
    synchronized (lock) {
      if (cut || closed) {
        link.abort();
        return;
      }
      links.add(link);
    }
    link.run(Thread.currentThread().getName());
  }

  /** One proxied connection: the client's socket, the target's socket and a pump each way. */
  private final class Link {
    private final Socket client;
    private final Socket upstream;
    private final AtomicInteger pumpsRunning = new AtomicInteger(2);
    private volatile boolean severed;

    Link(Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
    }

    /** Pumps target-to-client bytes in a new thread and client-to-target bytes in this one. */
    void run(String name) {
      Thread down = new Thread(() -> pump(upstream, client, true), name + "-down");
      down.setDaemon(true);
      down.start();
      pump(client, upstream, false);
    }

    private void pump(Socket from, Socket to, boolean replies) {
      byte[] buffer = new byte[BUFFER_SIZE];
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        int n;
        while ((n = in.read(buffer)) >= 0) {
          if (replies && losingReplies) {
            continue;
          }
          out.write(buffer, 0, n);
        }
        // Orderly end of one direction: pass the half-close on.
        to.shutdownOutput();
      } catch (IOException e) {
        // Reset, closed by cut()/close(), or broken: end both directions.
        abort();
        return;
      }
      if (pumpsRunning.decrementAndGet() == 0) {
        finish();
      }
    }

    /** Both directions ended normally. */
    private void finish() {
      synchronized (lock) {
        links.remove(this);
      }
      closeQuietly(client);
      closeQuietly(upstream);
    }

    /** Closes both sockets in an orderly way. */
    void close() {
      closeQuietly(client);
      closeQuietly(upstream);
    }

    /** Closes both sockets with a reset, as a crashed server or a dropped network would. */
    void abort() {
      synchronized (lock) {
        links.remove(this);
      }
      TcpProxy.abort(client);
      if (!severed) {
        TcpProxy.abort(upstream);
      }
    }

    /**
     * Resets the client's side only; the server's side stays open, unread and unwritten, until
     * close().
     */
    void sever() {
      severed = true;
      synchronized (lock) {
        links.remove(this);
        silenced.add(upstream);
      }
      TcpProxy.abort(client);
    }
  }

  private static void abort(Socket socket) {
    try {
      socket.setSoLinger(true, 0); // RST instead of FIN
    } catch (SocketException ignored) {
      // already closed
    }
    closeQuietly(socket);
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception ignored) {
      // nothing to do
    }
  }
}
