package dev.once.drill;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Where a drill's requests come from: a JSON Lines file, a HAR file exported from a browser or a
 * proxy, or the built-in scenario for the payments example. Each loader throws {@link
 * DrillInputException} with the file (and the line, or the HAR entry) that it cannot use.
 */
public final class DrillInputs {

  /** The methods a HAR file is filtered to by default: the ones a retry can repeat an effect of. */
  public static final Set<String> UNSAFE_METHODS = Set.of("POST", "PUT", "PATCH", "DELETE");

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private DrillInputs() {}

  /**
   * Reads one request per line: {@code {"method":"POST","url":"/payments","headers":{...},
   * "body":...}}. {@code url} (or {@code path}) is a path or an absolute URL whose host is ignored;
   * {@code headers} an object of names to values or a HAR-style array of {@code {name,value}};
   * {@code body} a string, or JSON that is sent compact. Blank lines are skipped.
   *
   * @param file the file
   * @return the requests in file order
   * @throws DrillInputException if the file cannot be read, is empty, or a line is not a request
   */
  public static List<DrillRequest> jsonLines(Path file) {
    List<String> lines = readLines(file);
    List<DrillRequest> requests = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty()) {
        continue;
      }
      String where = file + ":" + (i + 1);
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (JacksonException e) {
        throw new DrillInputException(
            where + ": not JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""), e);
      }
      requests.add(request(node, where));
    }
    if (requests.isEmpty()) {
      throw new DrillInputException(file + ": no requests in the file");
    }
    return List.copyOf(requests);
  }

  /**
   * Reads {@code log.entries[].request} of a HAR file, keeping the entries whose method is in
   * {@code methods}.
   *
   * @param file the HAR file
   * @param methods the methods to keep (upper case), such as {@link #UNSAFE_METHODS}
   * @return the requests in file order
   * @throws DrillInputException if the file cannot be read, is not a HAR, or keeps no request
   */
  public static List<DrillRequest> har(Path file, Set<String> methods) {
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new DrillInputException(file + ": cannot read the file: " + e, e);
    } catch (JacksonException e) {
      throw new DrillInputException(file + ": not JSON: " + e.getOriginalMessage(), e);
    }
    JsonNode entries = root.path("log").path("entries");
    if (!entries.isArray()) {
      throw new DrillInputException(file + ": not a HAR file (no log.entries array)");
    }
    List<DrillRequest> requests = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      String where = file + ": log.entries[" + i + "].request";
      JsonNode har = entries.get(i).path("request");
      if (!har.isObject()) {
        throw new DrillInputException(where + ": missing");
      }
      String method = text(har, "method", where).toUpperCase(Locale.ROOT);
      if (!methods.contains(method)) {
        continue;
      }
      JsonNode postData = har.path("postData");
      String body = postData.path("text").asString("");
      if ("base64".equalsIgnoreCase(postData.path("encoding").asString(""))) {
        body = new String(Base64.getDecoder().decode(body), StandardCharsets.UTF_8);
      }
      requests.add(
          build(method, text(har, "url", where), headers(har.path("headers"), where), body, where));
    }
    if (requests.isEmpty()) {
      throw new DrillInputException(
          file
              + ": no request with a method in "
              + methods.stream().sorted().collect(Collectors.joining(","))
              + " among "
              + entries.size()
              + " entries");
    }
    return List.copyOf(requests);
  }

  /**
   * The payments example's scenario: {@code count} charges {@code POST /payments} as alice (HTTP
   * Basic {@code alice:alice}), each for its own customer {@code cus_drill_<runId>_<n>}, so that an
   * oracle can count one customer's payments: {@code select count(*) from payments where
   * customer_id = {body.customerId}}.
   *
   * @param count how many charges, at least 1
   * @param runId a tag that makes this run's customers its own (letters, digits, {@code -})
   * @return the requests
   * @throws IllegalArgumentException if {@code count} is below 1 or {@code runId} has other
   *     characters
   */
  public static List<DrillRequest> paymentsScenario(int count, String runId) {
    if (count < 1) {
      throw new IllegalArgumentException("count must be at least 1, but was " + count);
    }
    if (!runId.matches("[A-Za-z0-9-]+")) {
      throw new IllegalArgumentException(
          "runId must be letters, digits and '-', but was '" + runId + "'");
    }
    String basic =
        "Basic "
            + Base64.getEncoder().encodeToString("alice:alice".getBytes(StandardCharsets.UTF_8));
    List<DrillRequest> requests = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      String body =
          "{\"customerId\":\"cus_drill_"
              + runId
              + "_"
              + i
              + "\",\"amountCents\":"
              + (1000 + i)
              + ",\"currency\":\"EUR\"}";
      requests.add(
          new DrillRequest(
              "POST",
              "/payments",
              List.of(
                  new DrillRequest.Header("Authorization", basic),
                  new DrillRequest.Header("Content-Type", "application/json")),
              body));
    }
    return List.copyOf(requests);
  }

  private static DrillRequest request(JsonNode node, String where) {
    if (!node.isObject()) {
      throw new DrillInputException(where + ": a request must be a JSON object");
    }
    String url = node.has("url") ? text(node, "url", where) : text(node, "path", where);
    JsonNode body = node.path("body");
    String text =
        body.isMissingNode() || body.isNull()
            ? ""
            : body.isString() ? body.asString() : body.toString();
    return build(
        text(node, "method", where), url, headers(node.path("headers"), where), text, where);
  }

  private static DrillRequest build(
      String method, String url, List<DrillRequest.Header> headers, String body, String where) {
    try {
      return new DrillRequest(method, pathOf(url, where), headers, body);
    } catch (IllegalArgumentException e) {
      throw new DrillInputException(where + ": " + e.getMessage(), e);
    }
  }

  /** The path and query of {@code url}: the drill never sends to the host a file names. */
  private static String pathOf(String url, String where) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new DrillInputException(where + ": not a URL: '" + url + "'", e);
    }
    if (!uri.isAbsolute()) {
      return url;
    }
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    return uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
  }

  private static List<DrillRequest.Header> headers(JsonNode node, String where) {
    List<DrillRequest.Header> headers = new ArrayList<>();
    if (node.isMissingNode() || node.isNull()) {
      return headers;
    }
    if (node.isObject()) {
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        headers.add(new DrillRequest.Header(e.getKey(), e.getValue().asString()));
      }
    } else if (node.isArray()) {
      for (JsonNode h : node) {
        headers.add(
            new DrillRequest.Header(
                text(h, "name", where + ": headers"), text(h, "value", where + ": headers")));
      }
    } else {
      throw new DrillInputException(where + ": headers must be an object or an array");
    }
    return headers;
  }

  private static String text(JsonNode node, String field, String where) {
    JsonNode value = node.path(field);
    if (!value.isString()) {
      throw new DrillInputException(where + ": missing string field '" + field + "'");
    }
    return value.asString();
  }

  private static List<String> readLines(Path file) {
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new DrillInputException(file + ": cannot read the file: " + e, e);
    }
  }
}
