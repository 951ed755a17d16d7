package io.conea.monitoring;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The part of LogQL the monitoring guide's queries use, evaluated the way Loki does on a list of
 * log entries: stream selector, line filters, the {@code json} parser, label filters, and {@code
 * sum by (...) (rate(... [range]))} over a range that holds every entry.
 *
 * <p>A query is built from the syntax tree that Grafana's LogQL grammar (@grafana/lezer-logql, run
 * by monitoring/logql/parse.mjs) produced for it, so the structure evaluated is the grammar's, not
 * a second reading of the text. Anything outside that part of the language is refused with {@link
 * UnsupportedOperationException} rather than evaluated wrongly.
 *
 * <p>The semantics follow Loki's pkg/logql/log: {@code | json} extracts strings, numbers (their
 * text) and booleans, flattens nested objects with {@code _} between the keys ({@code
 * metadata.model} becomes {@code metadata_model}), skips arrays and nulls, replaces characters not
 * allowed in a label name with {@code _}, and renames a key that is already a stream label to
 * {@code <key>_extracted}; a line that is not a JSON object gets {@code __error__=JSONParserErr}. A
 * string label filter compares a missing label as "". A numeric filter drops an entry whose label
 * is missing, and keeps, with {@code __error__=LabelFilterErr}, one whose value is not a number or
 * that already has an error. A metric query over an entry with an error fails, as in Loki.
 */
final class LogQl {

  static final String ERROR_LABEL = "__error__";

  /** One node of the syntax tree: its type, its text (leaves only) and its children. */
  record Node(String type, String text, List<Node> children) {

    static Node of(JsonNode json) {
      List<Node> children = new ArrayList<>();
      json.path("children").forEach(child -> children.add(of(child)));
      return new Node(json.path("type").asText(), json.path("text").asText(""), children);
    }

    Optional<Node> child(String childType) {
      return children.stream().filter(child -> child.type.equals(childType)).findFirst();
    }

    Node only(String childType) {
      return child(childType)
          .orElseThrow(() -> unsupported("a " + type + " without " + childType, this));
    }

    /** Every node of the subtree with this type, in the order of the query text. */
    List<Node> all(String nodeType) {
      List<Node> found = new ArrayList<>();
      collect(nodeType, found);
      return found;
    }

    private void collect(String nodeType, List<Node> found) {
      if (type.equals(nodeType)) {
        found.add(this);
        return;
      }
      children.forEach(child -> child.collect(nodeType, found));
    }

    /** The node and its subtree as an S-expression, for messages. */
    @Override
    public String toString() {
      return children.isEmpty()
          ? type + "[" + text + "]"
          : type + children.stream().map(Node::toString).toList();
    }
  }

  /** A log entry as Loki stores it: the labels of its stream and its line. */
  record Entry(Map<String, String> stream, String line) {}

  /** An entry that a log query selected, with the labels the pipeline gave it. */
  record Selected(Entry entry, Map<String, String> labels) {

    Optional<String> error() {
      return Optional.ofNullable(labels.get(ERROR_LABEL));
    }
  }

  /** A parsed query: a log query, or a metric query over one. */
  sealed interface Query permits LogQuery, SumByRate {

    static Query of(Node logql) {
      Node expr = logql.only("Expr");
      if (expr.child("LogExpr").isPresent()) {
        Node log = expr.only("LogExpr");
        return LogQuery.of(log.only("Selector"), log.child("PipelineExpr"));
      }
      return SumByRate.of(expr.only("MetricExpr"));
    }
  }

