package io.conea.monitoring;

import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/** A real Prometheus server on a free loopback port, with its storage in a temporary directory. */
final class PrometheusProcess implements AutoCloseable {

  private static final Duration STARTUP = Duration.ofSeconds(30);

  /** An HTTP API answer: its status and its JSON body. */
  record Answer(int status, JsonNode body) {
    JsonNode result() {
      return body.at("/data/result");
    }
  }

  private final Process process;
  private final HttpClient http;
  private final String base;
  private final Path log;

  private PrometheusProcess(Process process, HttpClient http, int port, Path log) {
    this.process = process;
    this.http = http;
    this.base = "http://127.0.0.1:" + port;
    this.log = log;
  }

  /** Starts Prometheus with {@code config}; returns once it reports ready. */
  static PrometheusProcess start(Path config, Path dir, HttpClient http) throws IOException {
    return start(config, dir, http, "exemplar-storage");
  }

  /** Starts Prometheus with {@code config} and the given feature flags, once it reports ready. */
  static PrometheusProcess start(Path config, Path dir, HttpClient http, String features)
      throws IOException {
    Path prometheus = Tools.prometheus();
    int port = DemoProcess.freePort();
    Path log = Files.createTempFile(dir, "prometheus", ".log");
    Process process =
        new ProcessBuilder(
                prometheus.toString(),
                "--config.file=" + config,
                "--storage.tsdb.path=" + Files.createTempDirectory(dir, "data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--enable-feature=" + features,
                "--log.level=warn")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    PrometheusProcess server = new PrometheusProcess(process, http, port, log);
    try {
      server.awaitReady();
    } catch (RuntimeException | Error e) {
      server.close();
      throw e;
    }
    return server;
  }

  /** The base URL of the HTTP API, http://127.0.0.1:port. */
  String url() {
    return base;
  }

  /** Evaluates an instant query at {@code time} (seconds since the epoch). */
  Answer query(String expr, double time) {
    return get(
        "/api/v1/query?query="
            + encode(expr)
            + "&time="
            + String.format(Locale.ROOT, "%.3f", time));
  }

  /** The exemplars stored for the series of {@code expr} between two times. */
  Answer exemplars(String expr, double start, double end) {
    return get(
        "/api/v1/query_exemplars?query="
            + encode(expr)
            + String.format(Locale.ROOT, "&start=%.3f&end=%.3f", start, end));
  }

  /** The scrape targets, with their health and last error. */
  Answer targets() {
    return get("/api/v1/targets");
  }

  /** The alerts that are pending or firing now. */
  Answer alerts() {
    return get("/api/v1/alerts");
  }

  Answer get(String pathAndQuery) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base + pathAndQuery))
            .timeout(Duration.ofSeconds(10))
            .build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      return new Answer(response.statusCode(), Assets.JSON.readTree(response.body()));
    } catch (IOException e) {
      return fail("Prometheus did not answer %s: %s%n%s", pathAndQuery, e, output());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail("interrupted");
    }
  }

  String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(Prometheus output unreadable: " + e + ")";
    }
  }

  private void awaitReady() {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    HttpRequest ready =
        HttpRequest.newBuilder(URI.create(base + "/-/ready"))
            .timeout(Duration.ofSeconds(2))
            .build();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        fail("Prometheus exited with %d:%n%s", process.exitValue(), output());
      }
      try {
        if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // Not listening yet.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted while waiting for Prometheus");
      }
      DemoProcess.pause(Duration.ofMillis(100));
    }
    fail("Prometheus was not ready within %s:%n%s", STARTUP, output());
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

  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }
}
