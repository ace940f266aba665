package dev.once.drill.internal;

import dev.once.drill.DrillInputException;
import java.net.URI;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** The one place the drill sends to, and the checks that keep it there. */
public final class Target {
  private Target() {}

  /**
   * {@return {@code target} checked: an absolute http or https URL with a host}
   *
   * @throws DrillInputException otherwise
   */
  public static URI check(URI target) {
    String scheme = target.getScheme() == null ? "" : target.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https")) || target.getHost() == null) {
      throw new DrillInputException(
          "--target must be an http:// or https:// URL with a host, but was '" + target + "'");
    }
    return target;
  }

  /** {@return the port of {@code uri}, its scheme's default if it names none} */
  public static int port(URI uri) {
    if (uri.getPort() >= 0) {
      return uri.getPort();
    }
    return "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
  }

  /** {@return whether {@code a} and {@code b} have one scheme, host and port} */
  public static boolean sameOrigin(URI a, URI b) {
    return Objects.equals(lower(a.getScheme()), lower(b.getScheme()))
        && Objects.equals(lower(a.getHost()), lower(b.getHost()))
        && port(a) == port(b);
  }

  /** {@return {@code pathAndQuery} on the target's origin (the target's own path is ignored)} */
  public static URI resolve(URI target, String pathAndQuery) {
    return URI.create(target.getScheme() + "://" + target.getRawAuthority() + pathAndQuery);
  }

  private static String lower(@Nullable String s) {
    return s == null ? "" : s.toLowerCase(Locale.ROOT);
  }
}