  /** {@code {selector} | stage | stage ...}. */
  record LogQuery(List<Predicate<Map<String, String>>> selector, List<Stage> stages)
      implements Query {

    static LogQuery of(Node selectorNode, Optional<Node> pipeline) {
      List<Predicate<Map<String, String>>> selector = new ArrayList<>();
      for (Node matcher : selectorNode.all("Matcher")) {
        selector.add(matcher(matcher));
      }
      List<Stage> stages = new ArrayList<>();
      pipeline.ifPresent(
          node -> node.all("PipelineStage").forEach(stage -> stages.add(stage(stage))));
      return new LogQuery(selector, stages);
    }

    /** The entries of the matching streams that pass every stage, with their labels. */
    List<Selected> select(List<Entry> entries) {
      List<Selected> selected = new ArrayList<>();
      for (Entry entry : entries) {
        if (!selector.stream().allMatch(matcher -> matcher.test(entry.stream()))) {
          continue;
        }
        Map<String, String> labels = new TreeMap<>(entry.stream());
        boolean kept = true;
        for (Stage stage : stages) {
          if (!stage.process(entry, labels)) {
            kept = false;
            break;
          }
        }
        if (kept) {
          selected.add(new Selected(entry, labels));
        }
      }
      return selected;
    }
  }

  /**
   * {@code sum by (labels) (rate(log query [range]))} (or {@code count_over_time}), evaluated at an
   * instant whose range holds every entry given.
   */
  record SumByRate(List<String> by, String function, Duration range, LogQuery logQuery)
      implements Query {

    static SumByRate of(Node metric) {
      Node aggregation = metric.only("VectorAggregationExpr");
      String op = aggregation.only("VectorOp").children().get(0).type();
      if (!op.equals("Sum")) {
        throw unsupported("vector aggregation " + op, aggregation);
      }
      Node grouping = aggregation.only("Grouping");
      if (grouping.child("By").isEmpty()) {
        throw unsupported("grouping other than by", grouping);
      }
      List<String> by = grouping.only("Labels").all("Identifier").stream().map(Node::text).toList();
      Node range = aggregation.only("MetricExpr").only("RangeAggregationExpr");
      String function = range.only("RangeOp").children().get(0).type();
      if (!function.equals("Rate") && !function.equals("CountOverTime")) {
        throw unsupported("range function " + function, range);
      }
      Node logRange = range.only("LogRangeExpr");
      if (logRange.child("OffsetExpr").isPresent() || logRange.child("UnwrapExpr").isPresent()) {
        throw unsupported("offset or unwrap", logRange);
      }
      Duration window = duration(logRange.only("Range").only("Duration").text());
      return new SumByRate(
          by,
          function,
          window,
          LogQuery.of(logRange.only("Selector"), logRange.child("PipelineExpr")));
    }

    /**
     * The value of each output series, keyed by its labels (the {@code by} labels, "" when missing,
     * as Loki groups them).
     */
    Map<Map<String, String>, Double> evaluate(List<Entry> entries) {
      Map<Map<String, String>, Double> series = new LinkedHashMap<>();
      for (Selected selected : logQuery.select(entries)) {
        selected
            .error()
            .ifPresent(
                error -> {
                  throw new IllegalStateException(
                      "pipeline error " + error + " on line " + selected.entry().line());
                });
        Map<String, String> group = new TreeMap<>();
        for (String label : by) {
          group.put(label, selected.labels().getOrDefault(label, ""));
        }
        double increment = function.equals("Rate") ? 1.0 / range.toSeconds() : 1.0;
        series.merge(group, increment, Double::sum);
      }
      return series;
    }
  }

  /** One stage of a pipeline: returns whether the entry goes on, and may add labels. */
  interface Stage {
    boolean process(Entry entry, Map<String, String> labels);
  }

  private LogQl() {}

  private static Stage stage(Node stage) {
    Optional<Node> lineFilters = stage.child("LineFilters");
    if (lineFilters.isPresent()) {
      List<Stage> filters = new ArrayList<>();
      for (Node filter : lineFilters.get().all("LineFilter")) {
        filters.add(lineFilter(filter));
      }
      return (entry, labels) -> filters.stream().allMatch(f -> f.process(entry, labels));
    }
    Optional<Node> parser = stage.child("LabelParser");
    if (parser.isPresent()) {
      if (parser.get().children().size() != 1 || parser.get().child("Json").isEmpty()) {
        throw unsupported("a parser other than a plain json", parser.get());
      }
      return (entry, labels) -> {
        labels.putAll(json(entry.line(), entry.stream().keySet()));
        return true;
      };
    }
    Optional<Node> labelFilter = stage.child("LabelFilter");
    if (labelFilter.isPresent()) {
      return labelFilter(labelFilter.get());
    }
    throw unsupported("pipeline stage", stage);
  }

