package dev.once.servlet.internal;

import java.util.Collection;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Which response headers may be stored and replayed. Never: credentials and cookies ({@code
 * Set-Cookie}, {@code Set-Cookie2}, {@code WWW-Authenticate}, {@code Authorization}, {@code
 * Proxy-*}), hop-by-hop headers ({@code Connection}, {@code Keep-Alive}, {@code Transfer-Encoding},
 * {@code TE}, {@code Trailer}, {@code Upgrade}, and any header the response's {@code Connection}
 * header names), headers the container computes afresh ({@code Date}, {@code Content-Length}), the
 * key and replay-marker headers, and the configured per-request headers (such as {@code
 * X-Request-Id}). {@code Content-Type} is stored separately.
 */
public final class HeaderPolicy {

  /** Never stored, whatever the configuration. Lower case. */
  public static final Set<String> NEVER_STORED =
      Set.of(
          "set-cookie",
          "set-cookie2",
          "www-authenticate",
          "authorization",
          "connection",
          "keep-alive",
          "transfer-encoding",
          "te",
          "trailer",
          "upgrade",
          "date",
          "content-length",
          "content-type");

  private final Set<String> excluded;

  /**
   * @param perRequestHeaders headers that describe one exchange (request ids, trace context,
   *     timing)
   * @param alsoExcluded more names, such as the key header and the replay marker
   */
  public HeaderPolicy(Collection<String> perRequestHeaders, String... alsoExcluded) {
    Set<String> names = new HashSet<>(NEVER_STORED);
    for (String name : perRequestHeaders) {
      names.add(name.toLowerCase(Locale.ROOT));
    }
    for (String name : alsoExcluded) {
      names.add(name.toLowerCase(Locale.ROOT));
    }
    this.excluded = Set.copyOf(names);
  }

  /**
   * Whether the header may be stored and replayed.
   *
   * @param connectionTokens lower-case names listed in the response's own {@code Connection} header
   */
  public boolean replayable(String name, Set<String> connectionTokens) {
    String lower = name.toLowerCase(Locale.ROOT);
    return !excluded.contains(lower)
        && !lower.startsWith("proxy-")
        && !connectionTokens.contains(lower);
  }

  /** The lower-case header names listed in {@code Connection} header values. */
  public static Set<String> connectionTokens(Iterable<String> connectionValues) {
    Set<String> tokens = new HashSet<>();
    for (String value : connectionValues) {
      for (String token : value.split(",")) {
        String t = token.strip().toLowerCase(Locale.ROOT);
        if (!t.isEmpty()) {
          tokens.add(t);
        }
      }
    }
    return tokens;
  }
}
