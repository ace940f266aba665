package dev.once;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * A store in this JVM's heap: bounded, expiring, thread-safe. Right for unit tests and a
 * single-instance service that accepts losing its records on restart; several instances need a
 * shared store.
 *
 * <pre>{@code
 * InMemoryIdempotencyStore store = InMemoryIdempotencyStore.builder()
 *     .maxRecords(100_000)
 *     .clock(testClock)
 *     .build();
 * }</pre>
 *
 * <p>When full, a claim first purges expired records; if the store is still full the claim fails
 * with {@link StoreUnavailableException} rather than silently evicting a record that still protects
 * a key.
 */
public final class InMemoryIdempotencyStore implements IdempotencyStore {

  private record Entry(
      boolean completed,
      Fingerprint fingerprint,
      long token,
      long leaseUntil,
      long expiresAt,
      @Nullable Outcome outcome) {

    /** The answer of a completed record (a held one has none). */
    Outcome stored() {
      return Objects.requireNonNull(outcome, "a completed record has an outcome");
    }
  }

  private final ConcurrentHashMap<IdempotencyKey, Entry> records = new ConcurrentHashMap<>();
  private final AtomicLong tokens = new AtomicLong();
  private final Clock clock;
  private final int maxRecords;
  private final String name;

  private InMemoryIdempotencyStore(Builder b) {
    this.clock = b.clock;
    this.maxRecords = b.maxRecords;
    this.name = b.name;
  }

  /** {@return a new builder, with the defaults documented on its setters} */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public ClaimResult claim(ClaimRequest request) {
    if (records.size() >= maxRecords && !records.containsKey(request.key())) {
      purgeExpired(Integer.MAX_VALUE);
      if (records.size() >= maxRecords) {
        throw new StoreUnavailableException(
            "the in-memory store is full (maxRecords="
                + maxRecords
                + ") and none of its records has expired",
            name,
            request.key().scope(),
            null);
      }
    }
    long now = clock.millis();
    ClaimResult[] answer = new ClaimResult[1];
    records.compute(
        request.key(),
        (key, current) -> {
          if (current == null || current.expiresAt() <= now) {
            return acquire(request, now, false, answer);
          }
          if (!current.fingerprint().equals(request.fingerprint())) {
            answer[0] = new ClaimResult.Mismatch();
            return current;
          }
          if (current.completed()) {
            answer[0] = new ClaimResult.Completed(current.stored());
            return current;
          }
          if (current.leaseUntil() > now) {
            answer[0] = new ClaimResult.InProgress(Duration.ofMillis(current.leaseUntil() - now));
            return current;
          }
          return acquire(request, now, true, answer);
        });
    return answer[0];
  }

  private Entry acquire(ClaimRequest request, long now, boolean takeover, ClaimResult[] answer) {
    long token = tokens.incrementAndGet();
    answer[0] = new ClaimResult.Acquired(token, takeover);
    long leaseUntil = now + request.lease().toMillis();
    // A record must outlive its live lease (as renew ensures), or a retention shorter than the
    // lease would let
    // a second claim treat the held key as absent and acquire it: a double execution.
    return new Entry(
        false,
        request.fingerprint(),
        token,
        leaseUntil,
        Math.max(leaseUntil, now + request.retention().toMillis()),
        null);
  }

  @Override
  public void complete(IdempotencyKey key, long token, Outcome outcome, Duration retention) {
    Objects.requireNonNull(outcome, "outcome");
    ClaimRequest.requirePositive("retention", retention);
    long now = clock.millis();
    boolean[] done = new boolean[1];
    records.computeIfPresent(
        key,
        (k, current) -> {
          if (current.token() != token) {
            return current;
          }
          if (!current.completed()) {
            done[0] = true;
            return new Entry(
                true, current.fingerprint(), token, now, now + retention.toMillis(), outcome);
          }
          // The same completion again (its first reply was lost): already done, and it changes
          // nothing.
          // Compared as stored (attributes in order), as the other stores compare it.
          done[0] =
              current.expiresAt() > now
                  && Arrays.equals(current.stored().toBytes(), outcome.toBytes());
          return current;
        });
    if (!done[0]) {
      throw new LeaseLostException(key.scope(), name, token, "complete");
    }
  }

  @Override
  public void release(IdempotencyKey key, long token) {
    update(key, token, "release", current -> null);
  }

