package io.conea.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Turns JMH's JSON results ({@code -rf json}, run with {@code -prof gc}) into {@code RESULTS.md}:
 * per benchmark the time and the bytes allocated per operation, each alternative's ratio to conea,
 * the targets with their verdicts, and the machine the figures come from.
 *
 * <p>Usage: {@code java -cp benchmarks.jar io.conea.benchmarks.ResultsReport results.json
 * RESULTS.md [analysis.md]}; the optional third file, a hand-written reading of the figures, is
 * appended as it is.
 */
public final class ResultsReport {

  static final String ALLOCATION = "gc.alloc.rate.norm";

  /** Below this, JMH's own bookkeeping: a benchmark that allocates nothing reads as a fraction. */
  static final double ZERO_BYTES = 1.0;

  /** The most conea's filter may add to an unsampled request, in time and in allocation. */
  static final long UNSAMPLED_BUDGET_NANOS = 400;

  static final long UNSAMPLED_BUDGET_BYTES = 400;

  /** Rows of the HTTP recording tables that are references, not a service's alternatives. */
  private static final java.util.Set<String> NOT_ALTERNATIVES =
      java.util.Set.of("micrometerPreResolved", "micrometerTimerConea", "physicalFloor");

  private static final List<Group> GROUPS =
      List.of(
          new Group(
              "HttpRecordBenchmark",
              "(a) Recording one HTTP request, 1 thread",
              "`http_requests_total{method,endpoint,status}` plus the 11-bucket"
                  + " `http_request_duration_seconds{method,endpoint}`, every series already"
                  + " registered, rotating through 8 (method, route, status) combinations."
                  + " Micrometer variants record into a `PrometheusMeterRegistry`, as conea does;"
                  + " no variant samples exemplars. The alternatives get the status label as a"
                  + " ready-made string, in their favour. `micrometerPreResolved` (every meter"
                  + " looked up before the run) is not an alternative a service can use: it is the"
                  + " floor under anything built on Micrometer. conea records the histogram in a"
                  + " collector of its own, striped adders per bucket read into the Prometheus"
                  + " client's model at scrape time (`coneaNativeHistograms`: with the Prometheus"
                  + " client's `Histogram` and a native histogram besides);"
                  + " `micrometerTimerConea` is conea on a registry with a"
                  + " common tag, which keeps its histogram on Micrometer's timer, the path conea"
                  + " took before. `physicalFloor`: a counter, a bucket and the sum, all resolved"
                  + " in advance, as `LongAdder`s and a `DoubleAdder`: the least any recording"
                  + " costs.",
              null),
          new Group(
              "HttpRecordTwoThreadsBenchmark",
              "(a) Recording one HTTP request, 2 threads",
              "The same, with two threads recording into the same meters at once.",
              null),
          new Group(
              "ServletFilterBenchmark",
              "(b) Servlet filter per request",
              "An in-memory request through the filter to a chain that sets the status; no"
                  + " container, no network. Overhead is the figure minus `noFilter`. Both filters"
                  + " run on the same OpenTelemetry SDK (sampler always_off for *Unsampled,"
                  + " always_on for *Sampled, spans to a discarding exporter) and record their HTTP"
                  + " metrics. OpenTelemetry's servlet library (`opentelemetry-servlet-5.0`) could"
                  + " not be resolved from Maven Central for this build, so `openTelemetry*` is a"
                  + " minimal filter over `opentelemetry-instrumentation-api`'s `Instrumenter` with"
                  + " `HttpServerAttributesExtractor`, `HttpSpanNameExtractor`,"
                  + " `HttpSpanStatusExtractor`, `HttpServerRoute` and `HttpServerMetrics`, the"
                  + " blocks OpenTelemetry's own servlet instrumentation is built from. It does less"
                  + " than that library (no async support, no header capture), so its figures are a"
                  + " lower bound of OpenTelemetry's cost. conea's filter also fills the MDC (six"
                  + " entries) on every request; the OpenTelemetry filter does not.",
              "noFilter"),
          new Group(
              "NettyHandlerBenchmark",
              "(c) Netty handler per request",
              "A `FullHttpRequest` written into an `EmbeddedChannel`, answered with a"
                  + " `FullHttpResponse` by the application handler and read back out. Overhead is"
                  + " the figure minus `noHandler`, the same channel without conea's handler.",
              "noHandler"),
          new Group(
              "LogEncodingBenchmark",
              "(d) Encoding the guide's example log event",
              "The guide's example event (MDC trace_id, span_id, user_id, organization_id,"
                  + " method, path; key-values status, duration_ms, model, tokens, cost), built"
                  + " once in a real `LoggerContext` and encoded per operation. `logstash` and"
                  + " `logbackJsonEncoder` use their default fields; `logstashTrimmed` drops the"
                  + " fields the guide's schema lacks (`@version`, `level_value`, `logger_name`,"
                  + " `thread_name`). Line bytes: the length of one encoded line.",
              null),
          new Group(
              "AiCallBenchmark",
              "(e) Recording one AI model call",
              "Requests, processing time, tokens and cost of one call to a model client that"
                  + " answers at once, so that only the recording is measured; no tracing."
                  + " `coneaAnnotation`: a method annotated `@AiModelCall`, woven at build time by"
                  + " the AspectJ compiler; `coneaProgrammatic`: the same call through"
                  + " `AiCalls.call`; `coneaAiMetrics`: the figures handed to `AiMetrics.record`"
                  + " directly, the meters alone. Overhead is the figure minus `unrecorded`, the"
                  + " client call alone.",
              "unrecorded"),
          new Group(
              "BaselineBenchmark",
              "Baseline",
              "A benchmark that returns a field: the harness alone.",
              null));

