/** The drill's machinery: sending, planning, the checks and the reports. Not public API. */
@NullMarked
package dev.once.drill.internal;

import org.jspecify.annotations.NullMarked;