  private static Stage lineFilter(Node filter) {
    List<Node> children = filter.children();
    if (children.size() != 2 || !children.get(1).type().equals("String")) {
      throw unsupported("line filter", filter);
    }
    String op = filter.only("Filter").children().get(0).type();
    String text = unquote(children.get(1).text());
    return switch (op) {
      case "PipeExact" -> (entry, labels) -> entry.line().contains(text);
      case "Neq" -> (entry, labels) -> !entry.line().contains(text);
      default -> throw unsupported("line filter " + op, filter);
    };
  }

  private static Stage labelFilter(Node filter) {
    if (filter.children().size() != 1) {
      throw unsupported("label filter", filter);
    }
    Node inner = filter.children().get(0);
    if (inner.type().equals("Matcher")) {
      Predicate<Map<String, String>> matcher = matcher(inner);
      return (entry, labels) -> matcher.test(labels);
    }
    if (inner.type().equals("NumberFilter")) {
      String name = inner.only("Identifier").text();
      String op = inner.children().get(1).type();
      double value = number(inner.only("LiteralExpr"));
      return (entry, labels) -> numeric(labels, name, op, value);
    }
    throw unsupported("label filter " + inner.type(), filter);
  }

  /** Loki's NumericLabelFilter. */
  static boolean numeric(Map<String, String> labels, String name, String op, double value) {
    if (labels.containsKey(ERROR_LABEL)) {
      return true;
    }
    String text = labels.get(name);
    if (text == null) {
      return false;
    }
    double actual;
    try {
      actual = Double.parseDouble(text.strip());
    } catch (NumberFormatException e) {
      labels.put(ERROR_LABEL, "LabelFilterErr");
      return true;
    }
    return switch (op) {
      case "Gtr" -> actual > value;
      case "Gte" -> actual >= value;
      case "Lss" -> actual < value;
      case "Lte" -> actual <= value;
      case "Eq", "Eql" -> actual == value;
      case "Neq" -> actual != value;
      default -> throw new UnsupportedOperationException("numeric comparison " + op);
    };
  }

  /** A label matcher of a selector or a string label filter: a missing label compares as "". */
  private static Predicate<Map<String, String>> matcher(Node matcher) {
    String name = matcher.only("Identifier").text();
    String op = matcher.children().get(1).type();
    String value = unquote(matcher.only("String").text());
    return switch (op) {
      case "Eq" -> labels -> labels.getOrDefault(name, "").equals(value);
      case "Neq" -> labels -> !labels.getOrDefault(name, "").equals(value);
      case "Re" ->
          labels -> Pattern.compile(value).matcher(labels.getOrDefault(name, "")).matches();
      case "Nre" ->
          labels -> !Pattern.compile(value).matcher(labels.getOrDefault(name, "")).matches();
      default -> throw unsupported("matcher " + op, matcher);
    };
  }

