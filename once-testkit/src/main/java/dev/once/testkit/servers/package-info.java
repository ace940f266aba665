/**
 * The real servers the tests use: a configured local server when one answers, otherwise an embedded
 * one started for the JVM; and a TCP proxy that cuts and restores connections.
 */
@NullMarked
package dev.once.testkit.servers;

import org.jspecify.annotations.NullMarked;
