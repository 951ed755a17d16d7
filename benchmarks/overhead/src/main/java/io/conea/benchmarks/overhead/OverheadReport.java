package io.conea.benchmarks.overhead;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;

/**
 * Writes the "End-to-end overhead" section of RESULTS.md and the plot from run.sh's measurements.
 *
 * <p>{@code OverheadReport <results.tsv> <machine.properties> <RESULTS.md> <overhead.png>}: the TSV
 * has a header line and one line per (round, variant) run; the properties describe the machine and
 * the run. The section replaces an existing one (up to the next {@code ## } heading) or is
 * appended; the rest of RESULTS.md is kept as it is.
 */
public final class OverheadReport {

  static final String HEADING = "## End-to-end overhead";

  /** Variants in table order; conea is the reference of every ratio. */
  static final List<String> VARIANTS = List.of("none", "conea", "agent", "micrometer");

  private static final Map<String, String> LABELS =
      Map.of(
          "none", "no instrumentation",
          "conea", "conea",
          "agent", "OpenTelemetry Java agent",
          "micrometer", "Micrometer observation filter");

  private OverheadReport() {}

  /** One (round, variant) run. */
  record Run(
      int round,
      String variant,
      double startupMs,
      double requestsPerSecond,
      double p50Ms,
      double p99Ms,
      double rssMib,
      double allocMbPerSecond,
      double cpuMicrosPerRequest,
      long requests,
      long errors,
      long exports,
      double counted,
      double load1,
      double warmupRequestsPerSecond,
      double jitMs) {}

  /** The medians over the rounds of one variant. */
  record Summary(
      String variant,
      int rounds,
      double startupMs,
      double requestsPerSecond,
      double minRequestsPerSecond,
      double maxRequestsPerSecond,
      double p50Ms,
      double p99Ms,
      double minP99Ms,
      double maxP99Ms,
      double rssMib,
      double allocMbPerSecond,
      double allocBytesPerRequest,
      double cpuMicrosPerRequest,
      long requests,
      long errors,
      long exports,
      double counted,
      double warmupRequestsPerSecond) {}

