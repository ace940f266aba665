package dev.once.servlet.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.Fingerprint;
import dev.once.servlet.FingerprintMode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestFingerprinterTest {

  private static Fingerprint fp(
      String method, String path, String query, String type, String body, FingerprintMode mode) {
    return RequestFingerprinter.fingerprint(
        new RequestFingerprinter.Parts(
            method,
            "POST /orders/{id}",
            path,
            query,
            type,
            body.getBytes(StandardCharsets.UTF_8),
            null),
        mode);
  }

  private static Fingerprint fp(String query, String type, String body, FingerprintMode mode) {
    return fp("POST", "/orders/1", query, type, body, mode);
  }

  @Test
  void canonicalJsonIgnoresOrderAndWhitespace() {
    assertThat(fp(null, "application/json", "{\"a\":1,\"b\":2}", FingerprintMode.CANONICAL_JSON))
        .isEqualTo(
            fp(
                null,
                "application/json; charset=UTF-8",
                "{ \"b\":2, \"a\":1 }",
                FingerprintMode.CANONICAL_JSON))
        .isEqualTo(
            fp(null, "Application/JSON", "{\"b\":2.0,\"a\":1}", FingerprintMode.CANONICAL_JSON));
    assertThat(
            fp(
                null,
                "application/merge-patch+json",
                "{\"a\":1,\"b\":2}",
                FingerprintMode.CANONICAL_JSON))
        .isEqualTo(
            fp(
                null,
                "application/merge-patch+json",
                "{\"b\":2,\"a\":1}",
                FingerprintMode.CANONICAL_JSON));
  }

  @Test
  void rawBytesModeAndNonJsonTypesCompareBytes() {
    assertThat(fp(null, "application/json", "{\"a\":1,\"b\":2}", FingerprintMode.RAW_BYTES))
        .isNotEqualTo(fp(null, "application/json", "{\"b\":2,\"a\":1}", FingerprintMode.RAW_BYTES));
    assertThat(fp(null, "text/plain", "{\"a\":1,\"b\":2}", FingerprintMode.CANONICAL_JSON))
        .isNotEqualTo(fp(null, "text/plain", "{\"b\":2,\"a\":1}", FingerprintMode.CANONICAL_JSON));
    // malformed JSON falls back to its bytes
    assertThat(fp(null, "application/json", "{\"a\":1,", FingerprintMode.CANONICAL_JSON))
        .isEqualTo(fp(null, "application/json", "{\"a\":1,", FingerprintMode.CANONICAL_JSON))
        .isNotEqualTo(fp(null, "application/json", "{\"a\":1, ", FingerprintMode.CANONICAL_JSON));
  }

  @Test
  void theMediaTypeMethodAndPathCount() {
    String body = "{\"a\":1}";
    Fingerprint json = fp(null, "application/json", body, FingerprintMode.CANONICAL_JSON);
    assertThat(fp(null, "text/plain", body, FingerprintMode.CANONICAL_JSON)).isNotEqualTo(json);
    assertThat(
            fp("PUT", "/orders/1", null, "application/json", body, FingerprintMode.CANONICAL_JSON))
        .isNotEqualTo(json);
    assertThat(
            fp("POST", "/orders/2", null, "application/json", body, FingerprintMode.CANONICAL_JSON))
        .isNotEqualTo(json);
  }

  @Test
  void queryParametersAreSortedByNameButRepeatedValuesKeepTheirOrder() {
    String t = "application/json";
    Fingerprint base = fp("a=1&b=2", t, "{}", FingerprintMode.CANONICAL_JSON);
    assertThat(fp("b=2&a=1", t, "{}", FingerprintMode.CANONICAL_JSON)).isEqualTo(base);
    assertThat(fp("b=2&&a=%31", t, "{}", FingerprintMode.CANONICAL_JSON)).isEqualTo(base);
    assertThat(fp("a=1&b=3", t, "{}", FingerprintMode.CANONICAL_JSON)).isNotEqualTo(base);
    assertThat(fp("tag=x&tag=y", t, "{}", FingerprintMode.CANONICAL_JSON))
        .isNotEqualTo(fp("tag=y&tag=x", t, "{}", FingerprintMode.CANONICAL_JSON));
    assertThat(fp(null, t, "{}", FingerprintMode.CANONICAL_JSON))
        .isEqualTo(fp("", t, "{}", FingerprintMode.CANONICAL_JSON));
    assertThat(fp("a=b=c", t, "{}", FingerprintMode.CANONICAL_JSON))
        .isNotEqualTo(fp("a=b&c", t, "{}", FingerprintMode.CANONICAL_JSON));
  }

  @Test
  void formsParsedByTheContainerAreFingerprintedByTheirParameters() {
    Fingerprint a =
        RequestFingerprinter.fingerprint(
            new RequestFingerprinter.Parts(
                "POST",
                "POST /f",
                "/f",
                null,
                "application/x-www-form-urlencoded",
                new byte[0],
                List.of(new FormData.Pair("b", "2"), new FormData.Pair("a", "1"))),
            FingerprintMode.CANONICAL_JSON);
    Fingerprint b =
        RequestFingerprinter.fingerprint(
            new RequestFingerprinter.Parts(
                "POST",
                "POST /f",
                "/f",
                null,
                "application/x-www-form-urlencoded",
                new byte[0],
                List.of(new FormData.Pair("a", "1"), new FormData.Pair("b", "2"))),
            FingerprintMode.CANONICAL_JSON);
    Fingerprint c =
        RequestFingerprinter.fingerprint(
            new RequestFingerprinter.Parts(
                "POST",
                "POST /f",
                "/f",
                null,
                "application/x-www-form-urlencoded",
                new byte[0],
                List.of(new FormData.Pair("a", "1"), new FormData.Pair("b", "3"))),
            FingerprintMode.CANONICAL_JSON);
    assertThat(a).isEqualTo(b).isNotEqualTo(c);
  }

  @Test
  void formDecoding() {
    assertThat(FormData.parse("a=x+y&b=%41%zz&c&=v&d=caf%C3%A9", StandardCharsets.UTF_8))
        .containsExactly(
            new FormData.Pair("a", "x y"),
            new FormData.Pair("b", "A%zz"),
            new FormData.Pair("c", ""),
            new FormData.Pair("", "v"),
            new FormData.Pair("d", "caf\u00e9"));
    assertThat(FormData.parse("e=\ud83d\ude00%", StandardCharsets.UTF_8))
        .containsExactly(new FormData.Pair("e", "\ud83d\ude00%"));
  }
}
