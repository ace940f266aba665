package dev.once.servlet.internal;

import dev.once.Fingerprint;
import dev.once.servlet.FingerprintMode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The fingerprint of an HTTP request: what decides whether a retry with the same key is "the same request".
 * It covers a version tag, the method, the route's operation, the concrete path (so one key cannot be replayed
 * across {@code /orders/1/refunds} and {@code /orders/2/refunds}), the query string with its parameters
 * sorted by name (stably, so repeated parameters keep their order), the body's media type without
 * parameters, and the body: canonical JSON or raw bytes. Each part is length-prefixed.
 */
public final class RequestFingerprinter {

  private static final String VERSION = "once/http/v1";

  private RequestFingerprinter() {
  }

  /** What a request contributes to its fingerprint. */
  public record Parts(String method, String operation, String path, String rawQuery, String contentType, byte[] body,
                      List<FormData.Pair> containerParsedForm) {
  }

  public static Fingerprint fingerprint(Parts r, FingerprintMode mode) {
    Fingerprint.Builder fp = Fingerprint.builder()
        .add(VERSION)
        .add(r.method())
        .add(r.operation())
        .add(r.path());
    List<FormData.Pair> query = sorted(FormData.parse(r.rawQuery(), StandardCharsets.UTF_8));
    fp.add(Integer.toString(query.size()));
    for (FormData.Pair p : query) {
      fp.add(p.name()).add(p.value());
    }
    fp.add(MediaTypes.essence(r.contentType()));
    if (r.containerParsedForm() != null) {
      // The container read the form body before this filter (an earlier filter asked for a parameter): the
      // parameters it parsed are all that is left of the body.
      List<FormData.Pair> form = sorted(r.containerParsedForm());
      fp.add("form").add(Integer.toString(form.size()));
      for (FormData.Pair p : form) {
        fp.add(p.name()).add(p.value());
      }
      return fp.build();
    }
    if (mode == FingerprintMode.CANONICAL_JSON && MediaTypes.isJson(r.contentType()) && r.body().length > 0) {
      byte[] canonical = JsonCanonicalizer.canonicalize(r.body());
      if (canonical != null) {
        return fp.add("json").add(canonical).build();
      }
    }
    return fp.add("raw").add(r.body()).build();
  }

  private static List<FormData.Pair> sorted(List<FormData.Pair> pairs) {
    List<FormData.Pair> copy = new ArrayList<>(pairs);
    copy.sort(Comparator.comparing(FormData.Pair::name)); // List.sort is stable
    return copy;
  }
}
