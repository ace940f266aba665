/**
 * Implementation of the JDBC store, not public API: each dialect's claim statements, and the
 * sorting of SQL failures into outages and store failures.
 */
@NullMarked
package dev.once.jdbc.internal;

import org.jspecify.annotations.NullMarked;
