package io.conea.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * SLIs and SLOs in the monitoring guide's format: {@code slis:} maps a name to a {@code metric}
 * (PromQL), {@code slos:} lists objectives on them.
 *
 * @param source where the file came from, for messages and the report's header
 * @param slis the SLIs by name, in file order
 * @param slos the SLOs, in file order
 */
record SloFile(String source, Map<String, Sli> slis, List<Slo> slos) {

  /** The default file, relative to the working directory. */
  static final Path DEFAULT = Path.of("monitoring", "slo", "slos.yml");

  /** The copy of monitoring/slo/slos.yml inside the jar, used when the default file is absent. */
  static final String PACKAGED = "/io/conea/report/slos.yml";

  static final String DEFAULT_WINDOW = "30d";

  private static final Set<String> SLI_KEYS = Set.of("metric", "description");
  private static final Set<String> SLO_KEYS =
      Set.of(
          "name",
          "sli",
          "target",
          "target_value",
          "target_percentile",
          "window",
          "objective",
          "description");

  /** A service level indicator: its name and its PromQL. */
  record Sli(String name, String metric) {}

  /** Whether the SLI must stay at or above the target, or at or below it. */
  enum Objective {
    AT_LEAST(">="),
    AT_MOST("<=");

    final String symbol;

    Objective(String symbol) {
      this.symbol = symbol;
    }

    String key() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * A service level objective.
   *
   * @param target a percentage the SLI (a ratio) times 100 is held to, or null
   * @param targetValue a value in the SLI's own unit, or null (exactly one of the two is set)
   * @param targetPercentile the quantile of a histogram_quantile SLI, in percent, or null
   */
  record Slo(
      String name,
      String sli,
      @Nullable Double target,
      @Nullable Double targetValue,
      @Nullable Double targetPercentile,
      String window,
      Objective objective) {

    /** True when the target is a percentage (the SLI is a ratio shown times 100). */
    boolean percent() {
      return target != null;
    }

    double threshold() {
      Double value = target != null ? target : targetValue;
      return value == null ? Double.NaN : value;
    }
  }

  /**
   * Reads {@code file}, or when it is null the default file under {@code workingDir}, or when that
   * is absent the copy packaged with conea-report.
   */
  static SloFile load(@Nullable String file, Path workingDir, ObjectMapper yaml)
      throws ReportException {
    if (file != null) {
      Path path = workingDir.resolve(file);
      return parse(read(path, file), file, yaml);
    }
    Path path = workingDir.resolve(DEFAULT);
    if (Files.isRegularFile(path)) {
      return parse(read(path, DEFAULT.toString()), DEFAULT.toString(), yaml);
    }
    try (InputStream in = SloFile.class.getResourceAsStream(PACKAGED)) {
      if (in == null) {
        throw new ReportException(
            "no SLO file: " + DEFAULT + " is not in " + workingDir + "; name one with --slos FILE");
      }
      return parse(
          new String(in.readAllBytes(), StandardCharsets.UTF_8), "built-in slos.yml", yaml);
    } catch (IOException e) {
      throw new ReportException("cannot read the built-in slos.yml: " + e);
    }
  }

