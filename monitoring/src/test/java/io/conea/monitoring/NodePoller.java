package io.conea.monitoring;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads node exporter's own /metrics text every 100 ms (its cpu, meminfo and filesystem collectors
 * only) and keeps the figures the capacity report is computed from, so that a test can compute them
 * without Prometheus at any instant between two polls.
 */
final class NodePoller implements AutoCloseable {

  private static final Duration INTERVAL = Duration.ofMillis(100);
  private static final Pattern LINE =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+\\S+)?");
  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  /**
   * One poll: when (the middle of the request, seconds since the epoch), the idle CPU seconds per
   * CPU, MemAvailable and MemTotal, and each filesystem's size and free bytes.
   */
  record Sample(
      double time,
      Map<String, Double> idleByCpu,
      double memAvailable,
      double memTotal,
      Map<String, double[]> filesystems) {

    /** The guide's memory usage: (1 - MemAvailable / MemTotal) * 100. */
    double memoryUsage() {
      return (1 - memAvailable / memTotal) * 100;
    }

    /** The guide's disk usage, (size - free) / size * 100, averaged over the filesystems. */
    double diskUsage() {
      return filesystems.values().stream()
          .mapToDouble(fs -> (fs[0] - fs[1]) / fs[0] * 100)
          .average()
          .orElse(Double.NaN);
    }
  }

  private final HttpClient http;
  private final URI uri;
  private final List<Sample> samples = new ArrayList<>();
  private final Thread thread;
  private volatile boolean running = true;
  private volatile String lastError;

  private NodePoller(HttpClient http, String baseUrl) {
    this.http = http;
    this.uri =
        URI.create(
            baseUrl + "/metrics?collect%5B%5D=cpu&collect%5B%5D=meminfo&collect%5B%5D=filesystem");
    this.thread = new Thread(this::loop, "node-exporter-poller");
    thread.setDaemon(true);
  }

  static NodePoller start(HttpClient http, String baseUrl) {
    NodePoller poller = new NodePoller(http, baseUrl);
    poller.thread.start();
    return poller;
  }

  private void loop() {
    while (running) {
      long started = System.currentTimeMillis();
      try {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build();
        String text = http.send(request, HttpResponse.BodyHandlers.ofString()).body();
        long ended = System.currentTimeMillis();
        Sample sample = parse((started + ended) / 2000.0, text);
        synchronized (samples) {
          samples.add(sample);
        }
      } catch (IOException | RuntimeException e) {
        lastError = e.toString();
      } catch (InterruptedException e) {
        return;
      }
      long sleep = started + INTERVAL.toMillis() - System.currentTimeMillis();
      if (sleep > 0) {
        try {
          Thread.sleep(sleep);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  static Sample parse(double time, String text) {
    Map<String, Double> idle = new HashMap<>();
    Map<String, double[]> filesystems = new HashMap<>();
    double available = Double.NaN;
    double total = Double.NaN;
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = LINE.matcher(line.strip());
      if (!m.matches()) {
        continue;
      }
      Map<String, String> labels = new HashMap<>();
      if (m.group(2) != null) {
        Matcher label = LABEL.matcher(m.group(2));
        while (label.find()) {
          labels.put(label.group(1), label.group(2));
        }
      }
      double value = Double.parseDouble(m.group(3));
      switch (m.group(1)) {
        case "node_cpu_seconds_total" -> {
          if ("idle".equals(labels.get("mode"))) {
            idle.put(labels.get("cpu"), value);
          }
        }
        case "node_memory_MemAvailable_bytes" -> available = value;
        case "node_memory_MemTotal_bytes" -> total = value;
        case "node_filesystem_size_bytes" ->
            filesystems.computeIfAbsent(fsKey(labels), k -> new double[2])[0] = value;
        case "node_filesystem_free_bytes" ->
            filesystems.computeIfAbsent(fsKey(labels), k -> new double[2])[1] = value;
        default -> {}
      }
    }
    return new Sample(time, idle, available, total, filesystems);
  }

  private static String fsKey(Map<String, String> labels) {
    return labels.get("device") + " " + labels.get("mountpoint") + " " + labels.get("fstype");
  }

  /** The time of the first poll, or NaN before it. */
  double firstTime() {
    synchronized (samples) {
      return samples.isEmpty() ? Double.NaN : samples.get(0).time();
    }
  }

  /** Waits until a poll has been made after {@code time}. */
  void awaitPollAfter(double time) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      synchronized (samples) {
        if (!samples.isEmpty() && samples.get(samples.size() - 1).time() > time) {
          return;
        }
      }
      DemoProcess.pause(Duration.ofMillis(50));
    }
    fail("node exporter was not polled after %.3f; last error: %s", time, lastError);
  }

  /** {@code figure} at {@code time}, interpolated linearly between the two polls around it. */
  double at(double time, ToDoubleFunction<Sample> figure) {
    synchronized (samples) {
      for (int i = 1; i < samples.size(); i++) {
        Sample before = samples.get(i - 1);
        Sample after = samples.get(i);
        if (before.time() <= time && time <= after.time()) {
          double share = (time - before.time()) / (after.time() - before.time());
          double a = figure.applyAsDouble(before);
          return a + (figure.applyAsDouble(after) - a) * share;
        }
      }
      return fail(
          "no polls of node exporter around %.3f (polled from %.3f to %.3f, %d polls)",
          time,
          samples.isEmpty() ? Double.NaN : samples.get(0).time(),
          samples.isEmpty() ? Double.NaN : samples.get(samples.size() - 1).time(),
          samples.size());
    }
  }

  int polls() {
    synchronized (samples) {
      return samples.size();
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