  static List<Run> parse(List<String> lines) {
    if (lines.isEmpty()) {
      throw new IllegalArgumentException("no measurements");
    }
    List<String> header = Arrays.asList(lines.get(0).split("\t"));
    List<Run> runs = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      if (line.isBlank()) {
        continue;
      }
      String[] cells = line.split("\t");
      Map<String, String> row = new LinkedHashMap<>();
      for (int i = 0; i < header.size() && i < cells.length; i++) {
        row.put(header.get(i), cells[i]);
      }
      runs.add(
          new Run(
              Integer.parseInt(row.get("round")),
              row.get("variant"),
              number(row, "startup_ms"),
              number(row, "rps"),
              number(row, "p50_ms"),
              number(row, "p99_ms"),
              number(row, "rss_mib"),
              number(row, "alloc_mb_s"),
              number(row, "cpu_us_request"),
              (long) number(row, "requests"),
              (long) number(row, "errors"),
              (long) number(row, "exports"),
              number(row, "counted"),
              number(row, "load1"),
              number(row, "warmup_rps"),
              number(row, "jit_ms")));
    }
    return runs;
  }

  private static double number(Map<String, String> row, String name) {
    String value = row.get(name);
    if (value == null || value.isBlank() || value.equals("-")) {
      return Double.NaN;
    }
    return Double.parseDouble(value);
  }

  static Map<String, Summary> summarize(List<Run> runs) {
    Map<String, Summary> summaries = new LinkedHashMap<>();
    for (String variant : VARIANTS) {
      List<Run> of = runs.stream().filter(run -> run.variant().equals(variant)).toList();
      if (of.isEmpty()) {
        continue;
      }
      double rps = median(of, Run::requestsPerSecond);
      double alloc = median(of, Run::allocMbPerSecond);
      summaries.put(
          variant,
          new Summary(
              variant,
              of.size(),
              median(of, Run::startupMs),
              rps,
              of.stream().mapToDouble(Run::requestsPerSecond).min().orElseThrow(),
              of.stream().mapToDouble(Run::requestsPerSecond).max().orElseThrow(),
              median(of, Run::p50Ms),
              median(of, Run::p99Ms),
              of.stream().mapToDouble(Run::p99Ms).min().orElseThrow(),
              of.stream().mapToDouble(Run::p99Ms).max().orElseThrow(),
              median(of, Run::rssMib),
              alloc,
              median(of, run -> run.allocMbPerSecond() * 1e6 / run.requestsPerSecond()),
              median(of, Run::cpuMicrosPerRequest),
              of.stream().mapToLong(Run::requests).sum(),
              of.stream().mapToLong(Run::errors).sum(),
              of.stream().mapToLong(Run::exports).sum(),
              median(of, Run::counted),
              median(of, Run::warmupRequestsPerSecond)));
    }
    return summaries;
  }

  static double median(List<Run> runs, ToDoubleFunction<Run> value) {
    double[] values =
        runs.stream().mapToDouble(value).filter(v -> !Double.isNaN(v)).sorted().toArray();
    if (values.length == 0) {
      return Double.NaN;
    }
    int middle = values.length / 2;
    return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
  }

  /** The throughput lost against no instrumentation, in percent. */
  static double lossPercent(Map<String, Summary> summaries, String variant) {
    Summary none = summaries.get("none");
    Summary of = summaries.get(variant);
    if (none == null || of == null) {
      return Double.NaN;
    }
    return 100 * (1 - of.requestsPerSecond() / none.requestsPerSecond());
  }

  /** The throughput lost against no instrumentation during the warm-up run, in percent. */
  static double warmupLossPercent(Map<String, Summary> summaries, String variant) {
    Summary none = summaries.get("none");
    Summary of = summaries.get(variant);
    if (none == null || of == null) {
      return Double.NaN;
    }
    return 100 * (1 - of.warmupRequestsPerSecond() / none.warmupRequestsPerSecond());
  }

  /** The throughput lost at saturation as implied by CPU time per request, in percent. */
  static double cpuLossPercent(Map<String, Summary> summaries, String variant) {
    Summary none = summaries.get("none");
    Summary of = summaries.get(variant);
    if (none == null || of == null) {
      return Double.NaN;
    }
    return 100 * (1 - none.cpuMicrosPerRequest() / of.cpuMicrosPerRequest());
  }

  /** The start-up time added to no instrumentation's, in milliseconds. */
  static double addedStartupMs(Map<String, Summary> summaries, String variant) {
    Summary none = summaries.get("none");
    Summary of = summaries.get(variant);
    if (none == null || of == null) {
      return Double.NaN;
    }
    return of.startupMs() - none.startupMs();
  }

  static String section(List<Run> runs, Map<String, String> machine) {
    Map<String, Summary> summaries = summarize(runs);
    Summary conea = summaries.get("conea");
    StringBuilder out = new StringBuilder();
    out.append(HEADING).append("\n\n");
    out.append("Written by `benchmarks/overhead/run.sh` on ")
        .append(machine.getOrDefault("date", "?"))
        .append(
            "; see `benchmarks/README.md`. The same Jetty 12 service (`GET /api/v1/users/{id}`, a"
                + " small JSON object; `OverheadService`) run four ways from the same class path,"
                + " driven by `wrk` on loopback: ")
        .append(machine.getOrDefault("load", "?"))
        .append(". ")
        .append(machine.getOrDefault("rounds", "?"))
        .append(
            " round(s) of the four variants, the order rotated each round, so that the"
                + " machine's noise spreads over all of them; every run is a fresh JVM. Figures"
                + " are the medians over the rounds.\n\n");

    out.append("- **conea**: `ConeaTracingFilter`, `ConeaMetrics` on `PrometheusMetrics` (with")
        .append(" exemplars), `ConeaTracing` (the guide's parent-based 10% sampler, OTLP")
        .append(" http/protobuf to a local sink), `/metrics` served.\n")
        .append("- **OpenTelemetry Java agent** ")
        .append(machine.getOrDefault("agent", ""))
        .append(": `parentbased_traceidratio` 0.1, OTLP http/protobuf traces to the same sink,")
        .append(" its Prometheus metrics exporter on a port of its own, logs exporter `none`.\n")
        .append("- **Micrometer observation filter**: Spring's `ServerHttpObservationFilter` on an")
        .append(" `ObservationRegistry` with `DefaultMeterObservationHandler` into a")
        .append(" `PrometheusMeterRegistry`, the route set as the path pattern as Spring MVC does,")
        .append(" `/metrics` served. Metrics only (no tracer bridge), so it does less than the")
        .append(" other two.\n")
        .append("- The OTLP sink is a separate JVM (`OtlpSink`) that reads each export and answers")
        .append(" 200.\n\n");

    out.append("| machine | |\n|---|---|\n");
    Map<String, String> rows = new LinkedHashMap<>();
    rows.put("cpu", "CPU");
    rows.put("nproc", "nproc");
    rows.put("memory", "memory");
    rows.put("os", "OS");
    rows.put("jdk", "JDK");
    rows.put("jvm_options", "JVM options");
    rows.put("wrk", "wrk");
    rows.put("loadavg_start", "load average before the first run");
    rows.put("loadavg_end", "load average after the last run");
    rows.forEach(
        (key, label) ->
            out.append("| ")
                .append(label)
                .append(" | ")
                .append(machine.getOrDefault(key, "?"))
                .append(" |\n"));
    double[] loads = runs.stream().mapToDouble(Run::load1).filter(v -> !Double.isNaN(v)).toArray();
    if (loads.length > 0) {
      out.append(
          String.format(
              Locale.ROOT,
              "| load average (1 min) during the runs | %.2f mean, %.2f – %.2f |\n",
              Arrays.stream(loads).average().orElseThrow(),
              Arrays.stream(loads).min().orElseThrow(),
              Arrays.stream(loads).max().orElseThrow()));
    }
    out.append("\n");

    out.append(
        "Each cell: the figure, and in parentheses its ratio to conea's (above 1: more than"
            + " conea). Throughput loss and added start-up are against no instrumentation.\n\n");
    out.append(
        "| variant | req/s | throughput loss | p50 ms | p99 ms | start-up ms | added start-up ms"
            + " | RSS MiB | alloc MB/s | alloc B/request | CPU µs/request | warm-up req/s |\n");
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Summary summary : summaries.values()) {
      String variant = summary.variant();
      out.append("| ").append(LABELS.get(variant)).append(" | ");
      out.append(
          cell(
              summary.requestsPerSecond(),
              conea == null ? Double.NaN : conea.requestsPerSecond(),
              "%,.0f"));
      out.append(" | ");
      out.append(
          variant.equals("none")
              ? ""
              : cell(lossPercent(summaries, variant), lossPercent(summaries, "conea"), "%.1f%%"));
      out.append(" | ");
      out.append(cell(summary.p50Ms(), conea == null ? Double.NaN : conea.p50Ms(), "%.2f"));
      out.append(" | ");
      out.append(cell(summary.p99Ms(), conea == null ? Double.NaN : conea.p99Ms(), "%.2f"));
      out.append(" | ");
      out.append(
          cell(summary.startupMs(), conea == null ? Double.NaN : conea.startupMs(), "%,.0f"));
      out.append(" | ");
      out.append(
          variant.equals("none")
              ? ""
              : cell(
                  addedStartupMs(summaries, variant), addedStartupMs(summaries, "conea"), "%,.0f"));
      out.append(" | ");
      out.append(cell(summary.rssMib(), conea == null ? Double.NaN : conea.rssMib(), "%,.0f"));
      out.append(" | ");
      out.append(
          cell(
              summary.allocMbPerSecond(),
              conea == null ? Double.NaN : conea.allocMbPerSecond(),
              "%,.0f"));
      out.append(" | ");
      out.append(
          cell(
              summary.allocBytesPerRequest(),
              conea == null ? Double.NaN : conea.allocBytesPerRequest(),
              "%,.0f"));
      out.append(" | ");
      out.append(
          cell(
              summary.cpuMicrosPerRequest(),
              conea == null ? Double.NaN : conea.cpuMicrosPerRequest(),
              "%.1f"));
      out.append(" | ");
      out.append(
          cell(
              summary.warmupRequestsPerSecond(),
              conea == null ? Double.NaN : conea.warmupRequestsPerSecond(),
              "%,.0f"));
      out.append(" |\n");
    }
    out.append("\n![Throughput and p99 latency per variant](overhead/overhead.png)\n\n");

    out.append("### Targets\n\n");
    out.append("| target | measured | verdict |\n|---|---|---|\n");
    double coneaLoss = lossPercent(summaries, "conea");
    double agentLoss = lossPercent(summaries, "agent");
    out.append(
        target(
            "conea's throughput loss at most a third of the agent's",
            coneaLoss,
            agentLoss,
            "%.1f%%",
            "percentage points"));
    double coneaStartup = addedStartupMs(summaries, "conea");
    double agentStartup = addedStartupMs(summaries, "agent");
    out.append(
        target(
            "conea's added start-up time at most a third of the agent's",
            coneaStartup,
            agentStartup,
            "%,.0f ms",
            "ms"));
    out.append(
        target(
            "cross-check, not a target: the loss implied by CPU time per request,"
                + " 1 - none's / the variant's",
            cpuLossPercent(summaries, "conea"),
            cpuLossPercent(summaries, "agent"),
            "%.1f%%",
            "percentage points"));
    out.append(
        target(
            "cross-check, not a target: the throughput loss during the warm-up run, the first"
                + " seconds after start-up while the JIT compilers work",
            warmupLossPercent(summaries, "conea"),
            warmupLossPercent(summaries, "agent"),
            "%.1f%%",
            "percentage points"));
    out.append(
        "\nThroughput is what the brief's target reads, but on a shared machine it moves with"
            + " whatever else runs; the service's own CPU time per request (user and system,"
            + " `/proc/<pid>/stat`, over the measured run) moves far less, so the next row gives"
            + " the same comparison from it. The measured run follows a warm-up run long enough"
            + " for the JIT compilers to have settled (their CPU time during the measured run is"
            + " in the table of rounds below), so it is the steady state; the warm-up run's"
            + " throughput, the last column and the last row, shows what the first seconds after"
            + " a start cost.\n\n");

    out.append("### Checks and rounds\n\n");
    out.append(
        "Work really done in the measured runs: wrk's requests and socket errors or non-2xx"
            + " answers (all rounds), the requests of the route the variant's own metrics counted"
            + " when scraped after the load (median; warm-up and start-up probe included) and the"
            + " OTLP exports the sink received during the measured runs.\n\n");
    out.append("| variant | requests | errors | counted by its metrics | OTLP exports |\n");
    out.append("|---|---:|---:|---:|---:|\n");
    for (Summary summary : summaries.values()) {
      out.append("| ").append(LABELS.get(summary.variant())).append(" | ");
      out.append(String.format(Locale.ROOT, "%,d | %,d | ", summary.requests(), summary.errors()));
      out.append(
          Double.isNaN(summary.counted())
              ? "—"
              : String.format(Locale.ROOT, "%,.0f", summary.counted()));
      out.append(" | ").append(String.format(Locale.ROOT, "%,d", summary.exports())).append(" |\n");
    }
    out.append(
        "\n| round | variant | req/s | p99 ms | start-up ms | CPU µs/request | JIT CPU ms"
            + " | warm-up req/s | load (1 min) |\n");
    out.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Run run : runs) {
      out.append(
          String.format(
              Locale.ROOT,
              "| %d | %s | %,.0f | %.2f | %,.0f | %.1f | %,.0f | %,.0f | %.2f |\n",
              run.round(),
              run.variant(),
              run.requestsPerSecond(),
              run.p99Ms(),
              run.startupMs(),
              run.cpuMicrosPerRequest(),
              run.jitMs(),
              run.warmupRequestsPerSecond(),
              run.load1()));
    }
    out.append("\n");
    out.append(
        "How it is measured: throughput and latency from `wrk --latency` (fixed connections"
            + " and threads, a warm-up run first, ids 1-1000 so the route template matters);"
            + " start-up from launching `java` to the first 200 of the endpoint (bash polling"
            + " `/dev/tcp` in a loop, no process per attempt); RSS from `VmRSS` in"
            + " `/proc/<pid>/status` after the load; allocation from the JVM's"
            + " `getTotalThreadAllocatedBytes()` (all threads, ended ones included) read through"
            + " a plain loopback socket of the service (the same in every variant, seen by no"
            + " instrumentation) before and after the measured run. wrk and the service share the"
            + " machine's cores, and other work ran beside them: compare rows of this table, not"
            + " runs on different days.\n\n");
    return out.toString();
  }

  private static String cell(double value, double conea, String format) {
    if (Double.isNaN(value)) {
      return "—";
    }
    String text = String.format(Locale.ROOT, format, value);
    if (Double.isNaN(conea) || conea <= 0 || value < 0) {
      return text;
    }
    return text + String.format(Locale.ROOT, " (%.2f)", value / conea);
  }

  private static String target(
      String name, double conea, double agent, String format, String unit) {
    StringBuilder row = new StringBuilder("| ").append(name).append(" | ");
    if (Double.isNaN(conea) || Double.isNaN(agent)) {
      return row.append("not measured | — |\n").toString();
    }
    double limit = agent / 3;
    row.append("conea ")
        .append(String.format(Locale.ROOT, format, conea))
        .append(", agent ")
        .append(String.format(Locale.ROOT, format, agent))
        .append(", limit ")
        .append(String.format(Locale.ROOT, format, limit))
        .append(" | ");
    if (conea <= limit) {
      row.append("met");
      if (conea > 0 && agent > 0) {
        row.append(String.format(Locale.ROOT, " (conea costs %.2f of the agent's)", conea / agent));
      }
    } else {
      row.append("**missed** by ")
          .append(String.format(Locale.ROOT, "%.1f %s", conea - limit, unit));
      if (agent > 0) {
        row.append(String.format(Locale.ROOT, " (conea costs %.2f of the agent's)", conea / agent));
      }
    }
    return row.append(" |\n").toString();
  }

  /** Replaces the section in {@code document}, or appends it. */
  static String replaceSection(String document, String section) {
    int start =
        document.startsWith(HEADING + "\n") ? 0 : document.indexOf("\n" + HEADING + "\n") + 1;
    if (start == 0 && !document.startsWith(HEADING + "\n")) {
      String base = document.isEmpty() || document.endsWith("\n") ? document : document + "\n";
      return base + (base.isEmpty() ? "" : "\n") + section;
    }
    int end = nextHeading(document, start + HEADING.length());
    return document.substring(0, start) + section + document.substring(end);
  }

  private static int nextHeading(String document, int from) {
    int next = document.indexOf("\n## ", from);
    return next < 0 ? document.length() : next + 1;
  }

  static void plot(Map<String, Summary> summaries, Path png) throws IOException {
    int width = 1000;
    int height = 460;
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(
          RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, width, height);
      List<Summary> rows = new ArrayList<>(summaries.values());
      panel(
          g,
          rows,
          20,
          "Throughput (req/s, higher is better)",
          Summary::requestsPerSecond,
          Summary::minRequestsPerSecond,
          Summary::maxRequestsPerSecond,
          "%,.0f");
      panel(
          g,
          rows,
          width / 2 + 10,
          "p99 latency (ms, lower is better)",
          Summary::p99Ms,
          Summary::minP99Ms,
          Summary::maxP99Ms,
          "%.2f");
      g.setColor(Color.DARK_GRAY);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
      g.drawString(
          "Bars: median over the rounds; whiskers: fastest and slowest round.", 20, height - 8);
    } finally {
      g.dispose();
    }
    ImageIO.write(image, "png", png.toFile());
  }

  private static final Map<String, Color> COLORS =
      Map.of(
          "none", new Color(0x9e9e9e),
          "conea", new Color(0x2e7d32),
          "agent", new Color(0xc62828),
          "micrometer", new Color(0x1565c0));

  private static void panel(
      Graphics2D g,
      List<Summary> rows,
      int left,
      String title,
      ToDoubleFunction<Summary> value,
      ToDoubleFunction<Summary> low,
      ToDoubleFunction<Summary> high,
      String format) {
    int top = 50;
    int panelWidth = 470;
    int bottom = 380;
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    g.drawString(title, left + 10, 30);
    double max = rows.stream().mapToDouble(high).filter(v -> !Double.isNaN(v)).max().orElse(1);
    if (!(max > 0)) {
      max = 1;
    }
    max *= 1.15;
    g.setColor(Color.LIGHT_GRAY);
    g.drawLine(left + 10, bottom, left + panelWidth - 10, bottom);
    int slot = (panelWidth - 20) / Math.max(1, rows.size());
    int barWidth = slot * 3 / 5;
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    FontMetrics metrics = g.getFontMetrics();
    for (int i = 0; i < rows.size(); i++) {
      Summary row = rows.get(i);
      int x = left + 10 + i * slot + (slot - barWidth) / 2;
      double v = value.applyAsDouble(row);
      int barHeight = Double.isNaN(v) ? 0 : (int) Math.round((bottom - top) * v / max);
      g.setColor(COLORS.getOrDefault(row.variant(), Color.GRAY));
      g.fillRect(x, bottom - barHeight, barWidth, barHeight);
      double lo = low.applyAsDouble(row);
      double hi = high.applyAsDouble(row);
      if (!Double.isNaN(lo) && !Double.isNaN(hi)) {
        int yLo = bottom - (int) Math.round((bottom - top) * lo / max);
        int yHi = bottom - (int) Math.round((bottom - top) * hi / max);
        int center = x + barWidth / 2;
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(1.5f));
        g.drawLine(center, yLo, center, yHi);
        g.drawLine(center - 6, yLo, center + 6, yLo);
        g.drawLine(center - 6, yHi, center + 6, yHi);
      }
      g.setColor(Color.BLACK);
      String label = Double.isNaN(v) ? "—" : String.format(Locale.ROOT, format, v);
      int yLabel =
          Math.min(bottom - barHeight, bottom - (int) Math.round((bottom - top) * hi / max));
      g.drawString(label, x + (barWidth - metrics.stringWidth(label)) / 2, yLabel - 6);
      String name = row.variant();
      g.drawString(name, x + (barWidth - metrics.stringWidth(name)) / 2, bottom + 18);
    }
  }

  /** Writes the section into RESULTS.md and the plot. */
  public static void main(String[] args) throws IOException {
    if (args.length != 4 && args.length != 5) {
      System.err.println(
          "usage: OverheadReport <results.tsv> <machine.properties> <RESULTS.md> <overhead.png>"
              + " [analysis.md]");
      System.exit(2);
    }
    List<Run> runs = parse(Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8));
    Map<String, String> machine = new LinkedHashMap<>();
    for (String line : Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8)) {
      int equals = line.indexOf('=');
      if (equals > 0) {
        machine.put(line.substring(0, equals).trim(), line.substring(equals + 1).trim());
      }
    }
    String section = section(runs, machine);
    if (args.length == 5 && Files.exists(Path.of(args[4]))) {
      // Hand-written, with ### headings so that it stays inside this section.
      String analysis = Files.readString(Path.of(args[4]), StandardCharsets.UTF_8).strip();
      section += analysis + "\n\n";
    }
    Path results = Path.of(args[2]);
    String document =
        Files.exists(results) ? Files.readString(results, StandardCharsets.UTF_8) : "";
    Files.writeString(results, replaceSection(document, section), StandardCharsets.UTF_8);
    plot(summarize(runs), Path.of(args[3]));
  }
}
