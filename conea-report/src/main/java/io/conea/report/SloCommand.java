package io.conea.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conea.report.Arguments.UsageException;
import io.conea.report.SloFile.Objective;
import io.conea.report.SloFile.Sli;
import io.conea.report.SloFile.Slo;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * {@code conea-report slo}: evaluates each SLO of an SLO file over its window through Prometheus'
 * HTTP API, with the guide's keys ({@code slo_name}, {@code target}, {@code current}, {@code
 * compliant}, {@code margin}), the error budget left and the 1 h burn rate.
 */
final class SloCommand {

  static final String USAGE =
      """
      Usage: conea-report slo --prometheus URL [--slos FILE] [--window DURATION] [--json]

      Evaluates the SLOs of an SLO file in the monitoring guide's format (slis: and slos:) through
      Prometheus' HTTP API. Each SLI's metric is evaluated over its SLO's window: the range of every
      range selector ([5m]) is replaced with the window ([30d]).

      For each SLO: slo_name, target, current, compliant and margin (the guide's keys; margin is
      positive when the SLO is met), the error budget left (100% untouched, 0% spent, below 0
      overspent) and the burn rate over the last hour (1 = spending the budget exactly over the
      window). Every query is evaluated at the same instant.

      Options:
        --prometheus URL   Prometheus' base URL, e.g. http://prometheus:9090 (required)
        --slos FILE        the SLO file (default: monitoring/slo/slos.yml under the working
                           directory, or the copy built into conea-report when it is absent)
        --window DURATION  evaluate every SLO over this window instead of its own, e.g. 7d
        --json             print JSON instead of a table
        -h, --help         print this help

      Exit codes: 0 every SLO met, 1 an SLO missed, 2 the SLOs could not be evaluated (bad
      usage or SLO file, Prometheus unreachable, HTTP or query error, no data); 1 and 2 come with
      a one-line reason on stderr.
      """;

  private static final Set<String> VALUE_OPTIONS = Set.of("--prometheus", "--slos", "--window");
  private static final Set<String> FLAGS = Set.of("--json");

  /** The burn rate's window. */
  static final String BURN_WINDOW = "1h";

  /**
   * One SLO's evaluation. Values that could not be computed are NaN; {@code error} says why the SLO
   * itself could not be evaluated (then {@code current} is NaN).
   */
  record Result(
      Slo slo,
      String window,
      String query,
      double current,
      boolean compliant,
      double margin,
      double budgetRemaining,
      double burnRate,
      @Nullable String error) {

    boolean evaluated() {
      return error == null;
    }
  }

  private SloCommand() {}

  static int run(List<String> args, Context context) throws ReportException, UsageException {
    Arguments arguments = Arguments.parse(args, VALUE_OPTIONS, FLAGS);
    Prometheus prometheus = new Prometheus(arguments.required("--prometheus"), Context.JSON);
    String window = arguments.value("--window");
    if (window != null && !Promql.isDuration(window)) {
      throw new UsageException(
          "--window " + window + " is not a Prometheus duration such as 30d or 12h");
    }
    SloFile file = SloFile.load(arguments.value("--slos"), context.workingDir(), Context.YAML);
    double time = context.now();
    List<Result> results = new ArrayList<>();
    for (Slo slo : file.slos()) {
      results.add(
          evaluate(
              slo,
              file.slis().get(slo.sli()),
              window == null ? slo.window() : window,
              prometheus,
              time));
    }

    if (arguments.flag("--json")) {
      context.printJson(json(file, prometheus, time, results));
    } else {
      context.out().print(table(file, prometheus, time, results));
    }

    List<Result> failed = results.stream().filter(r -> !r.evaluated()).toList();
    if (!failed.isEmpty()) {
      Result first = failed.get(0);
      throw new ReportException(
          (failed.size() == 1 ? "" : failed.size() + " SLOs cannot be evaluated; ")
              + "SLO "
              + first.slo().name()
              + ": "
              + first.error());
    }
    List<Result> missed = results.stream().filter(r -> !r.compliant()).toList();
    if (!missed.isEmpty()) {
      List<String> reasons = new ArrayList<>();
      for (Result r : missed) {
        reasons.add(
            r.slo().name()
                + " ("
                + value(r.slo(), r.current())
                + (r.slo().objective() == Objective.AT_LEAST ? " < " : " > ")
                + value(r.slo(), r.slo().threshold())
                + ")");
      }
      context
          .err()
          .println(
              "conea-report slo: "
                  + missed.size()
                  + " of "
                  + results.size()
                  + " SLOs missed: "
                  + String.join(", ", reasons));
      return 1;
    }
    return 0;
  }

