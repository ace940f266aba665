package dev.once.drill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DrillInputsTest {
  @TempDir Path dir;

  private Path file(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
  }

  @Test
  void readsJsonLinesWithHeaderObjectsOrArraysAndJsonOrTextBodies() throws IOException {
    Path f =
        file(
            "r.jsonl",
            """
            {"method":"post","url":"https://prod.example.com/payments?x=1","headers":{"Content-Type":"application/json"},"body":{"a": 1}}

            {"method":"PUT","path":"/items/1","headers":[{"name":"Idempotency-Key","value":"k1"}],"body":"plain"}
            {"method":"DELETE","url":"/items/2"}
            """);

    var requests = DrillInputs.jsonLines(f);

    assertThat(requests).hasSize(3);
    assertThat(requests.get(0).method()).isEqualTo("POST");
    assertThat(requests.get(0).path()).as("the host is dropped").isEqualTo("/payments?x=1");
    assertThat(requests.get(0).header("content-type")).contains("application/json");
    assertThat(requests.get(0).body()).isEqualTo("{\"a\":1}");
    assertThat(requests.get(1).header("Idempotency-Key")).contains("k1");
    assertThat(requests.get(1).body()).isEqualTo("plain");
    assertThat(requests.get(2).body()).isEmpty();
  }

  @Test
  void aLineThatIsNotJsonIsRefusedWithItsLineNumber() throws IOException {
    Path f = file("bad.jsonl", "{\"method\":\"POST\",\"url\":\"/a\"}\n{\"method\": POST\n");
    assertThatThrownBy(() -> DrillInputs.jsonLines(f))
        .isInstanceOf(DrillInputException.class)
        .hasMessageStartingWith(f + ":2: not JSON");
  }

  @Test
  void aLineWithoutAMethodOrAPathIsRefusedWithItsLineNumber() throws IOException {
    Path noMethod = file("m.jsonl", "{\"url\":\"/a\"}\n");
    Path relative = file("p.jsonl", "{\"method\":\"POST\",\"url\":\"a\"}\n");
    assertThatThrownBy(() -> DrillInputs.jsonLines(noMethod))
        .isInstanceOf(DrillInputException.class)
        .hasMessage(noMethod + ":1: missing string field 'method'");
    assertThatThrownBy(() -> DrillInputs.jsonLines(relative))
        .isInstanceOf(DrillInputException.class)
        .hasMessage(relative + ":1: path must start with '/', but was 'a'");
  }

  @Test
  void anUnreadableOrEmptyFileIsRefused() throws IOException {
    Path missing = dir.resolve("missing.jsonl");
    Path empty = file("empty.jsonl", "\n\n");
    assertThatThrownBy(() -> DrillInputs.jsonLines(missing))
        .isInstanceOf(DrillInputException.class)
        .hasMessageStartingWith(missing + ": cannot read the file");
    assertThatThrownBy(() -> DrillInputs.jsonLines(empty))
        .isInstanceOf(DrillInputException.class)
        .hasMessage(empty + ": no requests in the file");
  }

  @Test
  void readsTheUnsafeRequestsOfAHar() throws IOException {
    String encoded =
        Base64.getEncoder().encodeToString("{\"b\":2}".getBytes(StandardCharsets.UTF_8));
    Path f =
        file(
            "t.har",
            """
            {"log":{"version":"1.2","entries":[
              {"request":{"method":"GET","url":"https://shop.example/app.js","headers":[]}},
              {"request":{"method":"POST","url":"https://shop.example/orders","headers":[
                 {"name":":authority","value":"shop.example"},{"name":"Content-Type","value":"application/json"}],
                 "postData":{"mimeType":"application/json","text":"{\\"a\\":1}"}}},
              {"request":{"method":"PATCH","url":"https://shop.example/orders/1","headers":[],
                 "postData":{"text":"%s","encoding":"base64"}}}
            ]}}
            """
                .formatted(encoded));

    var requests = DrillInputs.har(f, DrillInputs.UNSAFE_METHODS);

    assertThat(requests).extracting(DrillRequest::method).containsExactly("POST", "PATCH");
    assertThat(requests.get(0).path()).isEqualTo("/orders");
    assertThat(requests.get(0).body()).isEqualTo("{\"a\":1}");
    assertThat(requests.get(1).body()).isEqualTo("{\"b\":2}");
    assertThat(DrillInputs.har(f, Set.of("GET")))
        .extracting(DrillRequest::path)
        .containsExactly("/app.js");
  }

  @Test
  void aFileThatIsNotAHarOrKeepsNothingIsRefused() throws IOException {
    Path notHar = file("x.har", "{\"entries\":[]}");
    Path onlyGets =
        file("g.har", "{\"log\":{\"entries\":[{\"request\":{\"method\":\"GET\",\"url\":\"/\"}}]}}");
    assertThatThrownBy(() -> DrillInputs.har(notHar, DrillInputs.UNSAFE_METHODS))
        .isInstanceOf(DrillInputException.class)
        .hasMessage(notHar + ": not a HAR file (no log.entries array)");
    assertThatThrownBy(() -> DrillInputs.har(onlyGets, DrillInputs.UNSAFE_METHODS))
        .isInstanceOf(DrillInputException.class)
        .hasMessage(
            onlyGets + ": no request with a method in DELETE,PATCH,POST,PUT among 1 entries");
  }

  @Test
  void thePaymentsScenarioChargesOneCustomerPerRequestAsAlice() {
    var requests = DrillInputs.paymentsScenario(3, "run-1");
    assertThat(requests).hasSize(3);
    assertThat(requests)
        .extracting(DrillRequest::body)
        .allMatch(b -> b.contains("\"currency\":\"EUR\""))
        .doesNotHaveDuplicates();
    assertThat(requests.get(0).body()).contains("\"customerId\":\"cus_drill_run-1_1\"");
    assertThat(requests.get(0).header("Authorization")).contains("Basic YWxpY2U6YWxpY2U=");
    assertThatThrownBy(() -> DrillInputs.paymentsScenario(0, "r"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("count must be at least 1, but was 0");
  }
}
