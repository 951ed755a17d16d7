package io.conea.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conea.report.Arguments.UsageException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code conea-report alerts}: the alerts an Alertmanager has firing (active, neither silenced nor
 * inhibited), from its API v2, grouped by severity.
 */
final class AlertsCommand {

  static final String USAGE =
      """
      Usage: conea-report alerts --alertmanager URL [--json]

      Lists the firing alerts of an Alertmanager (active, not silenced, not inhibited; its API v2),
      grouped by their severity label: critical, warning, info, any other, then alerts without one.

      Options:
        --alertmanager URL  Alertmanager's base URL, e.g. http://alertmanager:9093 (required)
        --json              print JSON instead of a table
        -h, --help          print this help

      Exit codes: 0 the list was read (whether or not alerts fire), 2 it could not be (bad usage,
      Alertmanager unreachable, HTTP error), with a one-line reason on stderr.
      """;

  static final String PATH = "/api/v2/alerts?active=true&silenced=false&inhibited=false";

  /** The severity group of alerts without a severity label. */
  static final String NO_SEVERITY = "none";

  private static final List<String> SEVERITY_ORDER = List.of("critical", "warning", "info");
  private static final Set<String> VALUE_OPTIONS = Set.of("--alertmanager");
  private static final Set<String> FLAGS = Set.of("--json");

  /** One firing alert. */
  record Alert(
      String name,
      String severity,
      String startsAt,
      Map<String, String> labels,
      Map<String, String> annotations,
      String fingerprint) {}

  private AlertsCommand() {}

  static int run(List<String> args, Context context) throws ReportException, UsageException {
    Arguments arguments = Arguments.parse(args, VALUE_OPTIONS, FLAGS);
    HttpApi api = new HttpApi("Alertmanager", arguments.required("--alertmanager"), Context.JSON);
    HttpApi.Answer answer = api.get(PATH);
    if (answer.status() != 200) {
      throw new ReportException(
          "Alertmanager at "
              + api.base()
              + " answered HTTP "
              + answer.status()
              + " to "
              + PATH
              + ": "
              + HttpApi.excerpt(answer.body()));
    }
    if (!answer.json().isArray()) {
      throw new ReportException(
          "Alertmanager at "
              + api.base()
              + " did not answer a list of alerts: "
              + HttpApi.excerpt(answer.body()));
    }
    Map<String, List<Alert>> bySeverity = group(parse(answer.json()));
    int firing = bySeverity.values().stream().mapToInt(List::size).sum();

    if (arguments.flag("--json")) {
      ObjectNode root = Context.JSON.createObjectNode();
      root.put("alertmanager", api.base());
      root.put("firing", firing);
      ObjectNode groups = root.putObject("by_severity");
      bySeverity.forEach(
          (severity, alerts) -> {
            ArrayNode list = groups.putArray(severity);
            for (Alert alert : alerts) {
              ObjectNode node = list.addObject();
              node.put("alertname", alert.name());
              node.put("starts_at", alert.startsAt());
              ObjectNode labels = node.putObject("labels");
              alert.labels().forEach(labels::put);
              ObjectNode annotations = node.putObject("annotations");
              alert.annotations().forEach(annotations::put);
              node.put("fingerprint", alert.fingerprint());
            }
          });
      context.printJson(root);
      return 0;
    }
    String nl = System.lineSeparator();
    StringBuilder out = new StringBuilder();
    if (firing == 0) {
      out.append("No firing alerts on ").append(api.base()).append('.').append(nl);
    } else {
      out.append(firing)
          .append(firing == 1 ? " firing alert on " : " firing alerts on ")
          .append(api.base())
          .append(nl);
      bySeverity.forEach(
          (severity, alerts) -> {
            out.append(nl)
                .append(severity)
                .append(" (")
                .append(alerts.size())
                .append(')')
                .append(nl);
            Table table = new Table("ALERT", "SINCE", "LABELS", "SUMMARY");
            for (Alert alert : alerts) {
              table.row(alert.name(), alert.startsAt(), otherLabels(alert), summary(alert));
            }
            out.append(table.render("  "));
          });
    }
    context.out().print(out);
    return 0;
  }

  static List<Alert> parse(JsonNode list) {
    List<Alert> alerts = new ArrayList<>();
    for (JsonNode node : list) {
      Map<String, String> labels = strings(node.path("labels"));
      Map<String, String> annotations = strings(node.path("annotations"));
      String severity = labels.getOrDefault("severity", "");
      alerts.add(
          new Alert(
              labels.getOrDefault("alertname", ""),
              severity.isBlank() ? NO_SEVERITY : severity,
              node.path("startsAt").asText(""),
              labels,
              annotations,
              node.path("fingerprint").asText("")));
    }
    return alerts;
  }

  /** The alerts by severity, most severe first, each group by name and start. */
  static Map<String, List<Alert>> group(List<Alert> alerts) {
    Map<String, List<Alert>> groups = new TreeMap<>(AlertsCommand::compareSeverities);
    for (Alert alert : alerts) {
      groups.computeIfAbsent(alert.severity(), s -> new ArrayList<>()).add(alert);
    }
    groups
        .values()
        .forEach(
            list ->
                list.sort(
                    Comparator.comparing(Alert::name)
                        .thenComparing(Alert::startsAt)
                        .thenComparing(Alert::fingerprint)));
    return groups;
  }

  private static int compareSeverities(String a, String b) {
    int byRank = Integer.compare(rank(a), rank(b));
    return byRank != 0 ? byRank : a.compareTo(b);
  }

  private static int rank(String severity) {
    int index = SEVERITY_ORDER.indexOf(severity);
    if (index >= 0) {
      return index;
    }
    return severity.equals(NO_SEVERITY) ? SEVERITY_ORDER.size() + 1 : SEVERITY_ORDER.size();
  }

  private static String otherLabels(Alert alert) {
    List<String> parts = new ArrayList<>();
    alert
        .labels()
        .forEach(
            (name, value) -> {
              if (!name.equals("alertname") && !name.equals("severity")) {
                parts.add(name + "=" + value);
              }
            });
    return parts.isEmpty() ? "-" : String.join(", ", parts);
  }

  private static String summary(Alert alert) {
    String text = alert.annotations().getOrDefault("summary", "");
    if (text.isBlank()) {
      text = alert.annotations().getOrDefault("description", "");
    }
    return text.isBlank() ? "-" : ReportException.oneLine(text);
  }

  private static Map<String, String> strings(JsonNode object) {
    Map<String, String> map = new TreeMap<>();
    for (Map.Entry<String, JsonNode> entry : object.properties()) {
      map.put(entry.getKey(), entry.getValue().asText());
    }
    return map;
  }
}
