package io.conea.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GrafanaDashboardsTest {

  private static final Set<String> CURRENT_PANEL_TYPES =
      Set.of("timeseries", "stat", "piechart", "bargauge", "row");

  /** The guide's deprecated panel types and the ones that replace them. */
  private static final Map<String, String> REPLACEMENTS =
      Map.of("graph", "timeseries", "singlestat", "stat");

  @Test
  void dashboardsAreImportableModelsWithUniqueUids() {
    Set<String> uids = new HashSet<>();
    for (Path file : Assets.dashboardFiles()) {
      JsonNode dashboard = Assets.json(file);

      assertThat(dashboard.path("schemaVersion").asInt())
          .as("%s schemaVersion", file)
          .isEqualTo(39);
      assertThat(dashboard.path("title").asText()).startsWith("Conea ");
      assertThat(dashboard.path("id").isNull()).as("%s id", file).isTrue();
      assertThat(uids.add(dashboard.path("uid").asText())).as("uid of %s", file).isTrue();
      assertThat(dashboard.path("panels")).isNotEmpty();
    }
    assertThat(uids)
        .containsExactlyInAnyOrder("conea-system-overview", "conea-ai-usage", "conea-slo");
    for (Path file : Assets.dashboardFiles()) {
      for (JsonNode link : Assets.json(file).path("links")) {
        assertThat(uids).contains(link.path("url").asText().replaceFirst("^/d/", ""));
      }
    }
  }

  @Test
  void panelsUseCurrentTypesOnly() {
    for (Assets.Panel panel : Assets.panels()) {
      assertThat(CURRENT_PANEL_TYPES).as("type of %s", panel.title()).contains(panel.type());
    }
    for (Path file : Assets.dashboardFiles()) {
      assertThat(Assets.json(file).toString())
          .doesNotContain("\"type\":\"graph\"")
          .doesNotContain("\"type\":\"singlestat\"");
    }
  }

  @Test
  void everyPanelQueriesPrometheusThroughTheDatasourceVariable() {
    for (Path file : Assets.dashboardFiles()) {
      JsonNode variable = Assets.json(file).at("/templating/list/0");
      assertThat(variable.path("name").asText()).isEqualTo("DS_PROMETHEUS");
      assertThat(variable.path("type").asText()).isEqualTo("datasource");
      assertThat(variable.path("query").asText()).isEqualTo("prometheus");
    }
    for (Assets.Panel panel : Assets.panels()) {
      assertThat(panel.node().at("/datasource/uid").asText())
          .as(panel.title())
          .isEqualTo("${DS_PROMETHEUS}");
      assertThat(panel.node().path("targets")).as(panel.title()).isNotEmpty();
      for (JsonNode target : panel.node().path("targets")) {
        assertThat(target.at("/datasource/uid").asText()).isEqualTo("${DS_PROMETHEUS}");
        assertThat(target.path("expr").asText()).as(panel.title()).isNotBlank();
      }
    }
  }

  @Test
  void panelsHaveUniqueIdsAndFitTheGrid() {
    for (Path file : Assets.dashboardFiles()) {
      Set<Integer> ids = new HashSet<>();
      for (JsonNode panel : Assets.json(file).path("panels")) {
        assertThat(ids.add(panel.path("id").asInt())).as("id of %s", panel.path("title")).isTrue();
        JsonNode grid = panel.path("gridPos");
        assertThat(grid.path("x").asInt() + grid.path("w").asInt()).isBetween(1, 24);
        assertThat(grid.path("h").asInt()).isPositive();
      }
    }
  }

  @Test
  void guidePanelsKeepTheirTitlesAndExpressionsVerbatimWithCurrentTypes() {
    List<JsonNode> guidePanels = new ArrayList<>();
    Assets.guideJson("system-overview.json").at("/dashboard/panels").forEach(guidePanels::add);
    Assets.guideJson("ai-usage.json").path("panels").forEach(guidePanels::add);
    assertThat(guidePanels).hasSize(7);

    for (JsonNode guidePanel : guidePanels) {
      String title = guidePanel.path("title").asText();
      String type = guidePanel.path("type").asText();
      Assets.Panel panel = panel(title);

      assertThat(panel.type()).as(title).isEqualTo(REPLACEMENTS.getOrDefault(type, type));
      assertThat(panel.exprs()).as(title).contains(guidePanel.at("/targets/0/expr").asText());
    }
  }

  @Test
  void guideQueriesAndSlisAppearVerbatimInPanels() {
    Set<String> exprs = new TreeSet<>();
    Assets.panels().forEach(panel -> exprs.addAll(panel.exprs()));
    List<String> guide = new ArrayList<>();
    Assets.guideQueries("application-queries.promql").forEach(q -> guide.add(q.expr()));
    Assets.guideQueries("error-budget.promql").forEach(q -> guide.add(q.expr()));
    JsonNode slis = Assets.guideYaml("slis.yml").path("slis");
    slis.forEach(sli -> guide.add(sli.path("metric").asText().strip()));

    assertThat(guide).hasSize(9);
    assertThat(exprs).containsAll(guide);
  }

  @Test
  void latencyPanelShowsExemplars() {
    JsonNode target = panel("Response Time (p95)").node().at("/targets/0");

    assertThat(target.path("exemplar").asBoolean()).isTrue();
    assertThat(target.path("expr").asText()).contains("http_request_duration_seconds_bucket");
  }

  @Test
  void sloPanelsShowTheTargetsAndTheBudget() {
    assertThat(
            panel("Availability")
                .node()
                .at("/fieldConfig/defaults/thresholds/steps/1/value")
                .asDouble())
        .isEqualTo(0.999);
    assertThat(
            panel("Latency p95 (SLI)")
                .node()
                .at("/fieldConfig/defaults/thresholds/steps/1/value")
                .asDouble())
        .isEqualTo(0.5);
    assertThat(panel("Error Budget Remaining").exprs().get(0)).contains("[30d]").endsWith("- 99.9");
    assertThat(panel("Error Budget Burn Rate").exprs()).hasSize(4);
  }

  @Test
  void promtoolParsesEveryDashboardExpression(@TempDir Path dir) throws IOException {
    // promtool has no "check expression"; a rule file with one recording rule per expression makes
    // it parse them all.
    StringBuilder rules = new StringBuilder("groups:\n  - name: dashboards\n    rules:\n");
    int n = 0;
    for (Assets.Panel panel : Assets.panels()) {
      for (String expr : panel.exprs()) {
        rules.append("      - record: dashboard:expr:").append(n++).append('\n');
        rules.append("        expr: ").append(Assets.JSON.writeValueAsString(expr)).append('\n');
      }
    }
    Path file = Files.writeString(dir.resolve("dashboards.yml"), rules);

    Tools.Result result =
        Tools.run(dir, Duration.ofSeconds(30), Tools.promtool(), "check", "rules", file);

    assertThat(n).isGreaterThan(20);
    assertThat(result.exitCode()).as("promtool check rules:%n%s", result.output()).isZero();
    assertThat(result.output()).contains("SUCCESS: " + n + " rules found");
  }

  private static Assets.Panel panel(String title) {
    List<Assets.Panel> matches =
        Assets.panels().stream().filter(panel -> panel.title().equals(title)).toList();
    assertThat(matches).as("panels titled %s", title).hasSize(1);
    return matches.get(0);
  }
}
