/**
 * {@link dev.once.drill.junit.DrillExtension}: drills in a team's own JUnit 5 tests, each report
 * written under the test's name and a failed drill a failed test.
 */
@NullMarked
package dev.once.drill.junit;

import org.jspecify.annotations.NullMarked;