  private final List<Result> results;
  private final Machine machine;
  private final Map<String, Integer> lineBytes;

  ResultsReport(List<Result> results, Machine machine, Map<String, Integer> lineBytes) {
    this.results = results;
    this.machine = machine;
    this.lineBytes = lineBytes;
  }

  /** Writes RESULTS.md from JMH's JSON results. */
  public static void main(String[] args) throws IOException {
    if (args.length < 2 || args.length > 3) {
      System.err.println("usage: ResultsReport <jmh-results.json> <RESULTS.md> [analysis.md]");
      System.exit(2);
    }
    List<Result> results = read(Files.readString(Path.of(args[0]), StandardCharsets.UTF_8));
    if (results.isEmpty()) {
      throw new IllegalArgumentException(args[0] + " holds no benchmark result");
    }
    Map<String, Integer> lines = new LinkedHashMap<>();
    LogEncodingBenchmark.sampleLines().forEach((name, line) -> lines.put(name, line.length));
    String report = new ResultsReport(results, Machine.current(), lines).render(Instant.now());
    if (args.length == 3 && Files.exists(Path.of(args[2]))) {
      report += "\n" + Files.readString(Path.of(args[2]), StandardCharsets.UTF_8);
    }
    Path target = Path.of(args[1]);
    if (Files.exists(target)) {
      report = keepOverheadSection(report, Files.readString(target, StandardCharsets.UTF_8));
    }
    Files.writeString(target, report, StandardCharsets.UTF_8);
    System.out.println("Wrote " + args[1] + " from " + results.size() + " results");
  }

  /** The heading of the section that benchmarks/overhead/run.sh writes into the same file. */
  static final String OVERHEAD_HEADING = "## End-to-end overhead";

  /**
   * Returns {@code report} with the end-to-end overhead section of the {@code previous} file
   * appended: that section comes from another script's run, which this one must not erase.
   */
  static String keepOverheadSection(String report, String previous) {
    int start = previous.indexOf("\n" + OVERHEAD_HEADING);
    if (start < 0 || report.contains("\n" + OVERHEAD_HEADING)) {
      return report;
    }
    int end = previous.indexOf("\n## ", start + 1);
    String section = previous.substring(start + 1, end < 0 ? previous.length() : end + 1);
    return report.endsWith("\n") ? report + "\n" + section : report + "\n\n" + section;
  }

