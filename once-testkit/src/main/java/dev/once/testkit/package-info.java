/**
 * Contract suites that every Once store passes against a real server, and helpers for the tests
 * that run them (a child JVM, a mutable clock, an effect checker).
 */
@NullMarked
package dev.once.testkit;

import org.jspecify.annotations.NullMarked;
