package io.conea.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrometheusConfigTest {

  private static final Path CLUSTER = Assets.prometheusDir().resolve("prometheus.yml");
  private static final Path LOCAL = Assets.prometheusDir().resolve("prometheus-local.yml");

  @Test
  void promtoolAcceptsTheLocalConfigurationAndItsRuleFiles() {
    assertAccepted(check(LOCAL));
  }

  @Test
  void promtoolAcceptsTheClusterConfigurationAndItsRuleFiles(@TempDir Path dir) throws IOException {
    Tools.Result result = check(CLUSTER);
    if (result.exitCode() != 0
        && result.output().contains("field kubernetes_sd_configs not found")) {
      // Debian builds Prometheus without Kubernetes service discovery, so its promtool rejects the
      // field itself. Check the Kubernetes blocks against the fields Prometheus documents, and
      // everything else with promtool on a copy that discovers no targets instead.
      ObjectNode copy = (ObjectNode) Assets.yaml(CLUSTER);
      ArrayNode ruleFiles = copy.putArray("rule_files");
      Assets.ruleFiles().forEach(file -> ruleFiles.add(file.toString()));
      int kubernetesJobs = 0;
      for (JsonNode job : copy.path("scrape_configs")) {
        if (job.has("kubernetes_sd_configs")) {
          job.path("kubernetes_sd_configs").forEach(PrometheusConfigTest::assertKubernetesSd);
          ((ObjectNode) job).remove("kubernetes_sd_configs");
          ((ObjectNode) job).putArray("static_configs").addObject().putArray("targets");
          kubernetesJobs++;
        }
      }
      assertThat(kubernetesJobs).isEqualTo(3);
      Path checked = dir.resolve("prometheus.yml");
      Assets.YAML.writeValue(checked.toFile(), copy);
      result = check(checked);
    }
    assertAccepted(result);
  }

  private static Tools.Result check(Path config) {
    return Tools.run(
        Assets.prometheusDir(),
        Duration.ofSeconds(30),
        Tools.promtool(),
        "check",
        "config",
        config);
  }

  private static void assertAccepted(Tools.Result result) {
    assertThat(result.exitCode()).as("promtool check config:%n%s", result.output()).isZero();
    // promtool checks the rule files a configuration names, and reports each.
    for (Path ruleFile : Assets.ruleFiles()) {
      assertThat(result.output()).contains(ruleFile.getFileName().toString());
    }
    assertThat(result.output()).contains("SUCCESS").doesNotContain("FAILED");
  }

  private static void assertKubernetesSd(JsonNode sd) {
    List<String> fields = new ArrayList<>();
    sd.fieldNames().forEachRemaining(fields::add);
    assertThat(fields)
        .isSubsetOf(
            "role", "namespaces", "selectors", "api_server", "kubeconfig_file", "attach_metadata")
        .contains("role");
    assertThat(sd.path("role").asText())
        .isIn("node", "pod", "service", "endpoints", "endpointslice", "ingress");
    List<String> namespaceFields = new ArrayList<>();
    sd.path("namespaces").fieldNames().forEachRemaining(namespaceFields::add);
    assertThat(namespaceFields).isSubsetOf("names", "own_namespace");
    sd.at("/namespaces/names").forEach(name -> assertThat(name.isTextual()).isTrue());
  }

  @Test
  void clusterConfigurationKeepsTheGuidesGlobalIntervalsAndJobsExactly() {
    JsonNode guide = Assets.guideYaml("prometheus.yml");
    JsonNode shipped = Assets.yaml(CLUSTER);

    assertThat(shipped.path("global")).isEqualTo(guide.path("global"));
    assertThat(shipped.at("/global/scrape_interval").asText()).isEqualTo("15s");
    for (JsonNode guideJob : guide.path("scrape_configs")) {
      String name = guideJob.path("job_name").asText();
      assertThat(job(shipped, name)).as("job %s", name).isEqualTo(guideJob);
    }
    assertThat(jobNames(shipped))
        .startsWith("conea-api", "kubernetes-nodes", "postgresql")
        .doesNotHaveDuplicates();
  }

  @Test
  void clusterConfigurationScrapesNodeExporterForTheResourceAlerts() {
    JsonNode nodeExporter = job(Assets.yaml(CLUSTER), "node-exporter");

    assertThat(nodeExporter.at("/kubernetes_sd_configs/0/role").asText()).isEqualTo("pod");
    assertThat(nodeExporter.at("/relabel_configs/0/regex").asText())
        .isEqualTo("prometheus-node-exporter");
    assertThat(nodeExporter.at("/relabel_configs/1/regex").asText()).isEqualTo("9100");
  }

  @Test
  void everyConfigurationLoadsEveryRuleFileAndSendsAlertsToAlertmanager() {
    for (Path config : List.of(CLUSTER, LOCAL)) {
      JsonNode shipped = Assets.yaml(config);
      List<String> ruleFiles = new ArrayList<>();
      shipped.path("rule_files").forEach(file -> ruleFiles.add(file.asText()));

      assertThat(ruleFiles).as("rule_files of %s", config).isEqualTo(Assets.RULE_FILES);
      assertThat(shipped.at("/alerting/alertmanagers/0/static_configs/0/targets/0").asText())
          .as("Alertmanager of %s", config)
          .endsWith(":9093");
    }
  }

  @Test
  void localConfigurationScrapesBothDemoPortsButKeepsOneCopyOfTheSeries() {
    JsonNode local = Assets.yaml(LOCAL);

    assertThat(jobNames(local)).containsExactly("conea-api");
    JsonNode job = job(local, "conea-api");
    assertThat(job.at("/static_configs/0/targets"))
        .extracting(JsonNode::asText)
        .containsExactly("127.0.0.1:8080", "127.0.0.1:8081");
    // Both ports serve one registry: the Netty port's series are dropped, its "up" is kept.
    JsonNode drop = job.at("/metric_relabel_configs/0");
    assertThat(drop.path("action").asText()).isEqualTo("drop");
    assertThat(drop.at("/source_labels/0").asText()).isEqualTo("instance");
    assertThat("127.0.0.1:8081").matches(drop.path("regex").asText());
    assertThat("127.0.0.1:8080").doesNotMatch(drop.path("regex").asText());
    assertThat(local.path("global")).isEqualTo(Assets.yaml(CLUSTER).path("global"));
  }

  static JsonNode job(JsonNode config, String name) {
    for (JsonNode job : config.path("scrape_configs")) {
      if (name.equals(job.path("job_name").asText())) {
        return job;
      }
    }
    throw new AssertionError("no scrape job " + name);
  }

  private static List<String> jobNames(JsonNode config) {
    List<String> names = new ArrayList<>();
    config.path("scrape_configs").forEach(job -> names.add(job.path("job_name").asText()));
    return names;
  }
}
