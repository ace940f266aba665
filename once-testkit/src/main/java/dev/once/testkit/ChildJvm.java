package dev.once.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A child JVM on this test's class path, for tests that must kill what they test for real ({@code
 * destroyForcibly()} is SIGKILL). Its stdout and stderr are collected line by line, so a test waits
 * on what the child said ({@link #saw}) instead of sleeping.
 *
 * <pre>{@code
 * ChildJvm consumer = ChildJvm.start(ChaosConsumer.class, List.of("-Xmx256m"), List.of(bootstrap, jdbcUrl));
 * await().until(() -> consumer.count("APPLIED") > 100);
 * consumer.kill();
 * }</pre>
 */
public final class ChildJvm implements AutoCloseable {

  private final Process process;
  private final List<String> lines = new CopyOnWriteArrayList<>();

  private ChildJvm(Process process) {
    this.process = process;
  }

  /**
   * Starts {@code mainClass} in a new JVM with this JVM's {@code java} and class path. Its stdout
   * and stderr are read into {@link #lines()} by a daemon thread.
   *
   * @param mainClass the class whose {@code main} runs
   * @param jvmArgs options for the child's {@code java}, such as {@code -Xmx256m}
   * @param args the arguments of {@code main}
   * @return the running child
   * @throws java.io.UncheckedIOException if the process cannot be started
   */
  public static ChildJvm start(Class<?> mainClass, List<String> jvmArgs, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmArgs);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()));
    command.addAll(args);
    try {
      ChildJvm child = new ChildJvm(new ProcessBuilder(command).redirectErrorStream(true).start());
      Thread reader =
          new Thread(child::read, mainClass.getSimpleName() + "-" + child.process.pid());
      reader.setDaemon(true);
      reader.start();
      return child;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start a child JVM for " + mainClass.getName(), e);
    }
  }

  private void read() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        lines.add(line);
      }
    } catch (IOException e) {
      lines.add("READ FAILED " + e);
    }
  }

  /** {@return the child's process} */
  public Process process() {
    return process;
  }

  /** {@return every line the child printed so far} The list is live and thread-safe. */
  public List<String> lines() {
    return lines;
  }

  /**
   * {@return whether the child printed a line starting with {@code prefix}}
   *
   * @param prefix the start of the line
   */
  public boolean saw(String prefix) {
    return lines.stream().anyMatch(l -> l.startsWith(prefix));
  }

  /**
   * {@return the first line the child printed that starts with {@code prefix}}
   *
   * @param prefix the start of the line
   * @throws AssertionError if the child printed no such line (yet); the message shows its output
   */
  public String firstWith(String prefix) {
    return lines.stream()
        .filter(l -> l.startsWith(prefix))
        .findFirst()
        .orElseThrow(
            () -> new AssertionError("the child never printed '" + prefix + "'; output: " + lines));
  }

  /**
   * {@return how many lines the child printed that start with {@code prefix}}
   *
   * @param prefix the start of the line
   */
  public long count(String prefix) {
    return lines.stream().filter(l -> l.startsWith(prefix)).count();
  }

  /**
   * Writes one line to the child's stdin.
   *
   * @param line the line, without its line break
   * @throws IOException if the child's stdin is closed
   */
  public void send(String line) throws IOException {
    OutputStream in = process.getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  /**
   * SIGKILL, and wait until the process is gone.
   *
   * @throws InterruptedException if interrupted while waiting
   */
  public void kill() throws InterruptedException {
    process.destroyForcibly().waitFor();
  }

  @Override
  public void close() throws InterruptedException {
    kill();
  }

  @Override
  public String toString() {
    return "ChildJvm[pid " + process.pid() + (process.isAlive() ? ", alive" : ", exited") + "]";
  }
}