  /**
   * The labels Loki's {@code | json} extracts from {@code line}, given the names of the stream's
   * labels; with {@code __error__=JSONParserErr} (and what was extracted before the error) when the
   * line is not one JSON object.
   */
  static Map<String, String> json(String line, Set<String> streamLabels) {
    Map<String, String> labels = new LinkedHashMap<>();
    try (JsonParser parser = Assets.JSON.getFactory().createParser(line)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        labels.put(ERROR_LABEL, "JSONParserErr");
        return labels;
      }
      // Like Loki's parser, what follows the first object is not read.
      object(parser, "", streamLabels, labels);
    } catch (IOException e) {
      labels.put(ERROR_LABEL, "JSONParserErr");
    }
    return labels;
  }

  private static void object(
      JsonParser parser, String prefix, Set<String> streamLabels, Map<String, String> out)
      throws IOException {
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String key = parser.currentName();
      String name = prefix.isEmpty() ? sanitize(key, true) : prefix + "_" + sanitize(key, false);
      JsonToken value = parser.nextToken();
      switch (value) {
        case START_OBJECT -> object(parser, name, streamLabels, out);
        case START_ARRAY -> parser.skipChildren();
        case VALUE_NULL -> {}
        case VALUE_STRING, VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE -> {
          String label = streamLabels.contains(name) ? name + "_extracted" : name;
          // For a number, getText() is its text in the line, as Loki keeps it.
          out.put(label, parser.getText());
        }
        default -> throw new IOException("unexpected " + value);
      }
    }
  }

  /** Loki's sanitizeLabelKey: characters outside [a-zA-Z0-9_] become _, a leading digit gets _. */
  static String sanitize(String key, boolean first) {
    String trimmed = key.strip();
    StringBuilder name = new StringBuilder();
    if (first && !trimmed.isEmpty() && Character.isDigit(trimmed.charAt(0))) {
      name.append('_');
    }
    for (char c : trimmed.toCharArray()) {
      boolean valid =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      name.append(valid ? c : '_');
    }
    return name.toString();
  }

  /** A LogQL string literal: "..." with Go escapes, or `...` raw. */
  static String unquote(String literal) {
    if (literal.length() >= 2 && literal.startsWith("`") && literal.endsWith("`")) {
      return literal.substring(1, literal.length() - 1);
    }
    if (literal.length() < 2 || !literal.startsWith("\"") || !literal.endsWith("\"")) {
      throw new UnsupportedOperationException("string literal " + literal);
    }
    StringBuilder text = new StringBuilder();
    for (int i = 1; i < literal.length() - 1; i++) {
      char c = literal.charAt(i);
      if (c != '\\') {
        text.append(c);
        continue;
      }
      char escaped = literal.charAt(++i);
      switch (escaped) {
        case 'n' -> text.append('\n');
        case 't' -> text.append('\t');
        case 'r' -> text.append('\r');
        case '"', '\\' -> text.append(escaped);
        case 'u' -> {
          text.append((char) Integer.parseInt(literal.substring(i + 1, i + 5), 16));
          i += 4;
        }
        default ->
            throw new UnsupportedOperationException("escape \\" + escaped + " in " + literal);
      }
    }
    return text.toString();
  }

  private static double number(Node literal) {
    List<Node> parts = literal.children();
    if (parts.size() == 1 && parts.get(0).type().equals("Number")) {
      return Double.parseDouble(parts.get(0).text());
    }
    if (parts.size() == 2 && parts.get(1).type().equals("Number")) {
      double value = Double.parseDouble(parts.get(1).text());
      return switch (parts.get(0).type()) {
        case "Add" -> value;
        case "Sub" -> -value;
        default -> throw unsupported("number", literal);
      };
    }
    throw unsupported("number", literal);
  }

  /** A LogQL duration: a number and a unit, e.g. 5m, 30s, 1h. */
  static Duration duration(String text) {
    var matcher = Pattern.compile("(\\d+)(ms|s|m|h|d|w)").matcher(text);
    if (!matcher.matches()) {
      throw new UnsupportedOperationException("duration " + text);
    }
    long amount = Long.parseLong(matcher.group(1));
    return switch (matcher.group(2)) {
      case "ms" -> Duration.ofMillis(amount);
      case "s" -> Duration.ofSeconds(amount);
      case "m" -> Duration.ofMinutes(amount);
      case "h" -> Duration.ofHours(amount);
      case "d" -> Duration.ofDays(amount);
      default -> Duration.ofDays(7 * amount);
    };
  }

  private static UnsupportedOperationException unsupported(String what, Node node) {
    return new UnsupportedOperationException(
        "the evaluator does not support " + what + ": " + node);
  }
}
