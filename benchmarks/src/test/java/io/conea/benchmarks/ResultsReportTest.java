package io.conea.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResultsReportTest {

  private static final ResultsReport.Machine MACHINE =
      new ResultsReport.Machine("Test CPU 9000", "2", "Linux 6.1 amd64");

  @Test
  void readsTimeAllocationAndRunSettingsFromJmhJson() throws Exception {
    List<ResultsReport.Result> results =
        ResultsReport.read(json(entry("HttpRecordBenchmark", "conea", 80.5, 0.02)));

    assertThat(results).hasSize(1);
    ResultsReport.Result result = results.get(0);
    assertThat(result.className()).isEqualTo("HttpRecordBenchmark");
    assertThat(result.method()).isEqualTo("conea");
    // The median of the iterations 79.5, 80.5 and 95.5: the slow one does not move it.
    assertThat(result.score()).isEqualTo(80.5);
    assertThat(result.min()).isEqualTo(79.5);
    assertThat(result.max()).isEqualTo(95.5);
    assertThat(result.allocation()).isEqualTo(0.02);
    assertThat(result.run().vmName()).isEqualTo("OpenJDK 64-Bit Server VM");
    assertThat(result.run().warmupTime()).isEqualTo("1 s");
  }

  @Test
  void writesMachineRatiosAndVerdicts() throws Exception {
    String json =
        json(
            entry("HttpRecordBenchmark", "conea", 50, 0.02),
            entry("HttpRecordBenchmark", "micrometerBuilder", 400, 800),
            entry("HttpRecordBenchmark", "prometheusClient", 40, 200),
            entry("HttpRecordBenchmark", "physicalFloor", 10, 0),
            entry("HttpRecordBenchmark", "micrometerTimerConea", 45, 0),
            entry("ServletFilterBenchmark", "noFilter", 10, 0),
            entry("ServletFilterBenchmark", "coneaUnsampled", 510, 900),
            entry("ServletFilterBenchmark", "openTelemetryUnsampled", 1010, 3000),
            entry("LogEncodingBenchmark", "conea", 500, 440),
            entry("LogEncodingBenchmark", "logstash", 900, 700));

    String report =
        new ResultsReport(ResultsReport.read(json), MACHINE, Map.of("conea", 369))
            .render(Instant.parse("2026-01-02T03:04:05Z"));

    assertThat(report)
        .contains("| CPU | Test CPU 9000 |")
        .contains("| nproc | 2 |")
        .contains("| JVM | OpenJDK 64-Bit Server VM 17.0.15+6 (Java 17.0.15) |")
        .contains("2026-01-02")
        .contains("| `micrometerBuilder` | 400 | 399 – 415 | 800 | 8.00 |")
        .contains("| `prometheusClient` | 40.0 | 39.0 – 55.0 | 200 | 0.80 |")
        // Overheads over noFilter: 1000 ns against conea's 500 ns.
        .contains("| `openTelemetryUnsampled` | 1010 | 1009 – 1025 | 3000 | 1000 | 2.00 |")
        .contains("| `conea` | 500 | 499 – 515 | 440 | 369 |  |")
        .contains("| (a) conea records an HTTP request with 0 B/op | 0 B/op | met |")
        .contains(
            "| (a) conea at least 10x faster than Micrometer's builder idiom, 1 thread |"
                + " 8.00x (400 vs 50.0 ns/op) | **missed** |")
        .contains("| `physicalFloor` | 10.0 | 9.00 – 25.0 | 0 | 0.20 |")
        .contains(
            "| (a) conea faster than every alternative, 1 thread | conea 50.0 ns/op; faster:"
                + " `prometheusClient` 40.0 | **missed** |")
        .contains(
            "| (b) conea's filter adds at most 400 ns per unsampled request | 500 ns | **missed** |")
        .contains(
            "| (b) conea's filter allocates less than 400 B per unsampled request | 900 B/op"
                + " | **missed** |")
        .contains(
            "| (d) conea at least twice the throughput of `logstash` | 1.80x (900 vs 500 ns/op)"
                + " | **missed** |")
        .contains("2 threads | not measured | not measured |");
  }

  private static String json(String... entries) {
    return "[" + String.join(",", entries) + "]";
  }

  private static String entry(String className, String method, double score, double bytes) {
    return ("{'jmhVersion':'1.37','benchmark':'io.conea.benchmarks.%s.%s','mode':'avgt',"
            + "'threads':1,'forks':1,'jvm':'/usr/bin/java','jdkVersion':'17.0.15',"
            + "'vmName':'OpenJDK 64-Bit Server VM','vmVersion':'17.0.15+6',"
            + "'warmupIterations':3,'warmupTime':'1 s','measurementIterations':5,"
            + "'measurementTime':'1 s','primaryMetric':{'score':%s,'scoreError':1.5,"
            + "'scoreUnit':'ns/op','rawData':[[%s,%s,%s]]},"
            + "'secondaryMetrics':{'gc.alloc.rate.norm':{'score':%s,"
            + "'scoreError':0.1,'scoreUnit':'B/op'}}}")
        .formatted(className, method, score, score - 1, score, score + 15, bytes)
        .replace('\'', '"');
  }

  @Test
  void theOverheadSectionOfTheOtherScriptSurvivesARewrite() {
    String previous =
        "# Benchmark results\n\n## (a) old\n\nold figures\n\n"
            + "## End-to-end overhead\n\n| variant | req/s |\n|---|---|\n| conea | 1 |\n";
    String report = "# Benchmark results\n\n## (a) new\n\nnew figures\n";

    String kept = ResultsReport.keepOverheadSection(report, previous);

    assertThat(kept)
        .startsWith(report)
        .endsWith("## End-to-end overhead\n\n| variant | req/s |\n|---|---|\n| conea | 1 |\n")
        .doesNotContain("old figures");
    assertThat(ResultsReport.keepOverheadSection(report, "# nothing of it\n")).isEqualTo(report);
    assertThat(ResultsReport.keepOverheadSection(kept, previous)).isEqualTo(kept);
  }
}
