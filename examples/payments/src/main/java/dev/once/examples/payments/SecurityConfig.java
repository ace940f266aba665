package dev.once.examples.payments;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;

/**
 * HTTP Basic with two demo users, alice/alice and bob/bob. The Idempotency-Key filter runs after
 * this chain, so an unauthenticated request is answered 401 before any key is looked at, and every
 * key is scoped to its user.
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfig {

  @Bean
  SecurityFilterChain api(HttpSecurity http) throws Exception {
    return http.authorizeHttpRequests(
            requests -> requests.requestMatchers("/error").permitAll().anyRequest().authenticated())
        .httpBasic(Customizer.withDefaults())
        // A JSON API for non-browser clients: no session cookie, no CSRF token.
        .csrf(csrf -> csrf.disable())
        .sessionManagement(
            session -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
        .build();
  }

  /**
   * Demo users with plain-text passwords. Exposed as a bare {@link UserDetailsService} rather than
   * the manager: a manager is also a password-upgrade service, and Spring Security would re-hash
   * the passwords with BCrypt at the first login, making every later request pay for a BCrypt
   * check.
   */
  @Bean
  UserDetailsService users() {
    InMemoryUserDetailsManager users =
        new InMemoryUserDetailsManager(
            User.withUsername("alice").password("{noop}alice").roles("USER").build(),
            User.withUsername("bob").password("{noop}bob").roles("USER").build());
    return users::loadUserByUsername;
  }
}
