package io.conea.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.conea.tracing.RawHttp;
import io.conea.tracing.RawResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged demo jar run as README does, in a process of its own, on two free loopback ports;
 * started once both answer {@code /api/v1/health}. Closing it sends SIGTERM and, after 30 s, kills
 * it.
 */
final class DemoJarProcess implements AutoCloseable {

  private final Process process;
  private final int servletPort;
  private final int nettyPort;
  private final Path stdout;

  private DemoJarProcess(Process process, int servletPort, int nettyPort, Path stdout) {
    this.process = process;
    this.servletPort = servletPort;
    this.nettyPort = nettyPort;
    this.stdout = stdout;
  }

  /**
   * Starts the jar with {@code args}; {@code environment} adds to (or, with a null value, removes
   * from) the inherited environment, whose conea and OpenTelemetry settings are removed first.
   * stdout and stderr go to {@code target/<name>-stdout.log} and {@code target/<name>-stderr.log}.
   */
  static DemoJarProcess start(String name, Map<String, String> environment, String... args)
      throws Exception {
    Path jar = Path.of(System.getProperty("demo.jar", "target/conea-demo.jar"));
    assertThat(jar).exists();
    int servletPort = freePort();
    int nettyPort = freePort();
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                jar.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    Map<String, String> env = builder.environment();
    for (String inherited : List.of("CONEA_DEMO_DRAIN_SECONDS", "CONEA_DEMO_HOST")) {
      env.remove(inherited);
    }
    env.keySet().removeIf(key -> key.startsWith("OTEL_"));
    env.put("CONEA_DEMO_SERVLET_PORT", Integer.toString(servletPort));
    env.put("CONEA_DEMO_NETTY_PORT", Integer.toString(nettyPort));
    environment.forEach(
        (key, value) -> {
          if (value == null) {
            env.remove(key);
          } else {
            env.put(key, value);
          }
        });
    builder.redirectError(Path.of("target", name + "-stderr.log").toFile());
    Path stdout = Path.of("target", name + "-stdout.log");
    builder.redirectOutput(stdout.toFile());
    DemoJarProcess demo = new DemoJarProcess(builder.start(), servletPort, nettyPort, stdout);
    try {
      awaitHealthy(servletPort);
      awaitHealthy(nettyPort);
    } catch (Exception | AssertionError e) {
      demo.process.destroyForcibly();
      throw e;
    }
    return demo;
  }

  Process process() {
    return process;
  }

  int servletPort() {
    return servletPort;
  }

  int nettyPort() {
    return nettyPort;
  }

  /** The file the demo's stdout goes to. */
  Path stdout() {
    return stdout;
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static void awaitHealthy(int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
        socket.setSoTimeout(5_000);
        RawHttp.get(socket, "/api/v1/health");
        RawResponse response = RawResponse.read(socket.getInputStream(), false);
        if (response != null && response.status() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // still starting
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("demo did not answer on port " + port + " within 60 s");
      }
      Thread.sleep(200);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
