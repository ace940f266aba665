package dev.once.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * CPU time (user + system) read from {@code /proc}: this JVM's, and a database server's when it
 * runs on this machine. On two cores CPU time per operation is far steadier than wall time, so it
 * is reported beside throughput.
 */
final class ProcCpu {

  private static final long NANOS_PER_TICK = 1_000_000_000L / clockTicksPerSecond();

  private ProcCpu() {}

  /**
   * CPU time of some processes, in nanoseconds; {@link #available()} is false where it cannot be
   * read.
   */
  interface Source {
    long nanos();

    boolean available();

    /** Which processes are counted, or why none can be. */
    String description();
  }

  /** User + system time of every thread of this JVM (including GC and JIT), or -1 off Linux. */
  static long selfNanos() {
    long[] t = stat(Path.of("/proc/self/stat"));
    return t == null ? -1 : (t[UTIME] + t[STIME]) * NANOS_PER_TICK;
  }

  static Source none(String why) {
    return new Source() {
      @Override
      public long nanos() {
        return -1;
      }

      @Override
      public boolean available() {
        return false;
      }

      @Override
      public String description() {
        return why;
      }
    };
  }

  /**
   * One server process with all its threads (MariaDB, Redis), plus the children it has reaped;
   * unavailable when {@code pid} is empty or not readable.
   */
  static Source process(OptionalLong pid, String what, String whyMissing) {
    if (pid.isEmpty() || stat(Path.of("/proc/" + pid.getAsLong() + "/stat")) == null) {
      return none(whyMissing);
    }
    long p = pid.getAsLong();
    return new Source() {
      @Override
      public long nanos() {
        long[] t = stat(Path.of("/proc/" + p + "/stat"));
        return t == null ? -1 : (t[UTIME] + t[STIME] + t[CUTIME] + t[CSTIME]) * NANOS_PER_TICK;
      }

      @Override
      public boolean available() {
        return true;
      }

      @Override
      public String description() {
        return what + " (pid " + p + ")";
      }
    };
  }

  /**
   * Some processes by pid, all their threads (e.g. the PostgreSQL backends of one connection pool,
   * when other clients share the server); unavailable when one of them is not readable.
   */
  static Source processes(List<Long> pids, String what) {
    for (long pid : pids) {
      if (stat(Path.of("/proc/" + pid + "/stat")) == null) {
        return none("not counted: process " + pid + " (" + what + ") is not visible in /proc");
      }
    }
    return new Source() {
      @Override
      public long nanos() {
        long ticks = 0;
        for (long pid : pids) {
          long[] t = stat(Path.of("/proc/" + pid + "/stat"));
          if (t == null) {
            return -1; // one ended: its time is lost, so no figure rather than a low one
          }
          ticks += t[UTIME] + t[STIME];
        }
        return ticks * NANOS_PER_TICK;
      }

      @Override
      public boolean available() {
        return true;
      }

      @Override
      public String description() {
        return what + " (pids " + pids + ")";
      }
    };
  }

  /**
   * A PostgreSQL server found from one of its backends: the postmaster (the backend's parent) with
   * the children it has reaped, plus every live child (backends, WAL writer, checkpointer,
   * autovacuum).
   */
  static Source postgres(long backendPid) {
    long[] backend = stat(Path.of("/proc/" + backendPid + "/stat"));
    if (backend == null) {
      return none(
          "not counted: backend "
              + backendPid
              + " is not visible in /proc (server on another machine"
              + " or in another PID namespace)");
    }
    long postmaster = backend[PPID];
    return new Source() {
      @Override
      public long nanos() {
        long[] pm = stat(Path.of("/proc/" + postmaster + "/stat"));
        if (pm == null) {
          return -1;
        }
        long ticks = pm[UTIME] + pm[STIME] + pm[CUTIME] + pm[CSTIME];
        for (long[] child : allProcesses()) {
          if (child[PPID] == postmaster) {
            ticks += child[UTIME] + child[STIME];
          }
        }
        return ticks * NANOS_PER_TICK;
      }

      @Override
      public boolean available() {
        return true;
      }

      @Override
      public String description() {
        return "postmaster (pid " + postmaster + ") and all its children";
      }
    };
  }

  /**
   * Busy time of the whole machine (all cores: user, nice, system, irq, softirq, steal) from {@code
   * /proc/stat}, or -1 off Linux. Less this JVM and the server, it is what other processes took.
   */
  static long machineBusyNanos() {
    try {
      String first = Files.readAllLines(Path.of("/proc/stat"), StandardCharsets.US_ASCII).get(0);
      String[] f = first.trim().split("\\s+");
      long ticks = 0;
      for (int i :
          new int[] {1, 2, 3, 6, 7, 8}) { // user nice system (idle iowait) irq softirq steal
        ticks += Long.parseLong(f[i]);
      }
      return ticks * NANOS_PER_TICK;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The one process whose command name is {@code comm}, if exactly one runs. */
  static OptionalLong onlyProcessNamed(String comm) {
    List<Long> found = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path dir : dirs) {
        try {
          if (Files.readString(dir.resolve("comm"), StandardCharsets.US_ASCII)
              .strip()
              .equals(comm)) {
            found.add(Long.parseLong(dir.getFileName().toString()));
          }
        } catch (IOException | RuntimeException e) {
          // the process ended while we looked
        }
      }
    } catch (IOException e) {
      return OptionalLong.empty();
    }
    return found.size() == 1 ? OptionalLong.of(found.get(0)) : OptionalLong.empty();
  }

  // Indexes into the fields after the command name: the 3rd field of /proc/<pid>/stat is index 0.
  private static final int PPID = 1;
  private static final int UTIME = 11;
  private static final int STIME = 12;
  private static final int CUTIME = 13;
  private static final int CSTIME = 14;

  private static List<long[]> allProcesses() {
    List<long[]> out = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path dir : dirs) {
        long[] t = stat(dir.resolve("stat"));
        if (t != null) {
          out.add(t);
        }
      }
    } catch (IOException e) {
      // no /proc: nothing to count
    }
    return out;
  }

  /**
   * The numeric fields of a /proc stat file after "pid (comm) state", or null if it cannot be read.
   */
  private static long[] stat(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException | RuntimeException e) {
      return null;
    }
    // The command name may hold spaces and parentheses; the fields start after the last ')'.
    String[] f = text.substring(text.lastIndexOf(')') + 2).trim().split(" ");
    long[] out = new long[CSTIME + 1];
    for (int i = 1; i <= CSTIME && i < f.length; i++) {
      try {
        out[i] = Long.parseLong(f[i]);
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return out;
  }

  private static long clockTicksPerSecond() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
      p.waitFor();
      long ticks = Long.parseLong(out);
      return ticks > 0 ? ticks : 100;
    } catch (IOException | NumberFormatException e) {
      return 100; // the Linux default
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 100;
    }
  }
}
