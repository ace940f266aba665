/**
 * A replay drill for an HTTP service behind an idempotency layer: {@link dev.once.drill.Drill}
 * replays recorded requests ({@link dev.once.drill.DrillInputs}: JSON Lines, HAR, the payments
 * scenario) with the {@link dev.once.drill.Injection}s a real network and real clients produce,
 * optionally counts each request's effects with an {@link dev.once.drill.Oracle}, and returns a
 * {@link dev.once.drill.DrillReport} of PASS/FAIL checks. {@link dev.once.drill.DrillCommand} is
 * the command line.
 */
@NullMarked
package dev.once.drill;

import org.jspecify.annotations.NullMarked;
