package dev.once.spring.boot;

import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.OnceException;
import dev.once.Outcome;
import dev.once.Purger;
import dev.once.Scope;
import dev.once.StoreAdmin;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code once} Actuator endpoint: what an operator needs at 3 a.m. Secured like every Actuator
 * endpoint: not exposed over the web unless {@code management.endpoints.web.exposure.include} names
 * it, and read-only unless {@code management.endpoint.once.access=unrestricted} allows the release
 * and the purge.
 *
 * <ul>
 *   <li>{@code GET /actuator/once}: the records of each store by state, each purger's progress and
 *       how often each action ran;
 *   <li>{@code GET /actuator/once?operation=&key=[&tenant=][&store=]}: a key's record (state,
 *       token, lease, retention; of a stored outcome its content type and size, the body only with
 *       {@code once.admin.show-outcomes=true});
 *   <li>{@code DELETE /actuator/once?operation=&key=[&tenant=][&store=]}: releases a stuck
 *       in-progress key ({@link StoreAdmin#forceRelease});
 *   <li>{@code POST /actuator/once}: purges every store now.
 * </ul>
 *
 * <p>{@code store} names a store when the application has several (default: the first). An empty or
 * missing {@code tenant} is the global scope. Each action is logged (the key as its SHA-256 digest,
 * never raw; the release at WARN) and counted ({@link #actionCounts()}).
 */
@Endpoint(id = "once", defaultAccess = Access.READ_ONLY)
public final class OnceEndpoint {

  private static final Log LOG = LogFactory.getLog(OnceEndpoint.class);

  /** The actions, as counted by {@link #actionCounts()}. */
  public static final List<String> ACTIONS = List.of("summary", "inspect", "release", "purge");

  private final List<IdempotencyStore> stores;
  private final @Nullable OncePurgers purgers;
  private final boolean showOutcomes;
  private final AtomicLong summaries = new AtomicLong();
  private final AtomicLong inspections = new AtomicLong();
  private final AtomicLong releases = new AtomicLong();
  private final AtomicLong purges = new AtomicLong();

  /**
   * The endpoint over the application's stores.
   *
   * @param stores the stores, the first being the default
   * @param purgers the running purgers, if purging is on; their progress is shown
   * @param showOutcomes whether a key's stored body is shown
   */
  public OnceEndpoint(
      List<IdempotencyStore> stores, @Nullable OncePurgers purgers, boolean showOutcomes) {
    this.stores = List.copyOf(stores);
    this.purgers = purgers;
    this.showOutcomes = showOutcomes;
  }

  /**
   * {@return how often each action was asked for since start-up, refused requests included, by
   * action name ({@link #ACTIONS})}
   */
  public Map<String, Long> actionCounts() {
    Map<String, Long> snapshot = new LinkedHashMap<>();
    snapshot.put("summary", summaries.get());
    snapshot.put("inspect", inspections.get());
    snapshot.put("release", releases.get());
    snapshot.put("purge", purges.get());
    return snapshot;
  }

  /**
   * Without {@code operation} and {@code key}: the summary. With them: that key's record.
   *
   * @param operation the key's operation
   * @param key the key as the client sent it
   * @param tenant the key's tenant; empty or missing for the global scope
   * @param store the store's name; missing for the first
   * @return the summary or the record
   */
  @ReadOperation
  public Map<String, Object> read(
      @Nullable String operation,
      @Nullable String key,
      @Nullable String tenant,
      @Nullable String store) {
    if (operation == null && key == null) {
      return summary();
    }
    inspections.incrementAndGet();
    IdempotencyStore target = store(store);
    IdempotencyKey k = key(operation, key, tenant);
    LOG.info("once admin: inspect key " + k.digestHex() + " in store " + target.name());
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("store", target.name());
    answer.put("key", k.digestHex());
    target
        .admin()
        .inspect(k)
        .ifPresentOrElse(
            r -> {
              answer.put("found", true);
              answer.put("state", r.state().name());
              answer.put("token", r.token());
              if (r.leaseUntil() != null) {
                answer.put("leaseUntil", String.valueOf(r.leaseUntil()));
              }
              answer.put("expiresAt", r.expiresAt().toString());
              Outcome o = r.outcome();
              if (o != null) {
                answer.put("outcome", outcome(o));
              }
            },
            () -> answer.put("found", false));
    return answer;
  }

  private Map<String, Object> summary() {
    summaries.incrementAndGet();
    Map<String, Object> answer = new LinkedHashMap<>();
    Map<String, Object> records = new LinkedHashMap<>();
    for (IdempotencyStore s : stores) {
      StoreAdmin.RecordCounts c = s.admin().count();
      records.put(
          s.name(),
          Map.of("inProgress", c.inProgress(), "completed", c.completed(), "expired", c.expired()));
    }
    answer.put("records", records);
    Map<String, Object> progress = new LinkedHashMap<>();
    if (purgers != null) {
      for (Purger p : purgers.purgers()) {
        Purger.Progress pr = p.progress();
        Map<String, Object> one = new LinkedHashMap<>();
        one.put("purges", pr.purges());
        one.put("batches", pr.batches());
        one.put("deleted", pr.deleted());
        one.put("failures", pr.failures());
        one.put("lastPurge", String.valueOf(pr.lastPurge()));
        if (pr.lastFailure() != null) {
          one.put("lastFailure", pr.lastFailure());
        }
        progress.put(p.name(), one);
      }
    }
    answer.put("purgers", progress);
    answer.put("actions", actionCounts());
    return answer;
  }

  private Map<String, Object> outcome(Outcome o) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("contentType", o.contentType());
    m.put("bodyLength", o.bodyLength());
    if (showOutcomes) {
      m.put("attributes", o.attributes());
      m.put("bodyBase64", Base64.getEncoder().encodeToString(o.body()));
    }
    return m;
  }

  /**
   * Releases a stuck in-progress key: the next claim acquires it at once. Only for a key whose
   * worker is known to be gone: a worker still running cannot complete any more, but its effect may
   * have happened.
   *
   * @param operation the key's operation
   * @param key the key as the client sent it
   * @param tenant the key's tenant; empty or missing for the global scope
   * @param store the store's name; missing for the first
   * @return {@code released}: whether an in-progress record was deleted
   */
  @DeleteOperation
  public Map<String, Object> release(
      String operation, String key, @Nullable String tenant, @Nullable String store) {
    releases.incrementAndGet();
    IdempotencyStore target = store(store);
    IdempotencyKey k = key(operation, key, tenant);
    boolean released = target.admin().forceRelease(k);
    LOG.warn(
        "once admin: release of key "
            + k.digestHex()
            + " in store "
            + target.name()
            + (released ? ": released" : ": nothing in progress to release"));
    return Map.of("store", target.name(), "key", k.digestHex(), "released", released);
  }

  /**
   * Purges every store now, on the calling thread, with the purgers' settings.
   *
   * @return {@code deleted}: how many records each store's purge deleted
   * @throws IllegalStateException if purging is off ({@code once.purge.enabled=false})
   */
  @WriteOperation
  public Map<String, Object> purge() {
    purges.incrementAndGet();
    if (purgers == null || purgers.purgers().isEmpty()) {
      throw new InvalidEndpointRequestException(
          "purging is off (once.purge.enabled=false) or stopped", "purging is off");
    }
    Map<String, Object> deleted = new LinkedHashMap<>();
    for (Purger p : purgers.purgers()) {
      try {
        deleted.put(p.name(), p.purgeOnce());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while purging " + p.name(), e);
      }
    }
    LOG.info("once admin: purge deleted " + deleted);
    return Map.of("deleted", deleted);
  }

  private IdempotencyStore store(@Nullable String name) {
    if (stores.isEmpty()) {
      throw new InvalidEndpointRequestException("no store", "the application has no store");
    }
    if (name == null) {
      return stores.get(0);
    }
    return stores.stream()
        .filter(s -> s.name().equals(name))
        .findFirst()
        .orElseThrow(
            () ->
                new InvalidEndpointRequestException(
                    "no store named '" + name + "'; the stores are " + storeNames(),
                    "no such store"));
  }

  private List<String> storeNames() {
    return stores.stream().map(IdempotencyStore::name).toList();
  }

  private static IdempotencyKey key(
      @Nullable String operation, @Nullable String key, @Nullable String tenant) {
    if (operation == null || key == null) {
      throw new InvalidEndpointRequestException(
          "both operation and key are needed to find a key", "operation and key are needed");
    }
    try {
      return IdempotencyKey.of(Scope.of(Objects.requireNonNullElse(tenant, ""), operation), key);
    } catch (OnceException e) {
      // The message never contains the key (InvalidKeyException's rule).
      throw new InvalidEndpointRequestException(
          "not a valid key: " + e.getMessage(), "not a valid key");
    }
  }
}
