package dev.once.drill.internal;

import dev.once.drill.DrillInputException;
import dev.once.drill.DrillRequest;
import dev.once.drill.Oracle;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@link Oracle#http}: a GET on the target whose body is the count or an array of the effects. */
public final class HttpOracle implements Oracle {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private final URI target;
  private final String template;
  private final Placeholders path;

  /** See {@link Oracle#http}. */
  public HttpOracle(URI target, String template) {
    this.target = target;
    this.template = template;
    String relative = template;
    if (template.startsWith("http://") || template.startsWith("https://")) {
      URI uri = URI.create(template.replaceAll("\\{[^}]*}", "x"));
      if (!Target.sameOrigin(uri, target)) {
        throw new DrillInputException(
            "oracle URL '" + template + "' is not on the target " + target + ": refused");
      }
      int slash = template.indexOf('/', template.indexOf("//") + 2);
      relative = slash < 0 ? "/" : template.substring(slash);
    }
    if (!relative.startsWith("/")) {
      throw new DrillInputException(
          "oracle URL must be a path starting with '/' or a URL on the target, but was '"
              + template
              + "'");
    }
    this.path = new Placeholders(relative, "oracle URL");
  }

  @Override
  public long count(DrillRequest request, String key) throws IOException, InterruptedException {
    String filled =
        path.fill(
            request,
            key,
            // %20, not +, for a space: right in a path as in a query
            v -> URLEncoder.encode(v, StandardCharsets.UTF_8).replace("+", "%20"));
    HttpRequest get =
        HttpRequest.newBuilder(Target.resolve(target, filled))
            .timeout(Duration.ofSeconds(30))
            .GET()
            .build();
    HttpResponse<String> r = HTTP.send(get, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("GET " + filled + " answered " + r.statusCode());
    }
    JsonNode body = JSON.readTree(r.body());
    if (body.isArray()) {
      return body.size();
    }
    if (body.isIntegralNumber()) {
      return body.asLong();
    }
    throw new IOException("GET " + filled + ": the body is neither a number nor a JSON array");
  }

  @Override
  public String describe() {
    return "GET " + template;
  }
}
