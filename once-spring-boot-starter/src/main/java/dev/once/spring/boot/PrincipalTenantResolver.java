package dev.once.spring.boot;

import dev.once.servlet.TenantResolver;
import jakarta.servlet.http.HttpServletRequest;
import java.security.Principal;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.util.ClassUtils;

/**
 * The tenant of a key is the caller: the authenticated Spring Security principal's name when Spring Security is on
 * the class path (an anonymous authentication does not count), else the servlet container's
 * {@link HttpServletRequest#getUserPrincipal() user principal}, else {@code ""} (keys shared by every unauthenticated
 * caller). The filter must run after the security filter chain for the principal to be known, which is where the
 * starter registers it.
 */
public final class PrincipalTenantResolver implements TenantResolver {

  private static final boolean SPRING_SECURITY = ClassUtils.isPresent(
      "org.springframework.security.core.context.SecurityContextHolder", PrincipalTenantResolver.class.getClassLoader());

  @Override
  public String tenant(HttpServletRequest request) {
    if (SPRING_SECURITY) {
      String name = SpringSecurity.principal();
      if (name != null) {
        return name;
      }
    }
    Principal principal = request.getUserPrincipal();
    return principal == null || principal.getName() == null ? "" : principal.getName();
  }

  /** Loaded only when Spring Security is present. */
  private static final class SpringSecurity {
    static String principal() {
      Authentication auth = SecurityContextHolder.getContext().getAuthentication();
      if (auth == null || !auth.isAuthenticated() || auth instanceof AnonymousAuthenticationToken) {
        return null;
      }
      return auth.getName();
    }
  }

  @Override
  public String toString() {
    return SPRING_SECURITY ? "PrincipalTenantResolver[Spring Security, then servlet principal]"
        : "PrincipalTenantResolver[servlet principal]";
  }
}
