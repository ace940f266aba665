package dev.once.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;

class PrincipalTenantResolverTest {

  private final PrincipalTenantResolver resolver = new PrincipalTenantResolver();

  @AfterEach
  void clear() {
    SecurityContextHolder.clearContext();
  }

  @Test
  void theSpringSecurityPrincipalIsTheTenant() {
    SecurityContextHolder.getContext().setAuthentication(UsernamePasswordAuthenticationToken.authenticated(
        "alice", "n/a", List.of(new SimpleGrantedAuthority("ROLE_USER"))));
    assertThat(resolver.tenant(new MockHttpServletRequest("POST", "/payments"))).isEqualTo("alice");
  }

  @Test
  void anAnonymousAuthenticationIsNoTenantAndTheServletPrincipalIsTheFallback() {
    SecurityContextHolder.getContext().setAuthentication(new AnonymousAuthenticationToken(
        "key", "anonymousUser", List.of(new SimpleGrantedAuthority("ROLE_ANONYMOUS"))));
    MockHttpServletRequest anonymous = new MockHttpServletRequest("POST", "/payments");
    assertThat(resolver.tenant(anonymous)).isEmpty();

    MockHttpServletRequest container = new MockHttpServletRequest("POST", "/payments");
    container.setUserPrincipal(() -> "bob");
    assertThat(resolver.tenant(container)).isEqualTo("bob");
  }
}
