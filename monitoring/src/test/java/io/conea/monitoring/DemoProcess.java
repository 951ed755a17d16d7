package io.conea.monitoring;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The demo service jar, run as a child process on two free loopback ports. */
final class DemoProcess implements AutoCloseable {

  private static final Duration STARTUP = Duration.ofSeconds(60);

  final int servletPort;
  final int nettyPort;
  private final Process process;
  private final Path log;

  private DemoProcess(Process process, int servletPort, int nettyPort, Path log) {
    this.process = process;
    this.servletPort = servletPort;
    this.nettyPort = nettyPort;
    this.log = log;
  }

  /**
   * Starts the jar with {@code environment} added to the inherited one (minus OTEL_* variables),
   * and returns once both servers answer {@code GET /api/v1/health} with 200.
   */
  static DemoProcess start(Path jar, Path dir, HttpClient http, Map<String, String> environment)
      throws IOException {
    if (!Files.isRegularFile(jar)) {
      return fail(
          "demo jar %s is missing; build it with: mvn -B -q -DskipTests -pl examples/demo-service"
              + " -am package",
          jar);
    }
    int servletPort = freePort();
    int nettyPort = freePort();
    Path log = Files.createTempFile(dir, "demo", ".log");
    ProcessBuilder builder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-jar",
                jar.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    // No collector: spans stay in the demo, whatever the environment of the build says.
    builder.environment().keySet().removeIf(name -> name.startsWith("OTEL_"));
    builder.environment().put("CONEA_DEMO_SERVLET_PORT", Integer.toString(servletPort));
    builder.environment().put("CONEA_DEMO_NETTY_PORT", Integer.toString(nettyPort));
    builder.environment().putAll(environment);
    DemoProcess demo = new DemoProcess(builder.start(), servletPort, nettyPort, log);
    try {
      for (int port : List.of(servletPort, nettyPort)) {
        demo.awaitHealthy(http, port);
      }
    } catch (RuntimeException | Error e) {
      demo.close();
      throw e;
    }
    return demo;
  }

  URI uri(int port, String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + port + pathAndQuery);
  }

  /** The demo's output so far, for failure messages. */
  String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(demo output unreadable: " + e + ")";
    }
  }

  private void awaitHealthy(HttpClient http, int port) {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    HttpRequest health =
        HttpRequest.newBuilder(uri(port, "/api/v1/health")).timeout(Duration.ofSeconds(2)).build();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        fail("the demo exited with %d:%n%s", process.exitValue(), output());
      }
      try {
        if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // Not listening yet.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted while waiting for the demo");
      }
      pause(Duration.ofMillis(100));
    }
    fail("the demo did not answer on port %d within %s:%n%s", port, STARTUP, output());
  }

  /** Stops the demo with SIGTERM, as an orchestrator would, and kills it if that hangs. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** A port that was free a moment ago on the loopback interface. */
  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  static void pause(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail("interrupted");
    }
  }
}