  @Override
  public void renew(IdempotencyKey key, long token, Duration lease) {
    ClaimRequest.requirePositive("lease", lease);
    update(
        key,
        token,
        "renew",
        current -> {
          long leaseUntil = clock.millis() + lease.toMillis();
          return new Entry(
              false,
              current.fingerprint(),
              current.token(),
              leaseUntil,
              Math.max(current.expiresAt(), leaseUntil),
              null);
        });
  }

  private void update(
      IdempotencyKey key,
      long token,
      String operation,
      java.util.function.UnaryOperator<Entry> change) {
    boolean[] done = new boolean[1];
    records.computeIfPresent(
        key,
        (k, current) -> {
          if (current.completed() || current.token() != token) {
            return current;
          }
          done[0] = true;
          return change.apply(current);
        });
    if (!done[0]) {
      throw new LeaseLostException(key.scope(), name, token, operation);
    }
  }

  @Override
  public int purgeExpired(int limit) {
    long now = clock.millis();
    int removed = 0;
    for (Iterator<Map.Entry<IdempotencyKey, Entry>> it = records.entrySet().iterator();
        it.hasNext() && removed < limit; ) {
      Map.Entry<IdempotencyKey, Entry> e = it.next();
      // remove(key, value) re-checks atomically, so a record claimed meanwhile survives.
      if (isPurgeable(e.getValue(), now) && records.remove(e.getKey(), e.getValue())) {
        removed++;
      }
    }
    return removed;
  }

  private static boolean isPurgeable(Entry entry, long now) {
    return entry.expiresAt() <= now && (entry.completed() || entry.leaseUntil() <= now);
  }

  @Override
  public StoreAdmin admin() {
    return new StoreAdmin() {
      @Override
      public void check() {
        // Memory is always there.
      }

      @Override
      public Optional<RecordInfo> inspect(IdempotencyKey key) {
        Entry e = records.get(key);
        if (e == null || isPurgeable(e, clock.millis())) {
          return Optional.empty();
        }
        return Optional.of(
            new RecordInfo(
                e.completed() ? State.COMPLETED : State.IN_PROGRESS,
                e.token(),
                e.completed() ? null : Instant.ofEpochMilli(e.leaseUntil()),
                Instant.ofEpochMilli(e.expiresAt()),
                e.outcome()));
      }

      @Override
      public boolean forceRelease(IdempotencyKey key) {
        boolean[] released = {false};
        records.computeIfPresent(
            key,
            (k, e) -> {
              if (e.completed()) {
                return e;
              }
              released[0] = true;
              return null;
            });
        return released[0];
      }

      @Override
      public RecordCounts count() {
        long now = clock.millis();
        long inProgress = 0;
        long completed = 0;
        long expired = 0;
        for (Entry e : records.values()) {
          if (isPurgeable(e, now)) {
            expired++;
          } else if (e.completed()) {
            completed++;
          } else {
            inProgress++;
          }
        }
        return new RecordCounts(inProgress, completed, expired);
      }
    };
  }

  /** {@return how many records the store holds now, expired or not} */
  public int size() {
    return records.size();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String toString() {
    return "InMemoryIdempotencyStore["
        + name
        + ", "
        + records.size()
        + "/"
        + maxRecords
        + " records]";
  }

  /** Builds an {@link InMemoryIdempotencyStore}. */
  public static final class Builder {
    private Clock clock = Clock.systemUTC();
    private int maxRecords = 100_000;
    private String name = "memory";

    private Builder() {}

    /**
     * The time source for leases and retention. Default {@link Clock#systemUTC()}.
     *
     * @param clock the store's clock; not {@code null}
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Most records held at once. Default 100,000. A claim for a new key when the store is full and
     * nothing has expired throws {@link StoreUnavailableException}.
     *
     * @param maxRecords the bound; positive
     * @return this builder
     * @throws IllegalArgumentException if {@code maxRecords} is not positive
     */
    public Builder maxRecords(int maxRecords) {
      if (maxRecords < 1) {
        throw new IllegalArgumentException("maxRecords must be positive, but was " + maxRecords);
      }
      this.maxRecords = maxRecords;
      return this;
    }

    /**
     * The name used in messages and metrics. Default {@code "memory"}.
     *
     * @param name the store's name; not {@code null}
     * @return this builder
     */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** {@return a new, empty store with these settings} */
    public InMemoryIdempotencyStore build() {
      return new InMemoryIdempotencyStore(this);
    }
  }
}
