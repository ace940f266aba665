package dev.once;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Turns an action's result into the {@link Outcome} a store keeps, and back on replay. Plug in your
 * JSON library for objects:
 *
 * <pre>{@code
 * ResultCodec<Receipt> json = ResultCodec.of("application/json",
 *     receipt -> mapper.writeValueAsBytes(receipt),
 *     bytes -> mapper.readValue(bytes, Receipt.class));
 * }</pre>
 */
public interface ResultCodec<T> {

  /**
   * Encodes the action's result for storage.
   *
   * @param value the result
   * @return its stored form
   */
  Outcome encode(T value);

  /**
   * Decodes a stored result for a replay.
   *
   * @param outcome what {@link #encode} returned
   * @return the result
   */
  T decode(Outcome outcome);

  /**
   * Strings as UTF-8 {@code text/plain}. Encoding {@code null} throws {@link NullPointerException}.
   *
   * @return the codec
   */
  static ResultCodec<String> utf8() {
    return of(
        "text/plain; charset=utf-8",
        s -> s.getBytes(StandardCharsets.UTF_8),
        b -> new String(b, StandardCharsets.UTF_8));
  }

  /**
   * Raw bytes under the given content type, stored and replayed as they are.
   *
   * @param contentType the stored {@link Outcome#contentType()}; not {@code null}
   * @return the codec
   */
  static ResultCodec<byte[]> bytes(String contentType) {
    return of(contentType, b -> b, b -> b);
  }

  /**
   * For actions whose completion is all that matters: stores nothing, replays {@code null}.
   *
   * @param <T> the action's result type, ignored
   * @return the codec
   */
  static <T> ResultCodec<T> discard() {
    return new ResultCodec<>() {
      @Override
      public Outcome encode(T value) {
        return Outcome.empty();
      }

      // Replays null, as documented: whoever picks this codec asks for no result back.
      @SuppressWarnings("NullAway")
      @Override
      public T decode(Outcome outcome) {
        return null;
      }
    };
  }

  /**
   * A codec from two functions over the body bytes. Encoding {@code null} throws {@link
   * NullPointerException}; what a function throws is rethrown in an {@link IllegalStateException}.
   *
   * @param <T> the result type
   * @param contentType the stored {@link Outcome#contentType()}; not {@code null}
   * @param encoder turns a result into body bytes
   * @param decoder turns stored body bytes back into a result
   * @return the codec
   */
  static <T> ResultCodec<T> of(
      String contentType,
      ThrowingFunction<T, byte[]> encoder,
      ThrowingFunction<byte[], T> decoder) {
    Objects.requireNonNull(contentType, "contentType");
    return new ResultCodec<>() {
      @Override
      public Outcome encode(T value) {
        Objects.requireNonNull(value, "a result stored with this codec must not be null");
        try {
          return Outcome.of(contentType, encoder.apply(value));
        } catch (Exception e) {
          throw new IllegalStateException("could not encode the result as " + contentType, e);
        }
      }

      @Override
      public T decode(Outcome outcome) {
        try {
          return decoder.apply(outcome.body());
        } catch (Exception e) {
          throw new IllegalStateException(
              "could not decode a stored " + contentType + " result", e);
        }
      }
    };
  }

  /** A function that may throw, so JSON mappers fit directly. */
  @FunctionalInterface
  interface ThrowingFunction<A, B> {
    /**
     * Applies the function.
     *
     * @param a the argument
     * @return the result
     * @throws Exception when it fails; the codec rethrows it in an {@link IllegalStateException}
     */
    B apply(A a) throws Exception;
  }
}
