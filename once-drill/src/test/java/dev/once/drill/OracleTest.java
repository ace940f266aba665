package dev.once.drill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The oracles against a real H2 database and a JDK HTTP server. */
class OracleTest {

  private static DrillRequest charge(String customer) {
    return new DrillRequest(
        "POST",
        "/payments",
        List.of(new DrillRequest.Header("X-Order", "o-7")),
        "{\"customer\":{\"id\":\"" + customer + "\"},\"amount\":5}");
  }

  @Test
  void theSqlOracleBindsThePlaceholdersAsParameters() throws Exception {
    String url = "jdbc:h2:mem:oracle-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1";
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      s.execute("create table effects (k varchar(40), customer varchar(40), orders varchar(40))");
      s.execute(
          "insert into effects values ('k1', 'c1', 'o-7'), ('k1', 'c1', 'o-7'), ('k2', 'c2', 'o-8')");

      assertThat(
              Oracle.jdbc(url, null, null, "select count(*) from effects where k = {key}")
                  .count(charge("c1"), "k1"))
          .isEqualTo(2);
      Oracle byBody =
          Oracle.jdbc(
              url,
              null,
              null,
              "select count(*) from effects where customer = {body.customer.id} and orders = {header.X-Order}");
      assertThat(byBody.count(charge("c1"), "any")).isEqualTo(2);
      assertThat(byBody.count(charge("c2"), "any")).as("c2's effect is order o-8").isZero();
      assertThat(byBody.count(charge("x' or '1'='1"), "any")).as("a value, never SQL").isZero();
      assertThatThrownBy(
              () ->
                  Oracle.jdbc(url, null, null, "select count(*) from effects where k = {body.nope}")
                      .count(charge("c1"), "k1"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("{body.nope}: no such value in the request's body");
    }
  }

  @Test
  void theHttpOracleReadsANumberOrAnArraysLength() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        ex -> {
          String query = ex.getRequestURI().getRawQuery();
          byte[] body =
              (query.equals("key=k%201")
                      ? "[{\"id\":1},{\"id\":2}]"
                      : query.equals("key=k2") ? "1" : "\"many\"")
                  .getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    server.start();
    try {
      URI target = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
      Oracle oracle = Oracle.http(target, "/effects?key={key}");
      assertThat(oracle.count(charge("c"), "k 1"))
          .as("URL-encoded, an array's length")
          .isEqualTo(2);
      assertThat(oracle.count(charge("c"), "k2")).isEqualTo(1);
      assertThatThrownBy(() -> oracle.count(charge("c"), "k3"))
          .hasMessage("GET /effects?key=k3: the body is neither a number nor a JSON array");
    } finally {
      server.stop(0);
    }
  }
}
