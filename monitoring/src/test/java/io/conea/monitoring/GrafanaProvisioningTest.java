package io.conea.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GrafanaProvisioningTest {

  @Test
  void datasourcesProvisionPrometheusLokiAndJaegerByUid() {
    Map<String, JsonNode> byType = datasources();

    assertThat(byType).containsOnlyKeys("prometheus", "loki", "jaeger");
    assertThat(byType.get("prometheus").path("isDefault").asBoolean()).isTrue();
    byType.forEach((type, source) -> assertThat(source.path("uid").asText()).isEqualTo(type));
    byType.forEach((type, source) -> assertThat(source.path("url").asText()).startsWith("http://"));
  }

  @Test
  void prometheusExemplarsLinkTheirTraceIdToJaeger() {
    Map<String, JsonNode> byType = datasources();
    JsonNode destination = byType.get("prometheus").at("/jsonData/exemplarTraceIdDestinations/0");

    assertThat(destination.path("name").asText()).isEqualTo("trace_id");
    assertThat(destination.path("datasourceUid").asText())
        .isEqualTo(byType.get("jaeger").path("uid").asText());
  }

  @Test
  void logsAndTracesLinkToEachOther() {
    Map<String, JsonNode> byType = datasources();
    JsonNode derived = byType.get("loki").at("/jsonData/derivedFields/0");

    assertThat(derived.path("datasourceUid").asText()).isEqualTo("jaeger");
    assertThat("{\"level\":\"info\",\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"}")
        .containsPattern(derived.path("matcherRegex").asText());
    // "$$" is how a literal "$" is written in a provisioning file.
    assertThat(derived.path("url").asText()).isEqualTo("$${__value.raw}");
    assertThat(byType.get("jaeger").at("/jsonData/tracesToLogsV2/datasourceUid").asText())
        .isEqualTo("loki");
  }

  @Test
  void dashboardProviderLoadsTheConeaDashboardsFromFiles() {
    JsonNode provider =
        Assets.yaml(Assets.grafanaDir().resolve("provisioning/dashboards/dashboards.yml"))
            .at("/providers/0");

    assertThat(provider.path("type").asText()).isEqualTo("file");
    assertThat(provider.path("folder").asText()).isEqualTo("Conea");
    assertThat(provider.at("/options/path").asText())
        .isEqualTo("/var/lib/grafana/dashboards/conea");
  }

  private static Map<String, JsonNode> datasources() {
    JsonNode file =
        Assets.yaml(Assets.grafanaDir().resolve("provisioning/datasources/datasources.yml"));
    assertThat(file.path("apiVersion").asInt()).isEqualTo(1);
    Map<String, JsonNode> byType = new HashMap<>();
    file.path("datasources").forEach(source -> byType.put(source.path("type").asText(), source));
    return byType;
  }
}