  /** Parses JMH's JSON result list. */
  static List<Result> read(String json) throws IOException {
    JsonNode root = new ObjectMapper().readTree(json);
    List<Result> results = new ArrayList<>();
    for (JsonNode node : root) {
      String benchmark = node.path("benchmark").asText();
      int dot = benchmark.lastIndexOf('.');
      String className = benchmark.substring(benchmark.lastIndexOf('.', dot - 1) + 1, dot);
      StringBuilder method = new StringBuilder(benchmark.substring(dot + 1));
      JsonNode params = node.path("params");
      for (Map.Entry<String, JsonNode> param : params.properties()) {
        method
            .append(method.indexOf("[") < 0 ? " [" : ", ")
            .append(param.getKey())
            .append('=')
            .append(param.getValue().asText());
      }
      if (method.indexOf("[") >= 0) {
        method.append(']');
      }
      JsonNode primary = node.path("primaryMetric");
      JsonNode allocation = node.path("secondaryMetrics").path(ALLOCATION);
      List<Double> iterations = new ArrayList<>();
      for (JsonNode fork : primary.path("rawData")) {
        for (JsonNode value : fork) {
          iterations.add(value.asDouble());
        }
      }
      iterations.sort(null);
      int n = iterations.size();
      double median =
          n == 0
              ? primary.path("score").asDouble()
              : n % 2 == 1
                  ? iterations.get(n / 2)
                  : (iterations.get(n / 2 - 1) + iterations.get(n / 2)) / 2;
      results.add(
          new Result(
              className,
              method.toString(),
              node.path("threads").asInt(1),
              median,
              n == 0 ? Double.NaN : iterations.get(0),
              n == 0 ? Double.NaN : iterations.get(n - 1),
              primary.path("scoreUnit").asText(),
              allocation.isMissingNode() ? Double.NaN : allocation.path("score").asDouble(),
              new Run(
                  node.path("jmhVersion").asText(),
                  node.path("vmName").asText(),
                  node.path("vmVersion").asText(),
                  node.path("jdkVersion").asText(),
                  node.path("forks").asInt(),
                  node.path("warmupIterations").asInt(),
                  node.path("warmupTime").asText(),
                  node.path("measurementIterations").asInt(),
                  node.path("measurementTime").asText())));
    }
    return results;
  }

  String render(Instant when) {
    StringBuilder out = new StringBuilder();
    out.append("# Benchmark results\n\n");
    out.append("Written by `benchmarks/run.sh` (JMH, `-prof gc`) on ")
        .append(DateTimeFormatter.ISO_LOCAL_DATE.format(when.atZone(ZoneOffset.UTC)))
        .append(". Regenerate with `benchmarks/run.sh`; see `benchmarks/README.md`.\n\n");
    Run run = results.get(0).run();
    out.append("| machine | |\n|---|---|\n");
    out.append("| CPU | ").append(machine.cpuModel()).append(" |\n");
    out.append("| nproc | ").append(machine.processors()).append(" |\n");
    out.append("| OS | ").append(machine.os()).append(" |\n");
    out.append("| JVM | ")
        .append(run.vmName())
        .append(' ')
        .append(run.vmVersion())
        .append(" (Java ")
        .append(run.jdkVersion())
        .append(") |\n");
    out.append("| JMH | ")
        .append(run.jmhVersion())
        .append(", ")
        .append(run.forks())
        .append(" fork, warmup ")
        .append(run.warmupIterations())
        .append(" x ")
        .append(run.warmupTime())
        .append(", measurement ")
        .append(run.measurementIterations())
        .append(" x ")
        .append(run.measurementTime())
        .append(" |\n\n");
    out.append(
        "ns/op: time per operation, the median of the measurement iterations (each one the"
            + " average over its second), which a burst of load from other processes moves less"
            + " than the mean; range: the fastest and slowest iteration. B/op: bytes"
            + " allocated per operation (`gc.alloc.rate.norm`); below 1 B/op it is JMH's own"
            + " bookkeeping, so 0. x conea: the row's time (or overhead, where the table has one)"
            + " divided by conea's; above 1 means conea is faster. The machine is shared and noisy:"
            + " compare rows of one table, taken in the same run, rather than figures across"
            + " runs.\n\n");
    renderTargets(out);
    List<String> known = new ArrayList<>();
    for (Group group : GROUPS) {
      known.add(group.className());
      List<Result> rows = rows(group.className());
      if (!rows.isEmpty()) {
        renderGroup(out, group, rows);
      }
    }
    Map<String, List<Result>> others =
        results.stream()
            .filter(r -> !known.contains(r.className()))
            .collect(
                Collectors.groupingBy(Result::className, LinkedHashMap::new, Collectors.toList()));
    others.forEach((name, rows) -> renderGroup(out, new Group(name, name, "", null), rows));
    return out.toString();
  }

