package com.example.testing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/** What the Spring Boot host applications' tests read: stdout, GC counts, scrape label sets. */
public final class HostProbes {

  private HostProbes() {}

  /** Scrapes the application's Prometheus endpoint. */
  public interface Scraper {
    PrometheusText scrape() throws IOException, InterruptedException;
  }

  public static Map<String, String> series(String method, String endpoint, int status) {
    Map<String, String> labels = new TreeMap<>();
    labels.put("method", method);
    labels.put("endpoint", endpoint);
    labels.put("status", String.valueOf(status));
    return labels;
  }

  /** Collections the JVM reports, and the pauses in the scrape. */
  public record GcState(long collections, double pausesCounted) {}

  public static GcState gcState(Scraper scrape) throws IOException, InterruptedException {
    while (true) {
      long collections = collections();
      double pauses =
          scrape.scrape().samples("jvm_gc_pause_seconds_count").stream()
              .mapToDouble(PrometheusText.Sample::value)
              .sum();
      // A collection during the scrape would make the pair inconsistent.
      if (collections() == collections) {
        return new GcState(collections, pauses);
      }
    }
  }

  /** A state that stays the same for 200 ms (or the last one after 10 s). */
  public static GcState quietGcState(Scraper scrape, Duration wait)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    GcState state = gcState(scrape);
    while (true) {
      Thread.sleep(200);
      GcState next = gcState(scrape);
      if (next.equals(state) || System.nanoTime() > deadline) {
        return next;
      }
      state = next;
    }
  }

  /** Collections so far, concurrent cycles (which are not pauses) excluded. */
  public static long collections() {
    long total = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (!gc.getName().startsWith("G1 Concurrent") && gc.getCollectionCount() > 0) {
        total += gc.getCollectionCount();
      }
    }
    return total;
  }

  public static JsonNode parseObject(ObjectMapper json, String line) {
    try {
      JsonNode node = json.readTree(line);
      return node != null && node.isObject() ? node : null;
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Returns what is wrong with stdout's lines: each must be one JSON object that {@code inSchema}
   * accepts.
   */
  public static List<String> jsonLineProblems(
      ObjectMapper json, List<String> lines, Predicate<JsonNode> inSchema) {
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      try {
        JsonNode node = json.readTree(line);
        if (node == null || !node.isObject()) {
          problems.add("line " + (i + 1) + " is not a JSON object: " + abbreviate(line));
        } else if (!inSchema.test(node)) {
          problems.add("line " + (i + 1) + " is not in the guide's schema: " + abbreviate(line));
        }
      } catch (IOException e) {
        problems.add("line " + (i + 1) + " is not JSON (" + e.getMessage() + "): " + line);
      }
    }
    return problems;
  }

  /** Asserts that the start-up lines reach "Started HostApplication" with no warning or error. */
  public static void assertStartedWithoutWarnings(ObjectMapper json, List<String> startup) {
    List<String> warnings = new ArrayList<>();
    boolean started = false;
    for (String line : startup) {
      JsonNode event = parseObject(json, line);
      if (event == null) {
        continue; // reported by the JSON line check
      }
      String level = event.path("level").asText("").toLowerCase(Locale.ROOT);
      if (level.equals("warn") || level.equals("error")) {
        warnings.add(line);
      }
      started |= event.path("message").asText("").startsWith("Started HostApplication");
    }
    assertTrue(
        started, "no 'Started HostApplication' line among " + startup.size() + " start-up lines");
    assertEquals(List.of(), warnings, "warnings and errors logged during start-up");
  }

  /**
   * Asserts that the lines written by {@code GET /api/v1/logerror} hold its one error event, with
   * the exception as an {@code error} object and the request's MDC.
   */
  public static void assertLoggedErrorEvent(
      ObjectMapper json, List<String> lines, String controllerClass) {
    List<JsonNode> errors = new ArrayList<>();
    for (String line : lines) {
      JsonNode event = parseObject(json, line);
      if (event != null && "error".equals(event.path("level").asText())) {
        errors.add(event);
      }
    }
    assertEquals(1, errors.size(), "error events logged by GET /api/v1/logerror: " + lines);
    JsonNode event = errors.get(0);
    assertEquals("failed", event.path("message").asText(null), event.toString());
    JsonNode error = event.path("error");
    assertTrue(error.isObject(), "no error object: " + event);
    assertEquals(
        "java.lang.IllegalArgumentException", error.path("type").asText(null), event.toString());
    assertEquals("bad input", error.path("message").asText(null), event.toString());
    String stackTrace = error.path("stack_trace").asText("");
    assertTrue(
        stackTrace.contains("java.lang.IllegalArgumentException: bad input")
            && stackTrace.contains(controllerClass + ".logError"),
        "stack_trace: " + event);
    // The tracing filter puts the request in the MDC while it is handled (README).
    assertEquals("GET", event.path("method").asText(null), event.toString());
    assertEquals("/api/v1/logerror", event.path("path").asText(null), event.toString());
    assertTrue(event.path("trace_id").asText("").matches("[0-9a-f]{32}"), "trace_id: " + event);
  }

  public static String abbreviate(String line) {
    return line.length() <= 300 ? line : line.substring(0, 300) + "...";
  }

  /** Keeps a copy of everything written to stdout and passes it on. */
  public static final class Capture extends OutputStream {
    private final OutputStream out;
    private final ByteArrayOutputStream copy = new ByteArrayOutputStream();

    public Capture(OutputStream out) {
      this.out = out;
    }

    @Override
    public synchronized void write(int b) throws IOException {
      copy.write(b);
      out.write(b);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
      copy.write(b, off, len);
      out.write(b, off, len);
    }

    @Override
    public void flush() throws IOException {
      out.flush();
    }

    public synchronized int size() {
      return copy.size();
    }

    /** The complete lines among the bytes in [from, to). */
    public synchronized List<String> lines(int from, int to) {
      byte[] bytes = copy.toByteArray();
      int end = to;
      while (end > from && bytes[end - 1] != '\n') {
        end--;
      }
      List<String> lines = new ArrayList<>();
      int start = from;
      for (int i = from; i < end; i++) {
        if (bytes[i] == '\n') {
          lines.add(new String(bytes, start, i - start, UTF_8));
          start = i + 1;
        }
      }
      return lines;
    }
  }
}
