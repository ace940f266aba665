package dev.once.servlet.internal;

import dev.once.Fingerprint;
import dev.once.servlet.FingerprintMode;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The fingerprint of an HTTP request: what decides whether a retry with the same key is "the same
 * request". It covers a version tag, the method, the route's operation, the concrete path (so one
 * key cannot be replayed across {@code /orders/1/refunds} and {@code /orders/2/refunds}), the query
 * string with its parameters sorted by name (stably, so repeated parameters keep their order), the
 * body's media type without parameters, and the body: canonical JSON or raw bytes, read in the
 * charset its {@code Content-Type} declares (unless the route fingerprints raw bytes). Each part is
 * length-prefixed.
 */
public final class RequestFingerprinter {

  private static final String VERSION = "once/http/v1";

  private RequestFingerprinter() {}

  /** What a request contributes to its fingerprint. */
  public record Parts(
      String method,
      String operation,
      String path,
      @Nullable String rawQuery,
      @Nullable String contentType,
      byte[] body,
      @Nullable List<FormData.Pair> containerParsedForm) {}

  public static Fingerprint fingerprint(Parts r, FingerprintMode mode) {
    Fingerprint.Builder fp =
        Fingerprint.builder().add(VERSION).add(r.method()).add(r.operation()).add(r.path());
    List<FormData.Pair> query = sorted(FormData.parse(r.rawQuery(), StandardCharsets.UTF_8));
    fp.add(Integer.toString(query.size()));
    for (FormData.Pair p : query) {
      fp.add(p.name()).add(p.value());
    }
    fp.add(MediaTypes.essence(r.contentType()));
    if (r.containerParsedForm() != null) {
      // The container read the form body before this filter (an earlier filter asked for a
      // parameter): the
      // parameters it parsed are all that is left of the body.
      List<FormData.Pair> form = sorted(r.containerParsedForm());
      fp.add("form").add(Integer.toString(form.size()));
      for (FormData.Pair p : form) {
        fp.add(p.name()).add(p.value());
      }
      return fp.build();
    }
    if (mode == FingerprintMode.RAW_BYTES) {
      return fp.add("raw").add(r.body()).build();
    }
    byte[] body = asUtf8(r.body(), MediaTypes.charset(r.contentType()));
    if (MediaTypes.isJson(r.contentType()) && body.length > 0) {
      byte[] canonical = JsonCanonicalizer.canonicalize(body);
      if (canonical != null) {
        return fp.add("json").add(canonical).build();
      }
    }
    return fp.add("raw").add(body).build();
  }

  /**
   * The text {@code body} holds in its declared charset, as UTF-8: the same text sent in ISO-8859-1
   * or UTF-8 is the same request, and the same bytes declared in two charsets are two texts.
   * Without a declared charset, or when the body is not valid in it (decoding strictly, since a
   * replacement character would make different bodies equal), the bytes as they are.
   */
  private static byte[] asUtf8(byte[] body, @Nullable String declared) {
    if (declared == null || body.length == 0) {
      return body;
    }
    Charset charset;
    try {
      charset = Charset.forName(declared);
    } catch (IllegalArgumentException e) { // illegal or unsupported name
      return body;
    }
    if (charset.equals(StandardCharsets.UTF_8)) {
      return body;
    }
    try {
      CharBuffer text =
          charset
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(body));
      return text.toString().getBytes(StandardCharsets.UTF_8);
    } catch (CharacterCodingException e) {
      return body;
    }
  }

  private static List<FormData.Pair> sorted(List<FormData.Pair> pairs) {
    List<FormData.Pair> copy = new ArrayList<>(pairs);
    copy.sort(Comparator.comparing(FormData.Pair::name)); // List.sort is stable
    return copy;
  }
}