  private void renderTargets(StringBuilder out) {
    out.append("## Targets\n\n| target | measured | verdict |\n|---|---|---|\n");
    Optional<Result> conea = find("HttpRecordBenchmark", "conea");
    target(
        out,
        "(a) conea records an HTTP request with 0 B/op",
        conea.map(r -> bytes(r.allocation()) + " B/op"),
        conea.map(r -> r.allocation() < ZERO_BYTES));
    for (String group : List.of("HttpRecordBenchmark", "HttpRecordTwoThreadsBenchmark")) {
      String threads = group.equals("HttpRecordBenchmark") ? "1 thread" : "2 threads";
      Optional<Result> reference = find(group, "conea");
      Optional<Result> builder = find(group, "micrometerBuilder");
      Optional<Double> ratio = reference.flatMap(c -> builder.map(b -> b.score() / c.score()));
      target(
          out,
          "(a) conea at least 10x faster than Micrometer's builder idiom, " + threads,
          ratio.map(
              r ->
                  String.format(
                      Locale.ROOT,
                      "%.2fx (%s vs %s ns/op)",
                      r,
                      time(builder.get().score()),
                      time(reference.get().score()))),
          ratio.map(r -> r >= 10));
      List<Result> faster =
          rows(group).stream()
              .filter(
                  r -> !NOT_ALTERNATIVES.contains(r.method()) && !r.method().startsWith("conea"))
              .filter(r -> reference.isPresent() && r.score() <= reference.get().score())
              .collect(Collectors.toList());
      target(
          out,
          "(a) conea faster than every alternative, " + threads,
          reference.map(
              c ->
                  faster.isEmpty()
                      ? "fastest at " + time(c.score()) + " ns/op"
                      : "conea "
                          + time(c.score())
                          + " ns/op; faster: "
                          + faster.stream()
                              .map(r -> "`" + r.method() + "` " + time(r.score()))
                              .collect(Collectors.joining(", "))),
          reference.map(c -> faster.isEmpty()));
    }
    Optional<Double> coneaOverhead =
        overhead("ServletFilterBenchmark", "coneaUnsampled", "noFilter");
    Optional<Double> otelOverhead =
        overhead("ServletFilterBenchmark", "openTelemetryUnsampled", "noFilter");
    target(
        out,
        "(b) conea's filter adds at most " + UNSAMPLED_BUDGET_NANOS + " ns per unsampled request",
        coneaOverhead.map(o -> time(o) + " ns"),
        coneaOverhead.map(o -> o <= UNSAMPLED_BUDGET_NANOS));
    Optional<Double> coneaBytes =
        find("ServletFilterBenchmark", "coneaUnsampled")
            .flatMap(
                c ->
                    find("ServletFilterBenchmark", "noFilter")
                        .map(b -> c.allocation() - b.allocation()));
    target(
        out,
        "(b) conea's filter allocates less than "
            + UNSAMPLED_BUDGET_BYTES
            + " B per unsampled request",
        coneaBytes.map(b -> bytes(b) + " B/op"),
        coneaBytes.map(b -> b < UNSAMPLED_BUDGET_BYTES));
    target(
        out,
        "(b) conea's filter adds less than OpenTelemetry's, unsampled",
        coneaOverhead.flatMap(c -> otelOverhead.map(o -> time(c) + " ns vs " + time(o) + " ns")),
        coneaOverhead.flatMap(c -> otelOverhead.map(o -> c < o)));
    Optional<Result> log = find("LogEncodingBenchmark", "conea");
    for (String alternative : List.of("logstash", "logstashTrimmed")) {
      Optional<Result> other = find("LogEncodingBenchmark", alternative);
      Optional<Double> ratio = log.flatMap(c -> other.map(o -> o.score() / c.score()));
      target(
          out,
          alternative.equals("logstash")
              ? "(d) conea at least twice the throughput of `logstash`"
              : "(d, stricter) the same against `logstashTrimmed`, which writes fewer fields",
          ratio.map(
              r ->
                  String.format(
                      Locale.ROOT,
                      "%.2fx (%s vs %s ns/op)",
                      r,
                      time(other.get().score()),
                      time(log.get().score()))),
          ratio.map(r -> r >= 2));
    }
    List<Result> moreBytes =
        rows("LogEncodingBenchmark").stream()
            .filter(r -> !r.method().equals("conea"))
            .collect(Collectors.toList());
    target(
        out,
        "(d) conea allocates fewer bytes per event than every alternative",
        log.map(
            c ->
                bytes(c.allocation())
                    + " B/op vs "
                    + moreBytes.stream()
                        .map(r -> "`" + r.method() + "` " + bytes(r.allocation()))
                        .collect(Collectors.joining(", "))),
        log.map(
            c ->
                !moreBytes.isEmpty()
                    && moreBytes.stream().allMatch(r -> c.allocation() < r.allocation())));
    out.append('\n');
  }

