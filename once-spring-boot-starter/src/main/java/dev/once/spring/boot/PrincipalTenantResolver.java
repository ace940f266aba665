package dev.once.spring.boot;

import dev.once.Scope;
import dev.once.servlet.TenantResolver;
import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Principal;
import java.util.HexFormat;
import org.jspecify.annotations.Nullable;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.oauth2.client.authentication.OAuth2AuthenticationToken;
import org.springframework.security.oauth2.core.ClaimAccessor;
import org.springframework.security.oauth2.core.OAuth2AuthenticatedPrincipal;
import org.springframework.util.ClassUtils;

/**
 * The tenant of a key is the caller, told apart by who vouches for its name, not by the name alone:
 * a JWT {@code sub} from two issuers, an OAuth2 client whose id equals a user's name, or a password
 * user and a token subject called alike are different callers, and never see each other's
 * responses.
 *
 * <p>The tenant is {@code kind|qualifier|name}, each part escaped ({@code %} as {@code %25}, {@code
 * |} as {@code %7C}, control characters as {@code %XX}) so that no two callers encode alike:
 *
 * <table>
 *   <caption>kinds</caption>
 *   <tr><th>kind</th><th>qualifier</th><th>when</th></tr>
 *   <tr><td>{@code issuer}</td><td>the {@code iss} claim</td><td>the principal carries an issuer: a JWT
 *       ({@code JwtAuthenticationToken}), an OIDC login, an introspected token that names its issuer</td></tr>
 *   <tr><td>{@code oauth2-login}</td><td>the client registration id</td><td>an OAuth2 login without an
 *       issuer (a plain OAuth2 provider)</td></tr>
 *   <tr><td>{@code user}</td><td>empty</td><td>the principal is a {@link UserDetails}: the application's own
 *       users, however they proved it (password, remember-me, a certificate mapped by a
 *       {@code UserDetailsService})</td></tr>
 *   <tr><td>the {@link Authentication}'s class name</td><td>empty</td><td>any other authenticated
 *       principal</td></tr>
 *   <tr><td>{@code servlet}</td><td>empty</td><td>no Spring Security authentication, but the servlet
 *       container's {@link HttpServletRequest#getUserPrincipal() user principal}</td></tr>
 * </table>
 *
 * e.g. {@code user||alice} or {@code issuer|https://login.example.com|alice}. A tenant longer than
 * {@value Scope#MAX_PART_LENGTH} characters becomes {@code sha256:} and the SHA-256 of that text,
 * in hex.
 *
 * <p>No authenticated caller (none, or Spring Security's anonymous authentication) is the empty
 * tenant, which every such caller shares; the starter refuses those requests where the application
 * authenticates, unless the route allows them ({@link Idempotent#allowAnonymous()}).
 *
 * <p>The filter must run after the security filter chain for the principal to be known, which is
 * where the starter registers it. Changing how tenants are derived (this class, or a {@link
 * TenantResolver} of your own) moves every existing key to another scope: a retry of a request sent
 * before the change runs again.
 */
public final class PrincipalTenantResolver implements TenantResolver {

  private static final ClassLoader LOADER = PrincipalTenantResolver.class.getClassLoader();
  private static final boolean SPRING_SECURITY =
      ClassUtils.isPresent(
          "org.springframework.security.core.context.SecurityContextHolder", LOADER);
  private static final boolean OAUTH2 =
      ClassUtils.isPresent("org.springframework.security.oauth2.core.ClaimAccessor", LOADER);
  private static final boolean OAUTH2_LOGIN =
      ClassUtils.isPresent(
          "org.springframework.security.oauth2.client.authentication.OAuth2AuthenticationToken",
          LOADER);

  static final String USER = "user";
  static final String ISSUER = "issuer";
  static final String OAUTH2_LOGIN_KIND = "oauth2-login";
  static final String SERVLET = "servlet";
  static final String HASHED = "sha256:";

  @Override
  public String tenant(HttpServletRequest request) {
    if (SPRING_SECURITY) {
      String tenant = SpringSecurity.tenant();
      if (tenant != null) {
        return tenant;
      }
    }
    Principal principal = request.getUserPrincipal();
    return principal == null || principal.getName() == null
        ? ""
        : encode(SERVLET, "", principal.getName());
  }

  /** {@code kind|qualifier|name}, escaped; hashed when longer than a scope part may be. */
  static String encode(String kind, String qualifier, String name) {
    String tenant = escape(kind) + '|' + escape(qualifier) + '|' + escape(name);
    if (tenant.length() <= Scope.MAX_PART_LENGTH) {
      return tenant;
    }
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(tenant.getBytes(StandardCharsets.UTF_8));
      return HASHED + HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  private static String escape(String part) {
    StringBuilder b = null;
    for (int i = 0; i < part.length(); i++) {
      char c = part.charAt(i);
      if (c == '%' || c == '|' || Character.isISOControl(c)) {
        if (b == null) {
          b = new StringBuilder(part.length() + 8).append(part, 0, i);
        }
        b.append('%')
            .append(HexFormat.of().withUpperCase().toHexDigits((byte) c)); // all are below U+00A0
      } else if (b != null) {
        b.append(c);
      }
    }
    return b == null ? part : b.toString();
  }

  /** Loaded only when Spring Security is present. */
  private static final class SpringSecurity {
    static @Nullable String tenant() {
      Authentication auth = SecurityContextHolder.getContext().getAuthentication();
      if (auth == null
          || !auth.isAuthenticated()
          || auth instanceof AnonymousAuthenticationToken
          || auth.getName() == null) {
        return null;
      }
      Object principal = auth.getPrincipal();
      String issuer = OAUTH2 ? OAuth2.issuer(principal) : null;
      if (issuer != null) {
        return encode(ISSUER, issuer, auth.getName());
      }
      if (OAUTH2_LOGIN && OAuth2Login.is(auth)) {
        return encode(OAUTH2_LOGIN_KIND, OAuth2Login.registration(auth), auth.getName());
      }
      if (principal instanceof UserDetails) {
        return encode(USER, "", auth.getName());
      }
      return encode(auth.getClass().getName(), "", auth.getName());
    }
  }

  /** Loaded only when spring-security-oauth2-core is present. */
  private static final class OAuth2 {
    static @Nullable String issuer(@Nullable Object principal) {
      Object iss = null;
      if (principal instanceof ClaimAccessor claims) {
        iss = claims.getClaims().get("iss");
      }
      if (iss == null && principal instanceof OAuth2AuthenticatedPrincipal attributes) {
        iss = attributes.getAttributes().get("iss");
      }
      return iss == null || iss.toString().isEmpty() ? null : iss.toString();
    }
  }

  /** Loaded only when spring-security-oauth2-client is present. */
  private static final class OAuth2Login {
    static boolean is(Authentication auth) {
      return auth instanceof OAuth2AuthenticationToken;
    }

    static String registration(Authentication auth) {
      return ((OAuth2AuthenticationToken) auth).getAuthorizedClientRegistrationId();
    }
  }

  @Override
  public String toString() {
    return SPRING_SECURITY
        ? "PrincipalTenantResolver[Spring Security, then servlet principal]"
        : "PrincipalTenantResolver[servlet principal]";
  }
}
