package dev.once.servlet.testapp;

import jakarta.servlet.Filter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.Wrapper;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;

/**
 * An embedded Tomcat 11 on a random port of 127.0.0.1: the request-id and security filters, then
 * the filter under test, then {@link TestApp.Handler}. One node is one "instance" of the service.
 */
public final class Node implements AutoCloseable {

  static {
    Logger.getLogger("org.apache").setLevel(Level.WARNING);
    // Its thread-leak check reports the store's pools, which outlive a node on purpose.
    Logger.getLogger("org.apache.catalina.loader").setLevel(Level.SEVERE);
    // Outage tests cut connections under the driver: its complaints are expected.
    Logger.getLogger("org.postgresql").setLevel(Level.SEVERE);
  }

  private final Tomcat tomcat;
  private final Path baseDir;
  private final int port;

  private Node(Tomcat tomcat, Path baseDir, int port) {
    this.tomcat = tomcat;
    this.baseDir = baseDir;
    this.port = port;
  }

  /** Starts a node with {@code idempotency} behind the request-id and security filters. */
  public static Node start(Filter idempotency) {
    Map<String, Filter> filters = new LinkedHashMap<>();
    filters.put("requestId", new TestApp.RequestIdFilter());
    filters.put("security", new TestApp.SecurityFilter());
    filters.put("idempotency", idempotency);
    Path dir;
    try {
      dir = Files.createTempDirectory("once-servlet-tomcat-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(dir.toString());
    tomcat.setHostname("127.0.0.1");
    tomcat.setPort(0);
    tomcat.getConnector().setProperty("address", "127.0.0.1");
    // Read a refused body to its end, so the client always gets the 413 instead of a reset
    // connection.
    tomcat.getConnector().setProperty("maxSwallowSize", "-1");
    tomcat.getConnector().setProperty("maxPostSize", "-1");
    Context ctx = tomcat.addContext("", null);
    if (ctx instanceof StandardContext standard) {
      standard.setClearReferencesRmiTargets(false); // needs --add-opens; nothing to clear in a test
      standard.setClearReferencesThreadLocals(false);
    }
    for (Map.Entry<String, Filter> f : filters.entrySet()) {
      FilterDef def = new FilterDef();
      def.setFilterName(f.getKey());
      def.setFilter(f.getValue());
      def.setAsyncSupported("true");
      ctx.addFilterDef(def);
      FilterMap map = new FilterMap();
      map.setFilterName(f.getKey());
      map.addURLPattern("/*");
      ctx.addFilterMap(map);
    }
    Wrapper servlet = Tomcat.addServlet(ctx, "app", new TestApp.Handler());
    servlet.setAsyncSupported(true);
    ctx.addServletMappingDecoded("/*", "app");
    try {
      tomcat.start();
    } catch (LifecycleException e) {
      throw new IllegalStateException("Tomcat did not start", e);
    }
    return new Node(tomcat, dir, tomcat.getConnector().getLocalPort());
  }

  public int port() {
    return port;
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  @Override
  public void close() {
    try {
      tomcat.stop();
      tomcat.destroy();
    } catch (LifecycleException e) {
      throw new IllegalStateException(e);
    } finally {
      try (Stream<Path> paths = Files.walk(baseDir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException ignored) {
        // best effort
      }
    }
  }
}