  private static void target(
      StringBuilder out, String what, Optional<String> measured, Optional<Boolean> met) {
    out.append("| ")
        .append(what)
        .append(" | ")
        .append(measured.orElse("not measured"))
        .append(" | ")
        .append(met.map(m -> m ? "met" : "**missed**").orElse("not measured"))
        .append(" |\n");
  }

  private void renderGroup(StringBuilder out, Group group, List<Result> rows) {
    out.append("## ").append(group.title()).append("\n\n");
    if (!group.description().isEmpty()) {
      out.append(group.description()).append("\n\n");
    }
    Optional<Result> baseline =
        group.baseline() == null ? Optional.empty() : find(group.className(), group.baseline());
    boolean lines = group.className().equals("LogEncodingBenchmark") && !lineBytes.isEmpty();
    String unit = rows.get(0).unit();
    out.append("| benchmark | ").append(unit).append(" | range | B/op |");
    if (baseline.isPresent()) {
      out.append(" overhead ns |");
    }
    if (lines) {
      out.append(" line bytes |");
    }
    out.append(" x conea |\n|---|---:|---:|---:|");
    if (baseline.isPresent()) {
      out.append("---:|");
    }
    if (lines) {
      out.append("---:|");
    }
    out.append("---:|\n");
    List<Result> ordered = new ArrayList<>(rows);
    ordered.sort(
        Comparator.comparing((Result r) -> !r.method().startsWith("conea"))
            .thenComparing(Result::score));
    for (Result row : ordered) {
      out.append("| `").append(row.method()).append("` | ").append(time(row.score()));
      out.append(" | ");
      if (!Double.isNaN(row.min())) {
        out.append(time(row.min())).append(" – ").append(time(row.max()));
      }
      out.append(" | ").append(bytes(row.allocation())).append(" |");
      if (baseline.isPresent()) {
        out.append(' ')
            .append(row == baseline.get() ? "" : time(row.score() - baseline.get().score()))
            .append(" |");
      }
      if (lines) {
        Integer length = lineBytes.get(row.method());
        out.append(' ').append(length == null ? "" : length.toString()).append(" |");
      }
      out.append(' ').append(ratio(group, row, rows, baseline)).append(" |\n");
    }
    out.append('\n');
  }

