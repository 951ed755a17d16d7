package io.conea.report;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conea.report.Arguments.UsageException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code conea-report capacity}: the guide's capacity report (CPU, memory and disk usage from node
 * exporter's metrics), per instance and averaged.
 */
final class CapacityCommand {

  static final String USAGE =
      """
      Usage: conea-report capacity --prometheus URL [--rate-window DURATION] [--json]

      The guide's capacity report from node exporter's metrics in Prometheus, in percent: CPU
      Usage, Memory Usage and Disk Usage per instance (the queries of the guide's system metrics
      section) and averaged (the queries of its monitoring_automation.py). Every query is
      evaluated at the same instant.

      Options:
        --prometheus URL        Prometheus' base URL, e.g. http://prometheus:9090 (required)
        --rate-window DURATION  the range of the CPU rate (default 5m, the guide's); CPU usage
                                reads too high while Prometheus holds less than this much data
        --json                  print JSON instead of a table
        -h, --help              print this help

      Exit codes: 0 the report was made, 2 it could not be (bad usage, Prometheus unreachable,
      HTTP or query error, no node exporter data), with a one-line reason on stderr.
      """;

  static final String CPU = "CPU Usage";
  static final String MEMORY = "Memory Usage";
  static final String DISK = "Disk Usage";

  /** The guide's monitoring_automation.py, generate_capacity_report(): averaged over everything. */
  static final Map<String, String> AVERAGED =
      ordered(
          CPU, "avg(100 - (rate(node_cpu_seconds_total{mode=\"idle\"}[5m]) * 100))",
          MEMORY, "avg((1 - (node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)) * 100)",
          DISK,
              "avg((node_filesystem_size_bytes - node_filesystem_free_bytes) /"
                  + " node_filesystem_size_bytes * 100)");

  /**
   * The guide's system metrics (システムメトリクス) per instance: CPU as written there, memory and disk
   * averaged by instance (one memory series per instance; disk over its filesystems).
   */
  static final Map<String, String> PER_INSTANCE =
      ordered(
          CPU,
          "100 - (avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[5m])) * 100)",
          MEMORY,
          "avg by (instance) ((1 - (node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes))"
              + " * 100)",
          DISK,
          "avg by (instance) ((node_filesystem_size_bytes - node_filesystem_free_bytes) /"
              + " node_filesystem_size_bytes * 100)");

  private static final Set<String> VALUE_OPTIONS = Set.of("--prometheus", "--rate-window");
  private static final Set<String> FLAGS = Set.of("--json");

  private CapacityCommand() {}

  static int run(List<String> args, Context context) throws ReportException, UsageException {
    Arguments arguments = Arguments.parse(args, VALUE_OPTIONS, FLAGS);
    Prometheus prometheus = new Prometheus(arguments.required("--prometheus"), Context.JSON);
    String window = arguments.value("--rate-window", "5m");
    if (!Promql.isDuration(window)) {
      throw new UsageException(
          "--rate-window " + window + " is not a Prometheus duration such as 5m or 30s");
    }
    double time = context.now();

    Map<String, Double> averaged = new LinkedHashMap<>();
    Map<String, Map<String, Double>> byInstance = new TreeMap<>();
    for (Map.Entry<String, String> entry : AVERAGED.entrySet()) {
      String query = Promql.withRange(entry.getValue(), window);
      List<Prometheus.Sample> samples = prometheus.query(query, time);
      if (samples.isEmpty()) {
        throw new ReportException(
            "no data for "
                + entry.getKey()
                + " (is node exporter scraped by this Prometheus?): "
                + query);
      }
      double value = samples.get(0).value();
      if (Double.isNaN(value)) {
        throw new ReportException(
            entry.getKey() + " is NaN (a zero-sized filesystem or counter?): " + query);
      }
      averaged.put(entry.getKey(), value);
    }
    for (Map.Entry<String, String> entry : PER_INSTANCE.entrySet()) {
      String query = Promql.withRange(entry.getValue(), window);
      for (Prometheus.Sample sample : prometheus.query(query, time)) {
        byInstance
            .computeIfAbsent(sample.label("instance"), i -> new LinkedHashMap<>())
            .put(entry.getKey(), sample.value());
      }
    }

    if (arguments.flag("--json")) {
      ObjectNode root = Context.JSON.createObjectNode();
      root.put("prometheus", prometheus.url());
      root.put("time", Context.seconds(time));
      root.put("evaluated_at", Context.iso(time));
      root.put("rate_window", window);
      put(root.putObject("average"), averaged);
      ObjectNode instances = root.putObject("instances");
      byInstance.forEach((instance, values) -> put(instances.putObject(instance), values));
      context.printJson(root);
    } else {
      Table table = new Table("INSTANCE", CPU, MEMORY, DISK);
      byInstance.forEach((instance, values) -> table.row(row(instance, values)));
      table.row(row("average", averaged));
      String nl = System.lineSeparator();
      context
          .out()
          .print(
              "Capacity on "
                  + prometheus.url()
                  + " at "
                  + Context.iso(time)
                  + " (CPU rate over "
                  + window
                  + ")"
                  + nl
                  + nl
                  + table.render(""));
    }
    return 0;
  }

  private static void put(ObjectNode node, Map<String, Double> values) {
    for (String key : AVERAGED.keySet()) {
      Context.putNumber(node, key, values.getOrDefault(key, Double.NaN));
    }
  }

  private static String[] row(String name, Map<String, Double> values) {
    String[] cells = new String[1 + AVERAGED.size()];
    cells[0] = name;
    int i = 1;
    for (String key : AVERAGED.keySet()) {
      double value = values.getOrDefault(key, Double.NaN);
      cells[i++] = Double.isNaN(value) ? "-" : Table.number(value, 1) + "%";
    }
    return cells;
  }

  private static Map<String, String> ordered(String... keysAndValues) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return java.util.Collections.unmodifiableMap(map);
  }
}
