package io.conea.monitoring;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * A server binary (node exporter, Alertmanager) run as a child process on a free loopback port,
 * with its output in a log file of the test's temporary directory.
 */
final class ServerProcess implements AutoCloseable {

  private static final Duration STARTUP = Duration.ofSeconds(30);

  final String name;
  final int port;
  private final Process process;
  private final Path log;

  private ServerProcess(String name, Process process, int port, Path log) {
    this.name = name;
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /**
   * Starts {@code binary} with the arguments {@code arguments} gives for a free port, and returns
   * once {@code GET readyPath} answers 200.
   */
  static ServerProcess start(
      String name,
      Path binary,
      IntFunction<List<String>> arguments,
      String readyPath,
      Path dir,
      HttpClient http)
      throws IOException {
    int port = DemoProcess.freePort();
    Path log = Files.createTempFile(dir, name, ".log");
    List<String> command = new ArrayList<>();
    command.add(binary.toString());
    command.addAll(arguments.apply(port));
    Process process =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    ServerProcess server = new ServerProcess(name, process, port, log);
    try {
      server.awaitReady(http, readyPath);
    } catch (RuntimeException | Error e) {
      server.close();
      throw e;
    }
    return server;
  }

  String url() {
    return "http://127.0.0.1:" + port;
  }

  String address() {
    return "127.0.0.1:" + port;
  }

  String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(" + name + " output unreadable: " + e + ")";
    }
  }

  private void awaitReady(HttpClient http, String readyPath) {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    HttpRequest ready =
        HttpRequest.newBuilder(URI.create(url() + readyPath))
            .timeout(Duration.ofSeconds(2))
            .build();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        fail("%s exited with %d:%n%s", name, process.exitValue(), output());
      }
      try {
        if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // Not listening yet.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted while waiting for " + name);
      }
      DemoProcess.pause(Duration.ofMillis(100));
    }
    fail("%s was not ready within %s:%n%s", name, STARTUP, output());
  }

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
}
