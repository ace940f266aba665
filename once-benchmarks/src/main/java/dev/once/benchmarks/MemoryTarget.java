package dev.once.benchmarks;

import dev.once.IdempotencyStore;
import dev.once.InMemoryIdempotencyStore;
import java.util.function.Supplier;

/** The in-memory store: no server, no ceiling; a fresh store for every repetition. */
final class MemoryTarget extends Target {

  private static final Supplier<IdempotencyStore> STORES =
      () -> InMemoryIdempotencyStore.builder().maxRecords(Integer.MAX_VALUE).build();

  @Override
  String name() {
    return "in-memory";
  }

  @Override
  String where() {
    return "InMemoryIdempotencyStore in the benchmark's JVM";
  }

  @Override
  String version() {
    return "once-core " + Benchmarks.onceVersion();
  }

  @Override
  ProcCpu.Source serverCpu() {
    return ProcCpu.none("no server: all of its CPU is in the JVM column");
  }

  @Override
  Scenario.Factory onceCycle(int batch) {
    return ds -> OnceVariants.cycle(STORES, () -> {});
  }
}
