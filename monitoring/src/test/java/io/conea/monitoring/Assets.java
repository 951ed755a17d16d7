package io.conea.monitoring;

import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The monitoring assets under test, and the monitoring guide's own code blocks (copied verbatim to
 * src/test/resources/guide) that they must match.
 */
final class Assets {

  static final ObjectMapper JSON = new ObjectMapper();
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** The rule files every Prometheus configuration loads, in load order. */
  static final List<String> RULE_FILES = List.of("alerts.yml", "slo-rules.yml", "slo-alerts.yml");

  /** One PromQL expression of a dashboard panel or a rule, with where it comes from. */
  record Query(String source, String name, String expr) {}

  /** One panel of a dashboard (rows flattened away). */
  record Panel(String dashboard, JsonNode node) {
    String title() {
      return node.path("title").asText();
    }

    String type() {
      return node.path("type").asText();
    }

    List<String> exprs() {
      List<String> exprs = new ArrayList<>();
      node.path("targets").forEach(target -> exprs.add(target.path("expr").asText()));
      return exprs;
    }
  }

  private Assets() {}

  /** The monitoring/ directory (the module's base directory). */
  static Path root() {
    return Path.of(System.getProperty("monitoring.dir", ".")).toAbsolutePath().normalize();
  }

  static Path prometheusDir() {
    return root().resolve("prometheus");
  }

  static Path alertmanagerConfig() {
    return root().resolve("alertmanager/alertmanager.yml");
  }

  static Path grafanaDir() {
    return root().resolve("grafana");
  }

  static List<Path> ruleFiles() {
    return RULE_FILES.stream().map(prometheusDir()::resolve).toList();
  }

  static List<Path> ruleTests() {
    return list(prometheusDir().resolve("tests"), ".yml");
  }

  static List<Path> dashboardFiles() {
    return list(grafanaDir().resolve("dashboards"), ".json");
  }

  static JsonNode yaml(Path file) {
    try {
      return YAML.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  static JsonNode json(Path file) {
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** A code block of the monitoring guide, as text. */
  static String guide(String name) {
    try (InputStream in = Assets.class.getResourceAsStream("/guide/" + name)) {
      if (in == null) {
        return fail("missing test resource guide/" + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode guideYaml(String name) {
    try {
      return YAML.readTree(guide(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode guideJson(String name) {
    try {
      return JSON.readTree(guide(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The expressions of a guide PromQL block: paragraphs separated by blank lines, each a "# title"
   * line followed by one expression (which may span lines).
   */
  static List<Query> guideQueries(String name) {
    List<Query> queries = new ArrayList<>();
    for (String paragraph : guide(name).strip().split("\n\\s*\n")) {
      int newline = paragraph.indexOf('\n');
      String title = paragraph.substring(0, newline).replaceFirst("^#\\s*", "");
      queries.add(new Query(name, title, paragraph.substring(newline + 1).strip()));
    }
    return queries;
  }

  /** Every alerting and recording rule of the shipped rule files, with its group. */
  static List<JsonNode> rules() {
    List<JsonNode> rules = new ArrayList<>();
    for (Path file : ruleFiles()) {
      for (JsonNode group : yaml(file).path("groups")) {
        group.path("rules").forEach(rules::add);
      }
    }
    return rules;
  }

  static List<JsonNode> alertRules() {
    return rules().stream().filter(rule -> rule.has("alert")).toList();
  }

  /** Every panel of every shipped dashboard, row panels excluded and collapsed rows opened. */
  static List<Panel> panels() {
    List<Panel> panels = new ArrayList<>();
    for (Path file : dashboardFiles()) {
      JsonNode dashboard = json(file);
      String title = dashboard.path("title").asText();
      for (JsonNode panel : dashboard.path("panels")) {
        if ("row".equals(panel.path("type").asText())) {
          panel.path("panels").forEach(nested -> panels.add(new Panel(title, nested)));
        } else {
          panels.add(new Panel(title, panel));
        }
      }
    }
    return panels;
  }

  /** Every PromQL expression of the dashboards and of the rule files. */
  static List<Query> allQueries() {
    List<Query> queries = new ArrayList<>();
    for (Panel panel : panels()) {
      for (String expr : panel.exprs()) {
        queries.add(new Query(panel.dashboard(), panel.title(), expr));
      }
    }
    for (JsonNode rule : rules()) {
      String name = rule.has("alert") ? rule.path("alert").asText() : rule.path("record").asText();
      queries.add(new Query("rules", name, rule.path("expr").asText()));
    }
    return queries;
  }

  private static List<Path> list(Path dir, String suffix) {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(file -> file.getFileName().toString().endsWith(suffix)).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }
}
