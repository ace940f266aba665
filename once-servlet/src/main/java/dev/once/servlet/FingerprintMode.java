package dev.once.servlet;

/**
 * How a request body enters the fingerprint that decides whether a retry is "the same request".
 * Either way the fingerprint also covers the method, the route's operation, the request path, the
 * canonical query string and the body's media type; see {@link IdempotencyFilter}.
 */
public enum FingerprintMode {

  /**
   * JSON bodies ({@code application/json} and every {@code application/*+json}) are parsed with
   * Jackson and fingerprinted in a canonical form: object members sorted by name, no insignificant
   * whitespace, strings with one escaping, numbers by value ({@code 1}, {@code 1.0} and {@code 1e0}
   * are equal). So {@code {"a":1,"b":2}} and {@code { "b":2, "a":1 }} are the same request. Bodies
   * of other media types, and JSON that does not parse (or repeats a member name), fall back to
   * {@link #RAW_BYTES}.
   */
  CANONICAL_JSON,

  /** The body's bytes exactly as received: any difference, even whitespace, is another request. */
  RAW_BYTES
}