  /** Evaluates one SLO over {@code window} at {@code time}. */
  static Result evaluate(Slo slo, Sli sli, String window, Prometheus prometheus, double time)
      throws ReportException {
    String metric = sli.metric();
    if (slo.targetPercentile() != null) {
      metric = Promql.withQuantile(metric, slo.targetPercentile() / 100);
    }
    String query = Promql.withRange(metric, window);
    List<Prometheus.Sample> samples = prometheus.query(query, time);
    String error = null;
    if (samples.isEmpty()) {
      error =
          "no data: the SLI's query returned an empty result: " + ReportException.oneLine(query);
    } else if (samples.size() > 1) {
      error =
          "the SLI's query returned "
              + samples.size()
              + " series, not one (aggregate it, e.g. with sum): "
              + ReportException.oneLine(query);
    } else if (Double.isNaN(samples.get(0).value())) {
      error =
          "no data: the SLI is NaN (no requests in "
              + window
              + "?): "
              + ReportException.oneLine(query);
    }
    if (error != null) {
      return new Result(
          slo, window, query, Double.NaN, false, Double.NaN, Double.NaN, Double.NaN, error);
    }
    double raw = samples.get(0).value();
    double current = slo.percent() ? raw * 100 : raw;
    double target = slo.threshold();
    boolean atLeast = slo.objective() == Objective.AT_LEAST;
    boolean compliant = atLeast ? current >= target : current <= target;
    double margin = atLeast ? current - target : target - current;

    double budgetRemaining = Double.NaN;
    double burnRate = Double.NaN;
    if (slo.percent()) {
      // The budget is the share of bad events allowed: 100 - target for availability-like SLIs
      // (good events, at least the target), the target itself for error-rate-like SLIs.
      double allowed = atLeast ? 100 - target : target;
      if (allowed > 0) {
        budgetRemaining = 100 * (1 - bad(current, atLeast) / allowed);
        // An SLI without a range selector (a recording rule) has no last hour to read.
        if (Promql.hasRange(metric)) {
          double lastHour = optional(prometheus, Promql.withRange(metric, BURN_WINDOW), time);
          burnRate = bad(lastHour * 100, atLeast) / allowed;
        }
      }
    } else if (slo.targetPercentile() != null && !atLeast) {
      // p95 <= 0.5 s: at most 5% of the observations above 0.5 s.
      double allowed = 100 - slo.targetPercentile();
      String slowShare = Promql.slowShare(metric, target, window);
      if (slowShare != null) {
        budgetRemaining = 100 * (1 - optional(prometheus, slowShare, time) * 100 / allowed);
        String lastHour = Promql.slowShare(metric, target, BURN_WINDOW);
        burnRate =
            optional(prometheus, lastHour == null ? slowShare : lastHour, time) * 100 / allowed;
      }
    }
    return new Result(
        slo, window, query, current, compliant, margin, budgetRemaining, burnRate, null);
  }

  /** The share of bad events, in percent, for an SLI value in percent. */
  private static double bad(double percent, boolean atLeast) {
    return atLeast ? 100 - percent : percent;
  }

  /** The value of a query that should give one sample, or NaN when it gives none or several. */
  private static double optional(Prometheus prometheus, String query, double time)
      throws ReportException {
    List<Prometheus.Sample> samples = prometheus.query(query, time);
    return samples.size() == 1 ? samples.get(0).value() : Double.NaN;
  }

