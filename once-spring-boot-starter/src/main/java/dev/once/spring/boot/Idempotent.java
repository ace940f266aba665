package dev.once.spring.boot;

import dev.once.servlet.FingerprintMode;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Makes a Spring MVC handler method honour the {@code Idempotency-Key} request header: the first
 * request with a key runs the method and its response is stored; a retry with the same key and the
 * same request gets the stored response back (with {@code Idempotent-Replayed: true}) and the
 * method does not run again.
 *
 * <pre>{@code
 * @PostMapping("/payments")
 * @Idempotent(retention = "24h")
 * ResponseEntity<Payment> charge(@RequestBody ChargeRequest request, Principal user) { ... }
 * }</pre>
 *
 * <p>The operation a key belongs to is the HTTP method plus the mapping's path pattern ({@code
 * "POST /payments/{id}/refunds"}), and the tenant is the authenticated principal (see {@link
 * PrincipalTenantResolver}), so the same key sent by two users or to two endpoints names two
 * unrelated records. Where the application authenticates, a request without an authenticated
 * principal is refused unless the route {@link #allowAnonymous() allows anonymous callers}. On a
 * type, the annotation applies to every handler method of the controller that does not carry its
 * own.
 *
 * <p>Durations are Spring Boot duration strings ({@code "30s"}, {@code "24h"}, {@code "PT5M"}) and
 * may be property placeholders ({@code "${payments.key-retention:24h}"}); an empty string means the
 * {@code once.http.*} default. Every value is checked when the application starts: a bad duration
 * or an unknown store bean fails the start-up, naming the handler.
 */
@Target({ElementType.METHOD, ElementType.TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Idempotent {

  /**
   * Whether a request without the header is refused with 400. When {@code false} such a request is
   * processed normally every time, unprotected. Default {@code true}.
   *
   * @return whether the key is required
   */
  boolean keyRequired() default true;

  /**
   * How long a completed response is kept and replayed. Default {@code once.http.retention} (24 h).
   *
   * @return a Spring duration such as {@code 7d}, placeholders resolved; empty for the default
   */
  String retention() default "";

  /**
   * How long one execution owns its key before a retry may take it over (lease mode; in atomic mode
   * the open transaction holds the key). Default {@code once.http.lease} (90 s).
   *
   * @return a Spring duration such as {@code 30s}, placeholders resolved; empty for the default
   */
  String lease() default "";

  /**
   * How the request is fingerprinted to tell a retry from another request under the same key.
   * Default {@link FingerprintMode#CANONICAL_JSON}.
   *
   * @return the fingerprint mode
   */
  FingerprintMode fingerprint() default FingerprintMode.CANONICAL_JSON;

  /**
   * Whether a 5xx response is stored and replayed (Stripe's behaviour) instead of releasing the key
   * so that a retry runs again. Default {@code false}.
   *
   * @return whether 5xx responses are final
   */
  boolean storeServerErrors() default false;

  /**
   * The name of the {@link dev.once.IdempotencyStore} bean that holds this route's records.
   * Default: the application's store ({@code once.store}).
   *
   * @return a bean name; empty for the application's store
   */
  String store() default "";

  /**
   * How long a request waits for an in-flight execution of its key to finish (then it gets the
   * stored response) before it is answered 409. Default {@code once.http.wait-for-in-flight} (0:
   * answer 409 at once).
   *
   * @return a Spring duration such as {@code 2s}, placeholders resolved; empty for the default
   */
  String waitForInFlight() default "";

  /**
   * Whether callers without an authenticated principal (none, or Spring Security's anonymous
   * authentication) may use keys on this route. They all share one key space per route: any of them
   * that knows a key and its request gets the stored response, and can take a key before its owner
   * does. When {@code false} and the application authenticates (it has Spring Security's filter
   * chain), such a request is answered 403 problem+json ({@code authentication-required}) before
   * anything is claimed or stored. An application without authentication serves every caller in the
   * shared space whatever this says, and warns at start-up; {@code once.http.allow-anonymous} sets
   * the application-wide default. Default {@code false}.
   *
   * @return whether anonymous callers may use keys here
   */
  boolean allowAnonymous() default false;
}
