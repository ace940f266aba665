package dev.once.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.Scope;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.authentication.RememberMeAuthenticationToken;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.oauth2.client.authentication.OAuth2AuthenticationToken;
import org.springframework.security.oauth2.core.OAuth2AccessToken;
import org.springframework.security.oauth2.core.user.DefaultOAuth2User;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthentication;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.security.oauth2.server.resource.introspection.OAuth2IntrospectionAuthenticatedPrincipal;

/**
 * The tenant encoding, on Authentication objects as Spring Security's own filters build them (the
 * HTTP proof is {@code CallerScopeIT}).
 */
class PrincipalTenantResolverTest {

  private static final List<GrantedAuthority> USER_ROLE =
      List.of(new SimpleGrantedAuthority("ROLE_USER"));
  private static final UserDetails ALICE =
      User.withUsername("alice").password("{noop}x").roles("USER").build();

  private final PrincipalTenantResolver resolver = new PrincipalTenantResolver();

  @AfterEach
  void clear() {
    SecurityContextHolder.clearContext();
  }

  private String tenantOf(Authentication auth) {
    SecurityContextHolder.getContext().setAuthentication(auth);
    return resolver.tenant(new MockHttpServletRequest("POST", "/payments"));
  }

  private static Jwt jwt(String issuer, String subject) {
    Jwt.Builder b =
        Jwt.withTokenValue("t")
            .header("alg", "RS256")
            .subject(subject)
            .issuedAt(Instant.now())
            .expiresAt(Instant.now().plusSeconds(60));
    return issuer == null ? b.build() : b.issuer(issuer).build();
  }

  @Test
  void theApplicationsOwnUsersAreOneKindHoweverTheyLoggedIn() {
    String password =
        tenantOf(UsernamePasswordAuthenticationToken.authenticated(ALICE, "x", USER_ROLE));
    String rememberMe = tenantOf(new RememberMeAuthenticationToken("k", ALICE, USER_ROLE));

    assertThat(password).isEqualTo("user||alice");
    assertThat(rememberMe).isEqualTo(password);
  }

  @Test
  void callersCalledAlikeButVouchedForByDifferentAuthoritiesAreDifferentTenants() {
    Map<String, String> tenants =
        Map.of(
            "password user",
                tenantOf(UsernamePasswordAuthenticationToken.authenticated(ALICE, "x", USER_ROLE)),
            "JWT from A",
                tenantOf(new JwtAuthenticationToken(jwt("https://a.example", "alice"), USER_ROLE)),
            "JWT from B",
                tenantOf(new JwtAuthenticationToken(jwt("https://b.example", "alice"), USER_ROLE)),
            "JWT without issuer",
                tenantOf(new JwtAuthenticationToken(jwt(null, "alice"), USER_ROLE)),
            "OAuth2 login at github",
                tenantOf(
                    new OAuth2AuthenticationToken(
                        new DefaultOAuth2User(USER_ROLE, Map.of("login", "alice"), "login"),
                        USER_ROLE,
                        "github")),
            "OAuth2 login at gitlab",
                tenantOf(
                    new OAuth2AuthenticationToken(
                        new DefaultOAuth2User(USER_ROLE, Map.of("login", "alice"), "login"),
                        USER_ROLE,
                        "gitlab")),
            "custom authentication",
                tenantOf(
                    UsernamePasswordAuthenticationToken.authenticated("alice", "x", USER_ROLE)));

    assertThat(Set.copyOf(tenants.values())).as(tenants.toString()).hasSize(tenants.size());
    assertThat(tenants.get("JWT from A")).isEqualTo("issuer|https://a.example|alice");
    assertThat(tenants.get("OAuth2 login at github")).isEqualTo("oauth2-login|github|alice");
    assertThat(tenants.get("JWT without issuer"))
        .isEqualTo(JwtAuthenticationToken.class.getName() + "||alice");
  }

  @Test
  void anIntrospectedTokenFromTheSameIssuerAsAJwtNamesTheSameCaller() {
    OAuth2IntrospectionAuthenticatedPrincipal introspected =
        new OAuth2IntrospectionAuthenticatedPrincipal(
            "alice", Map.of("iss", "https://a.example", "sub", "alice"), USER_ROLE);
    String opaque =
        tenantOf(
            new BearerTokenAuthentication(
                introspected,
                new OAuth2AccessToken(
                    OAuth2AccessToken.TokenType.BEARER,
                    "t",
                    Instant.now(),
                    Instant.now().plusSeconds(60)),
                USER_ROLE));

    assertThat(opaque)
        .isEqualTo(
            tenantOf(new JwtAuthenticationToken(jwt("https://a.example", "alice"), USER_ROLE)));
  }

  @Test
  void anAnonymousAuthenticationIsNoTenantAndTheServletPrincipalIsTheFallback() {
    SecurityContextHolder.getContext()
        .setAuthentication(
            new AnonymousAuthenticationToken(
                "key", "anonymousUser", List.of(new SimpleGrantedAuthority("ROLE_ANONYMOUS"))));
    MockHttpServletRequest anonymous = new MockHttpServletRequest("POST", "/payments");
    assertThat(resolver.tenant(anonymous)).isEmpty();

    MockHttpServletRequest container = new MockHttpServletRequest("POST", "/payments");
    container.setUserPrincipal(() -> "bob");
    assertThat(resolver.tenant(container)).isEqualTo("servlet||bob");
  }

  @Test
  void separatorsInsideAPartCannotForgeAnotherCaller() {
    Set<String> tenants =
        Stream.of(
                PrincipalTenantResolver.encode("user", "a|b", "c"),
                PrincipalTenantResolver.encode("user", "a", "b|c"),
                PrincipalTenantResolver.encode("user|a", "b", "c"),
                PrincipalTenantResolver.encode("user", "a%7Cb", "c"))
            .collect(Collectors.toSet());

    assertThat(tenants).hasSize(4);
    assertThat(PrincipalTenantResolver.encode("user", "", "tab\there"))
        .isEqualTo("user||tab%09here");
  }

  @Test
  void aTenantTooLongForAScopeIsHashed() {
    String tenant =
        PrincipalTenantResolver.encode(
            "issuer", "https://a.example", "x".repeat(Scope.MAX_PART_LENGTH));

    assertThat(tenant).startsWith("sha256:").hasSize("sha256:".length() + 64);
    assertThat(Scope.of(tenant, "POST /payments").tenant()).isEqualTo(tenant);
  }
}
