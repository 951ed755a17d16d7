package com.example.testing;

import static java.nio.charset.StandardCharsets.UTF_8;

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
import java.util.Map;
import java.util.TreeMap;

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
