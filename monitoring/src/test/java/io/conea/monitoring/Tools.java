package io.conea.monitoring;

import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Finds and runs the command-line tools the asset tests need: promtool, amtool, prometheus,
 * alertmanager, node exporter.
 */
final class Tools {

  /** What a finished command printed (stdout and stderr together) and how it exited. */
  record Result(int exitCode, String output) {}

  private Tools() {}

  /** Returns promtool, from Debian's {@code prometheus} package. */
  static Path promtool() {
    return require("promtool", "prometheus");
  }

  /** Returns amtool, from Debian's {@code prometheus-alertmanager} package. */
  static Path amtool() {
    return require("amtool", "prometheus-alertmanager");
  }

  /** Returns the Prometheus server, from Debian's {@code prometheus} package. */
  static Path prometheus() {
    return require("prometheus", "prometheus");
  }

  /**
   * Returns the Alertmanager server: {@code alertmanager}, or {@code prometheus-alertmanager} as
   * Debian's {@code prometheus-alertmanager} package names it.
   */
  static Path alertmanager() {
    return requireAny("prometheus-alertmanager", "alertmanager", "prometheus-alertmanager");
  }

  /**
   * Returns node exporter: {@code prometheus-node-exporter} as Debian's package of that name calls
   * it, or {@code node_exporter} as upstream does.
   */
  static Path nodeExporter() {
    return requireAny("prometheus-node-exporter", "prometheus-node-exporter", "node_exporter");
  }

  /** True when node exporter is installed, or when CI is set (where its absence is a failure). */
  static boolean nodeExporterExpected() {
    return ci() || find("prometheus-node-exporter") != null || find("node_exporter") != null;
  }

  /**
   * Returns the executable named {@code command} on the PATH. When it is missing the test is
   * skipped with a message naming the package to install, except under CI (environment variable CI
   * set), where the tools are installed by .ci/run and a missing one is a failure.
   */
  static Path require(String command, String debianPackage) {
    return requireAny(debianPackage, command);
  }

  /** Like {@link #require}, for a tool known under several names: the first one found. */
  static Path requireAny(String debianPackage, String... commands) {
    for (String command : commands) {
      Path found = find(command);
      if (found != null) {
        return found;
      }
    }
    String message =
        String.join(" or ", commands)
            + " is not on the PATH; install it with: apt-get install -y "
            + debianPackage
            + " (the test needs it)";
    Assumptions.assumeTrue(ci(), message);
    return fail(message + ". CI is set, so a missing tool fails the build.");
  }

  /** The executable named {@code command} on the PATH, or null. */
  static Path find(String command) {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(File.pathSeparator)) {
        if (dir.isEmpty()) {
          continue;
        }
        Path candidate = Path.of(dir, command);
        if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
          return candidate;
        }
      }
    }
    return null;
  }

  private static boolean ci() {
    return System.getenv("CI") != null && !System.getenv("CI").isBlank();
  }

  /** Runs a command to completion in {@code workingDir}, failing the test on timeout. */
  static Result run(Path workingDir, Duration timeout, Object... command) {
    List<String> args = new ArrayList<>();
    for (Object part : command) {
      args.add(part.toString());
    }
    try {
      Path output = Files.createTempFile("conea-monitoring-tool", ".log");
      try {
        Process process =
            new ProcessBuilder(args)
                .directory(workingDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          process.destroyForcibly().waitFor();
          return fail("%s did not finish within %s", args, timeout);
        }
        return new Result(
            process.exitValue(), Files.readString(output, StandardCharsets.UTF_8).strip());
      } finally {
        Files.deleteIfExists(output);
      }
    } catch (IOException e) {
      return fail("could not run " + args, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail("interrupted while running " + args, e);
    }
  }
}