  /**
   * The row's time over conea's: against the conea row with the same suffix ({@code
   * openTelemetrySampled} against {@code coneaSampled}), else against {@code conea}; overheads
   * where the group has a baseline.
   */
  private static String ratio(
      Group group, Result row, List<Result> rows, Optional<Result> baseline) {
    if (row.method().startsWith("conea") || (baseline.isPresent() && row == baseline.get())) {
      return "";
    }
    Result reference = null;
    String name = row.method();
    for (int i = 1; i < name.length() && reference == null; i++) {
      if (Character.isUpperCase(name.charAt(i))) {
        String candidate = "conea" + name.substring(i);
        reference =
            rows.stream().filter(r -> r.method().equals(candidate)).findFirst().orElse(null);
      }
    }
    if (reference == null) {
      reference = rows.stream().filter(r -> r.method().equals("conea")).findFirst().orElse(null);
    }
    if (reference == null) {
      return "";
    }
    double base = baseline.map(Result::score).orElse(0.0);
    double coneaCost = reference.score() - base;
    if (coneaCost <= 0) {
      return "";
    }
    return String.format(Locale.ROOT, "%.2f", (row.score() - base) / coneaCost);
  }

  private List<Result> rows(String className) {
    return results.stream()
        .filter(r -> r.className().equals(className))
        .collect(Collectors.toList());
  }

  private Optional<Result> find(String className, String method) {
    return results.stream()
        .filter(r -> r.className().equals(className) && r.method().equals(method))
        .findFirst();
  }

  private Optional<Double> overhead(String className, String method, String baseline) {
    return find(className, method)
        .flatMap(m -> find(className, baseline).map(b -> m.score() - b.score()));
  }

  static String time(double nanos) {
    if (Double.isNaN(nanos)) {
      return "";
    }
    double magnitude = Math.abs(nanos);
    return String.format(
        Locale.ROOT, magnitude >= 100 ? "%.0f" : magnitude >= 10 ? "%.1f" : "%.2f", nanos);
  }

  static String bytes(double bytes) {
    if (Double.isNaN(bytes)) {
      return "";
    }
    return bytes < ZERO_BYTES ? "0" : String.format(Locale.ROOT, "%.0f", bytes);
  }

  /** One benchmark's figures. */
  record Result(
      String className,
      String method,
      int threads,
      double score,
      double min,
      double max,
      String unit,
      double allocation,
      Run run) {}

  /** How the figures were taken. */
  record Run(
      String jmhVersion,
      String vmName,
      String vmVersion,
      String jdkVersion,
      int forks,
      int warmupIterations,
      String warmupTime,
      int measurementIterations,
      String measurementTime) {}

  /** One table of the report. */
  record Group(String className, String title, String description, String baseline) {}

  /** The machine the report is written on, which is the one the benchmarks ran on. */
  record Machine(String cpuModel, String processors, String os) {

    static Machine current() {
      String cpu = "unknown";
      try {
        cpu =
            Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8).stream()
                .filter(l -> l.startsWith("model name"))
                .map(l -> l.substring(l.indexOf(':') + 1).trim())
                .findFirst()
                .orElse(cpu);
      } catch (IOException e) {
        // Not Linux: the rest of the description still holds.
      }
      String processors =
          System.getProperty("nproc", Integer.toString(Runtime.getRuntime().availableProcessors()));
      String os =
          System.getProperty("os.name")
              + " "
              + System.getProperty("os.version")
              + " "
              + System.getProperty("os.arch");
      return new Machine(cpu, processors, os);
    }
  }
}