  private static ObjectNode json(
      SloFile file, Prometheus prometheus, double time, List<Result> results) {
    ObjectNode root = Context.JSON.createObjectNode();
    root.put("prometheus", prometheus.url());
    root.put("slo_file", file.source());
    root.put("time", Context.seconds(time));
    root.put("evaluated_at", Context.iso(time));
    root.put("compliant", results.stream().allMatch(r -> r.evaluated() && r.compliant()));
    ArrayNode slos = root.putArray("slos");
    for (Result r : results) {
      Slo slo = r.slo();
      ObjectNode node = slos.addObject();
      node.put("slo_name", slo.name());
      node.put("sli", slo.sli());
      node.put("window", r.window());
      node.put("objective", slo.objective().key());
      if (slo.percent()) {
        node.put("unit", "%");
      } else {
        node.putNull("unit");
      }
      node.put("target", slo.threshold());
      if (slo.targetPercentile() != null) {
        node.put("target_percentile", slo.targetPercentile());
      }
      Context.putNumber(node, "current", r.current());
      if (r.evaluated()) {
        node.put("compliant", r.compliant());
      } else {
        node.putNull("compliant");
      }
      Context.putNumber(node, "margin", r.margin());
      Context.putNumber(node, "error_budget_remaining_percent", r.budgetRemaining());
      Context.putNumber(node, "burn_rate_1h", r.burnRate());
      node.put("query", r.query());
      if (r.error() != null) {
        node.put("error", r.error());
      }
    }
    return root;
  }

  private static String table(
      SloFile file, Prometheus prometheus, double time, List<Result> results) {
    Table table =
        new Table(
            "SLO",
            "SLI",
            "WINDOW",
            "TARGET",
            "CURRENT",
            "COMPLIANT",
            "MARGIN",
            "BUDGET LEFT",
            "BURN RATE 1H");
    for (Result r : results) {
      Slo slo = r.slo();
      table.row(
          slo.name(),
          slo.sli(),
          r.window(),
          slo.objective().symbol + " " + value(slo, slo.threshold()),
          r.evaluated() ? value(slo, r.current()) : "-",
          r.evaluated() ? (r.compliant() ? "yes" : "no") : "-",
          r.evaluated() ? signed(slo, r.margin()) : "-",
          Double.isNaN(r.budgetRemaining()) ? "-" : Table.number(r.budgetRemaining(), 1) + "%",
          Table.number(r.burnRate(), 2));
    }
    StringBuilder out = new StringBuilder();
    String nl = System.lineSeparator();
    out.append("SLOs of ")
        .append(file.source())
        .append(" on ")
        .append(prometheus.url())
        .append(" at ")
        .append(Context.iso(time))
        .append(nl)
        .append(nl)
        .append(table.render(""));
    long failed = results.stream().filter(r -> !r.evaluated()).count();
    long missed = results.stream().filter(r -> r.evaluated() && !r.compliant()).count();
    out.append(nl);
    for (Result r : results) {
      if (!r.evaluated()) {
        out.append(r.slo().name()).append(": cannot be evaluated: ").append(r.error()).append(nl);
      }
    }
    if (failed > 0) {
      out.append(failed).append(" of ").append(results.size()).append(" SLOs cannot be evaluated");
      out.append(missed > 0 ? ", " + missed + " missed." : ".").append(nl);
    } else if (missed > 0) {
      out.append(missed).append(" of ").append(results.size()).append(" SLOs missed.").append(nl);
    } else {
      out.append("All ").append(results.size()).append(" SLOs met.").append(nl);
    }
    return out.toString();
  }

  /** A target or current value: a percentage with 3 decimals, else the SLI's unit with 4. */
  static String value(Slo slo, double value) {
    if (Double.isInfinite(value)) {
      return value > 0 ? "+Inf" : "-Inf";
    }
    if (slo.percent()) {
      return Promql.number(round(value, 3)) + "%";
    }
    return Promql.number(round(value, 4));
  }

  private static String signed(Slo slo, double margin) {
    if (Double.isInfinite(margin)) {
      return margin > 0 ? "+Inf" : "-Inf";
    }
    String text = String.format(Locale.ROOT, slo.percent() ? "%+.3f" : "%+.4f", margin);
    return slo.percent() ? text + " pp" : text;
  }

  private static double round(double value, int decimals) {
    double scale = Math.pow(10, decimals);
    return Math.round(value * scale) / scale;
  }
}