  private static String read(Path path, String name) throws ReportException {
    try {
      return Files.readString(path, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ReportException("cannot read the SLO file " + name + ": no such file");
    } catch (IOException e) {
      throw new ReportException("cannot read the SLO file " + name + ": " + e.getMessage());
    }
  }

  /** Parses and checks an SLO file's text; {@code source} names it in messages. */
  static SloFile parse(String text, String source, ObjectMapper yaml) throws ReportException {
    JsonNode root;
    try {
      root = yaml.readTree(text);
    } catch (JsonProcessingException e) {
      throw new ReportException(source + ": not valid YAML: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new ReportException(source + ": expected a mapping with slis: and slos:");
    }
    JsonNode slisNode = root.path("slis");
    if (!slisNode.isObject() || slisNode.isEmpty()) {
      throw new ReportException(source + ": slis: must map each SLI's name to its metric");
    }
    Map<String, Sli> slis = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> entry : slisNode.properties()) {
      String where = source + ": slis." + entry.getKey();
      JsonNode node = entry.getValue();
      if (!node.isObject()) {
        throw new ReportException(where + ": expected a mapping with metric:");
      }
      unknownKeys(node, SLI_KEYS, where);
      String metric = text(node, "metric", where);
      if (metric == null) {
        throw new ReportException(where + ": metric: is missing");
      }
      slis.put(entry.getKey(), new Sli(entry.getKey(), metric.strip()));
    }
    JsonNode slosNode = root.path("slos");
    if (!slosNode.isArray() || slosNode.isEmpty()) {
      throw new ReportException(source + ": slos: must be a list of SLOs");
    }
    List<Slo> slos = new ArrayList<>();
    Set<String> names = new TreeSet<>();
    for (int i = 0; i < slosNode.size(); i++) {
      JsonNode node = slosNode.get(i);
      String where = source + ": slos[" + i + "]";
      if (!node.isObject()) {
        throw new ReportException(where + ": expected a mapping with name:, sli: and a target");
      }
      String name = text(node, "name", where);
      if (name != null) {
        where += " (" + name + ")";
      }
      unknownKeys(node, SLO_KEYS, where);
      if (name == null) {
        throw new ReportException(where + ": name: is missing");
      }
      if (!names.add(name)) {
        throw new ReportException(where + ": a second SLO named " + name);
      }
      String sli = text(node, "sli", where);
      if (sli == null) {
        throw new ReportException(where + ": sli: is missing");
      }
      if (!slis.containsKey(sli)) {
        throw new ReportException(
            where
                + ": sli: "
                + sli
                + " is not in slis: ("
                + String.join(", ", slis.keySet())
                + ")");
      }
      Double target = number(node, "target", where);
      Double targetValue = number(node, "target_value", where);
      Double percentile = number(node, "target_percentile", where);
      if ((target == null) == (targetValue == null)) {
        throw new ReportException(
            where + ": give either target: (a percentage) or target_value: (in the SLI's unit)");
      }
      if (target != null && (target < 0 || target > 100)) {
        throw new ReportException(
            where + ": target: is a percentage, from 0 to 100, not " + target);
      }
      if (percentile != null) {
        if (targetValue == null) {
          throw new ReportException(where + ": target_percentile: goes with target_value:");
        }
        if (percentile <= 0 || percentile >= 100) {
          throw new ReportException(
              where + ": target_percentile: is a percentile between 0 and 100, not " + percentile);
        }
      }
      String window = text(node, "window", where);
      if (window == null) {
        window = DEFAULT_WINDOW;
      } else if (!Promql.isDuration(window)) {
        throw new ReportException(
            where + ": window: " + window + " is not a Prometheus duration such as 30d or 12h");
      }
      String objectiveText = text(node, "objective", where);
      Objective objective;
      if (objectiveText == null) {
        objective =
            targetValue != null || sli.toLowerCase(Locale.ROOT).contains("error")
                ? Objective.AT_MOST
                : Objective.AT_LEAST;
      } else if (objectiveText.equals("at_least")) {
        objective = Objective.AT_LEAST;
      } else if (objectiveText.equals("at_most")) {
        objective = Objective.AT_MOST;
      } else {
        throw new ReportException(
            where + ": objective: is at_least or at_most, not " + objectiveText);
      }
      slos.add(new Slo(name, sli, target, targetValue, percentile, window, objective));
    }
    return new SloFile(source, slis, slos);
  }

  private static void unknownKeys(JsonNode node, Set<String> known, String where)
      throws ReportException {
    List<String> unknown = new ArrayList<>();
    for (Map.Entry<String, JsonNode> entry : node.properties()) {
      if (!known.contains(entry.getKey())) {
        unknown.add(entry.getKey());
      }
    }
    if (!unknown.isEmpty()) {
      throw new ReportException(
          where
              + ": unknown key"
              + (unknown.size() == 1 ? " " : "s ")
              + String.join(", ", unknown)
              + " (known: "
              + String.join(", ", new TreeSet<>(known))
              + ")");
    }
  }

  private static @Nullable String text(JsonNode node, String key, String where)
      throws ReportException {
    JsonNode value = node.get(key);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isValueNode() || value.asText().isBlank()) {
      throw new ReportException(where + ": " + key + ": must be a non-empty text");
    }
    return value.asText();
  }

  private static @Nullable Double number(JsonNode node, String key, String where)
      throws ReportException {
    JsonNode value = node.get(key);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isNumber() || !Double.isFinite(value.asDouble())) {
      throw new ReportException(where + ": " + key + ": must be a number, not " + value);
    }
    return value.asDouble();
  }
}
