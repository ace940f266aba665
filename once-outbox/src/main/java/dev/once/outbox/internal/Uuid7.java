package dev.once.outbox.internal;

import java.security.SecureRandom;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * UUIDv7 ids (RFC 9562): 48 bits of Unix milliseconds, the version, 12 bits {@code rand_a}, the
 * variant, 62 bits {@code rand_b}. Ids from one generator grow strictly, even within a millisecond
 * and when the clock steps back (RFC 9562 section 6.2, method 1): the 12 bits of {@code rand_a} and
 * the top 30 of {@code rand_b} are a counter, seeded at random each new millisecond with its top
 * bit clear (so at least 2^41 ids fit in one millisecond before the timestamp is advanced by one);
 * the low 32 bits are fresh random bits for every id. Thread-safe.
 */
public final class Uuid7 {

  private static final int COUNTER_BITS = 42;
  private static final long COUNTER_MAX = (1L << COUNTER_BITS) - 1;

  private final SecureRandom random = new SecureRandom();
  private final LongSupplier clockMillis;
  private long lastMillis = Long.MIN_VALUE; // guarded by this
  private long counter; // guarded by this

  /** A generator on the system clock. */
  public Uuid7() {
    this(System::currentTimeMillis);
  }

  /**
   * A generator on the given clock.
   *
   * @param clockMillis epoch milliseconds
   */
  public Uuid7(LongSupplier clockMillis) {
    this.clockMillis = clockMillis;
  }

  /**
   * {@return the next id, greater (as unsigned 128 bits) than every earlier one of this generator}
   */
  public synchronized UUID next() {
    long now = clockMillis.getAsLong();
    if (now > lastMillis) {
      lastMillis = now;
      counter = random.nextLong() & (COUNTER_MAX >>> 1);
    } else if (counter < COUNTER_MAX) {
      counter++;
    } else {
      // The counter ran out within one millisecond: borrow the next one.
      lastMillis++;
      counter = random.nextLong() & (COUNTER_MAX >>> 1);
    }
    long randA = counter >>> 30; // 12 bits
    long counterLow = counter & ((1L << 30) - 1); // 30 bits
    long msb = ((lastMillis & 0xFFFF_FFFF_FFFFL) << 16) | 0x7000L | randA;
    long lsb = 0x8000_0000_0000_0000L | (counterLow << 32) | (random.nextInt() & 0xFFFF_FFFFL);
    return new UUID(msb, lsb);
  }

  /**
   * {@return the Unix milliseconds of a UUIDv7}
   *
   * @param id a version 7 id
   */
  public static long millis(UUID id) {
    return id.getMostSignificantBits() >>> 16;
  }

  /**
   * {@return {@code a} compared with {@code b} as unsigned 128-bit numbers, the order of their
   * bytes} {@link UUID#compareTo} compares signed halves, which is not that order.
   *
   * @param a one id
   * @param b the other
   */
  public static int compareUnsigned(UUID a, UUID b) {
    int high = Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits());
    return high != 0
        ? high
        : Long.compareUnsigned(a.getLeastSignificantBits(), b.getLeastSignificantBits());
  }

  /**
   * {@return the id's 16 bytes, most significant first}
   *
   * @param id the id
   */
  public static byte[] toBytes(UUID id) {
    byte[] out = new byte[16];
    long msb = id.getMostSignificantBits();
    long lsb = id.getLeastSignificantBits();
    for (int i = 0; i < 8; i++) {
      out[i] = (byte) (msb >>> (56 - 8 * i));
      out[8 + i] = (byte) (lsb >>> (56 - 8 * i));
    }
    return out;
  }

  /**
   * {@return the id of 16 bytes, most significant first}
   *
   * @param bytes exactly 16 bytes
   * @throws IllegalArgumentException if there are not 16
   */
  public static UUID fromBytes(byte[] bytes) {
    if (bytes.length != 16) {
      throw new IllegalArgumentException("a UUID has 16 bytes, not " + bytes.length);
    }
    long msb = 0;
    long lsb = 0;
    for (int i = 0; i < 8; i++) {
      msb = (msb << 8) | (bytes[i] & 0xFF);
      lsb = (lsb << 8) | (bytes[8 + i] & 0xFF);
    }
    return new UUID(msb, lsb);
  }
}
