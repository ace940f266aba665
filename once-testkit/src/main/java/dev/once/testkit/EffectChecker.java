package dev.once.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The checker of a chaos test: every id the test sent is classified by how many committed effects
 * it has, and every effect whose id was never sent is "unexpected". A single lost, duplicated or
 * unexpected id fails.
 *
 * <pre>{@code
 * EffectChecker.Verdict v = EffectChecker.check(sentIds, effectCountsById);
 * System.out.println("[chaos] seed " + seed + ": " + v);   // ok=6970 lost=0 duplicated=0 unexpected=0
 * v.assertExactlyOnce("seed " + seed);
 * }</pre>
 */
public final class EffectChecker {

  private static final int EXAMPLES = 20;

  private EffectChecker() {}

  /**
   * Classifies the ids.
   *
   * @param sent every id the broker acknowledged (or the client was told succeeded); repeats are
   *     ignored
   * @param effects committed effects per id, as counted in a sink with no unique constraint
   * @return the ids, sorted into ok, lost, duplicated and unexpected
   */
  public static Verdict check(Collection<String> sent, Map<String, ? extends Number> effects) {
    Set<String> expected = new LinkedHashSet<>(sent);
    List<String> ok = new ArrayList<>();
    List<String> lost = new ArrayList<>();
    List<String> duplicated = new ArrayList<>();
    for (String id : expected) {
      Number n = effects.get(id);
      long count = n == null ? 0 : n.longValue();
      if (count == 0) {
        lost.add(id);
      } else if (count == 1) {
        ok.add(id);
      } else {
        duplicated.add(id + " x" + count);
      }
    }
    List<String> unexpected = new ArrayList<>();
    for (Map.Entry<String, ? extends Number> e : effects.entrySet()) {
      if (!expected.contains(e.getKey()) && e.getValue() != null && e.getValue().longValue() > 0) {
        unexpected.add(e.getKey());
      }
    }
    return new Verdict(
        List.copyOf(ok), List.copyOf(lost), List.copyOf(duplicated), List.copyOf(unexpected));
  }

  /**
   * The classes of ids.
   *
   * @param ok exactly one effect
   * @param lost sent, no effect
   * @param duplicated more than one effect (each as {@code "id xN"})
   * @param unexpected an effect for an id never sent
   */
  public record Verdict(
      List<String> ok, List<String> lost, List<String> duplicated, List<String> unexpected) {

    /**
     * Fails unless every sent id has exactly one effect and no other effect exists.
     *
     * @param context what ran, shown in the failure message
     * @throws AssertionError naming the lost, duplicated or unexpected ids
     */
    public void assertExactlyOnce(String context) {
      assertThat(lost).as("lost ids (%s)", context).isEmpty();
      assertThat(duplicated).as("duplicated ids (%s)", context).isEmpty();
      assertThat(unexpected).as("unexpected ids (%s)", context).isEmpty();
    }

    /**
     * Counts, with up to 20 examples of each bad class: {@code ok=N lost=N duplicated=N
     * unexpected=N}.
     */
    @Override
    public String toString() {
      return "ok="
          + ok.size()
          + " lost="
          + lost.size()
          + examples(lost)
          + " duplicated="
          + duplicated.size()
          + examples(duplicated)
          + " unexpected="
          + unexpected.size()
          + examples(unexpected);
    }

    private static String examples(List<String> ids) {
      return ids.isEmpty() ? "" : " " + ids.subList(0, Math.min(EXAMPLES, ids.size()));
    }
  }
}
