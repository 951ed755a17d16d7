package io.conea.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code capacity} against a fake Prometheus with two node exporter instances. */
class CapacityCommandTest {

  @TempDir Path dir;

  private FakeServer prometheus;

  @AfterEach
  void stop() {
    if (prometheus != null) {
      prometheus.close();
    }
  }

  private static Map<Map<String, String>, Double> byInstance(double a, double b) {
    Map<Map<String, String>, Double> samples = new LinkedHashMap<>();
    samples.put(Map.of("instance", "node-b:9100"), b);
    samples.put(Map.of("instance", "node-a:9100"), a);
    return samples;
  }

  private static FakeServer.Response answer(URI uri) {
    String query = FakeServer.params(uri).get("query");
    boolean perInstance = query.contains("by (instance)");
    if (query.contains("node_cpu_seconds_total")) {
      return perInstance ? FakeServer.vector(byInstance(20, 40)) : FakeServer.value(30);
    }
    if (query.contains("node_memory")) {
      return perInstance ? FakeServer.vector(byInstance(50, 70)) : FakeServer.value(60);
    }
    if (query.contains("node_filesystem")) {
      return perInstance ? FakeServer.vector(byInstance(10.25, 80)) : FakeServer.value(45.125);
    }
    return FakeServer.empty();
  }

  @Test
  void jsonHasTheGuidesKeysPerInstanceAndAveraged() {
    prometheus = new FakeServer(CapacityCommandTest::answer);
    Run run = Run.of(dir, "capacity", "--prometheus", prometheus.url(), "--json");

    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode json = run.json();
    assertThat(json.path("rate_window").asText()).isEqualTo("5m");
    assertThat(json.path("evaluated_at").asText()).isEqualTo("2025-05-26T10:30:00Z");
    JsonNode average = json.path("average");
    assertThat(average.path("CPU Usage").asDouble()).isEqualTo(30);
    assertThat(average.path("Memory Usage").asDouble()).isEqualTo(60);
    assertThat(average.path("Disk Usage").asDouble()).isEqualTo(45.125);
    assertThat(json.path("instances").properties())
        .extracting(Map.Entry::getKey)
        .containsExactly("node-a:9100", "node-b:9100");
    assertThat(json.at("/instances/node-b:9100/CPU Usage").asDouble()).isEqualTo(40);
    assertThat(json.at("/instances/node-a:9100/Disk Usage").asDouble()).isEqualTo(10.25);
    // The guide's queries, verbatim.
    assertThat(prometheus.queries())
        .containsExactly(
            "avg(100 - (rate(node_cpu_seconds_total{mode=\"idle\"}[5m]) * 100))",
            "avg((1 - (node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)) * 100)",
            "avg((node_filesystem_size_bytes - node_filesystem_free_bytes) /"
                + " node_filesystem_size_bytes * 100)",
            "100 - (avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[5m])) * 100)",
            "avg by (instance) ((1 - (node_memory_MemAvailable_bytes /"
                + " node_memory_MemTotal_bytes)) * 100)",
            "avg by (instance) ((node_filesystem_size_bytes - node_filesystem_free_bytes) /"
                + " node_filesystem_size_bytes * 100)");
  }

  @Test
  void theTableListsEachInstanceThenTheAverage() {
    prometheus = new FakeServer(CapacityCommandTest::answer);
    Run run = Run.of(dir, "capacity", "--prometheus", prometheus.url());

    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .isEqualTo(
            "Capacity on "
                + prometheus.url()
                + " at 2025-05-26T10:30:00Z (CPU rate over 5m)\n"
                + "\n"
                + "INSTANCE     CPU Usage  Memory Usage  Disk Usage\n"
                + "node-a:9100      20.0%         50.0%       10.3%\n"
                + "node-b:9100      40.0%         70.0%       80.0%\n"
                + "average          30.0%         60.0%       45.1%\n");
  }

  @Test
  void theRateWindowReplacesTheGuidesFiveMinutes() {
    prometheus = new FakeServer(CapacityCommandTest::answer);
    Run run =
        Run.of(dir, "capacity", "--prometheus", prometheus.url(), "--rate-window", "30s", "--json");

    assertThat(run.exitCode()).isZero();
    assertThat(run.json().path("rate_window").asText()).isEqualTo("30s");
    assertThat(prometheus.queries())
        .filteredOn(q -> q.contains("node_cpu"))
        .hasSize(2)
        .allMatch(q -> q.contains("[30s]") && !q.contains("[5m]"));
    assertThat(
            Run.of(dir, "capacity", "--prometheus", prometheus.url(), "--rate-window", "5").err())
        .isEqualTo(
            "conea-report capacity: --rate-window 5 is not a Prometheus duration such as 5m or 30s"
                + " (see conea-report capacity --help)\n");
  }

  @Test
  void withoutNodeExporterDataItExitsTwo() {
    prometheus = new FakeServer(uri -> FakeServer.empty());
    Run run = Run.of(dir, "capacity", "--prometheus", prometheus.url());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err())
        .isEqualTo(
            "conea-report capacity: no data for CPU Usage (is node exporter scraped by this"
                + " Prometheus?): avg(100 - (rate(node_cpu_seconds_total{mode=\"idle\"}[5m]) *"
                + " 100))\n");
  }

  @Test
  void aNanAverageExitsTwo() {
    prometheus =
        new FakeServer(
            uri ->
                FakeServer.params(uri).get("query").contains("filesystem")
                    ? FakeServer.value(Double.NaN)
                    : FakeServer.value(1));
    Run run = Run.of(dir, "capacity", "--prometheus", prometheus.url());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).startsWith("conea-report capacity: Disk Usage is NaN");
  }
}
