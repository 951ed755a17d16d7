package io.conea.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes manifests of monitoring/kubernetes: Fluent Bit shipping the logs to Loki, Loki,
 * and Jaeger. Each is checked for consistency with the rest of the setup (conea's OTLP defaults,
 * Grafana's data sources, the guide's LogQL selector) and against the guide's own configuration
 * (copied verbatim to src/test/resources/guide), whose names, labels and settings it keeps.
 */
class KubernetesAssetsTest {

  /** The namespace of the monitoring stack: the guide's Loki host names it. */
  private static final String NAMESPACE = "monitoring";

  private static final Set<String> CLUSTER_SCOPED = Set.of("ClusterRole", "ClusterRoleBinding");

  /** A line of the demo, as conea's encoder writes it. */
  private static final String CONEA_LINE =
      "{\"timestamp\":\"2025-05-26T10:30:45.123Z\",\"level\":\"info\",\"service\":\"conea-api\","
          + "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"span_id\":\"00f067aa0ba902b7\","
          + "\"user_id\":\"user_123\",\"method\":\"POST\",\"path\":\"/api/v1/ai/chat\","
          + "\"status\":200,\"duration_ms\":245,\"message\":\"AI チャット completed\","
          + "\"metadata\":{\"model\":\"gpt-4\",\"tokens\":1250,\"cost\":0.0375}}";

  // ---------------------------------------------------------------- manifests in general

  @Test
  void everyManifestIsAWellFormedObjectOfTheMonitoringNamespace() {
    List<JsonNode> objects = objects();

    assertThat(objects).isNotEmpty();
    for (JsonNode object : objects) {
      String kind = object.path("kind").asText();
      String name = object.at("/metadata/name").asText();
      assertThat(object.path("apiVersion").asText()).as(kind + " " + name).isNotEmpty();
      assertThat(name).as(kind).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
      if (!CLUSTER_SCOPED.contains(kind)) {
        assertThat(object.at("/metadata/namespace").asText())
            .as(kind + " " + name)
            .isEqualTo(NAMESPACE);
      }
    }
  }

  @Test
  void workloadsSelectTheirOwnPodsAndMountWhatIsDefined() {
    for (JsonNode workload : workloads()) {
      String name = workload.at("/metadata/name").asText();
      JsonNode matchLabels = workload.at("/spec/selector/matchLabels");
      JsonNode podLabels = workload.at("/spec/template/metadata/labels");
      assertThat(matchLabels.size()).as(name + " selector").isPositive();
      matchLabels
          .properties()
          .forEach(
              label ->
                  assertThat(podLabels.path(label.getKey()).asText())
                      .as(name + " pod label " + label.getKey())
                      .isEqualTo(label.getValue().asText()));

      JsonNode podSpec = workload.at("/spec/template/spec");
      Map<String, JsonNode> volumes = new HashMap<>();
      podSpec.path("volumes").forEach(volume -> volumes.put(volume.path("name").asText(), volume));
      for (JsonNode container : podSpec.path("containers")) {
        for (JsonNode mount : container.path("volumeMounts")) {
          assertThat(volumes).as(name + " mounts").containsKey(mount.path("name").asText());
        }
        Set<String> portNames = new HashSet<>();
        for (JsonNode port : container.path("ports")) {
          String portName = port.path("name").asText();
          // A container port's name is an IANA service name: at most 15 characters.
          assertThat(portName)
              .as(name + " port name")
              .matches("[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?");
          assertThat(portNames.add(portName)).as(name + " port " + portName + " unique").isTrue();
        }
        for (String probe : List.of("livenessProbe", "readinessProbe")) {
          JsonNode port = container.at("/" + probe + "/httpGet/port");
          if (port.isTextual()) {
            assertThat(portNames).as(name + " " + probe).contains(port.asText());
          }
        }
      }
      for (JsonNode volume : volumes.values()) {
        if (volume.has("configMap")) {
          assertThat(object("ConfigMap", volume.at("/configMap/name").asText()))
              .as(name + " config map volume")
              .isPresent();
        }
      }
      String account = podSpec.path("serviceAccountName").asText("");
      if (!account.isEmpty()) {
        assertThat(object("ServiceAccount", account)).as(name + " account").isPresent();
      }
    }
  }

  @Test
  void everyServiceSelectsAWorkloadAndTargetsItsPorts() {
    for (JsonNode service : objectsOfKind("Service")) {
      String name = service.at("/metadata/name").asText();
      JsonNode workload = selectedWorkload(service);
      for (JsonNode port : service.at("/spec/ports")) {
        assertThat(containerPort(workload, port.path("targetPort")))
            .as(name + " port " + port.path("port").asInt() + " reaches a container port")
            .isPresent();
        assertThat(port.path("protocol").asText("TCP")).isEqualTo("TCP");
      }
    }
  }

  // ---------------------------------------------------------------- Fluent Bit

  @Test
  void fluentBitConfigMapHoldsEveryFileItsConfigurationReads() {
    JsonNode configMap = fluentBitConfigMap();
    FluentBitConfig config = fluentBit(configMap);

    for (FluentBitConfig.Section section : config.sections) {
      for (String fileKey : List.of("Parsers_File", "Plugins_File", "Streams_File")) {
        section
            .get(fileKey)
            .ifPresent(
                file ->
                    assertThat(configMap.path("data").has(Path.of(file).getFileName().toString()))
                        .as(fileKey + " " + file + " is in the ConfigMap")
                        .isTrue());
      }
    }
    // The DaemonSet runs Fluent Bit on exactly this file.
    JsonNode daemonSet = object("DaemonSet", "fluent-bit").orElseThrow();
    JsonNode container = daemonSet.at("/spec/template/spec/containers/0");
    String configFile = container.path("command").get(2).asText();
    JsonNode mount = mountOfVolumeWithConfigMap(daemonSet, configMap.at("/metadata/name").asText());
    assertThat(configFile)
        .isEqualTo(mount.path("mountPath").asText().replaceAll("/$", "") + "/fluent-bit.conf");
  }

  @Test
  void fluentBitTailsTheContainerLogsOfCriAndDockerNodes() {
    FluentBitConfig config = fluentBit(fluentBitConfigMap());
    FluentBitConfig.Section tail = config.plugin("INPUT", "tail");

    assertThat(tail.list("multiline.parser")).containsExactlyInAnyOrder("cri", "docker");
    // A single "Parser docker" reads only Docker's json-file lines: not the CRI format.
    assertThat(tail.get("Parser")).isEmpty();
    // The DaemonSet mounts the node's /var/log, where the tailed files and their targets are.
    JsonNode daemonSet = object("DaemonSet", "fluent-bit").orElseThrow();
    String logs = tail.require("Path");
    assertThat(logs).startsWith("/var/log/");
    assertThat(daemonSet.at("/spec/template/spec/volumes").findValuesAsText("path"))
        .contains("/var/log");
    tail.get("DB")
        .ifPresent(
            db ->
                assertThat(
                        daemonSet
                            .at("/spec/template/spec/containers/0/volumeMounts")
                            .findValuesAsText("mountPath"))
                    .anySatisfy(dir -> assertThat(db).startsWith(dir + "/")));
  }

  @Test
  void theKubernetesFilterAndTheLokiOutputSeeTheTailedRecords() {
    FluentBitConfig config = fluentBit(fluentBitConfigMap());
    FluentBitConfig.Section tail = config.plugin("INPUT", "tail");
    FluentBitConfig.Section kubernetes = config.plugin("FILTER", "kubernetes");
    FluentBitConfig.Section loki = config.plugin("OUTPUT", "loki");
    // The tail input's tag with its * expanded to the file's path, '/' becoming '.'.
    String tag =
        tail.require("Tag")
            .replace(
                "*",
                "var.log.containers.conea-api-7d9f8b6c5d-x2x4z_production_conea-api-0123456789ab.log");

    assertThat(FluentBitConfig.matches(kubernetes.require("Match"), tag)).isTrue();
    assertThat(FluentBitConfig.matches(loki.require("Match"), tag)).isTrue();
    // The filter finds the pod in the tag after this prefix.
    assertThat(tag)
        .startsWith(kubernetes.get("Kube_Tag_Prefix").orElse("kube.var.log.containers."));
    assertThat(kubernetes.flag("Labels", true)).as("pod labels in the record").isTrue();
    // The log key stays conea's line: not merged into the record, not re-encoded.
    assertThat(kubernetes.flag("Merge_Log", false)).isFalse();
  }

  @Test
  void coneaLinesReachLokiVerbatimWithTheAppLabelOfTheirPod() {
    FluentBitConfig config = fluentBit(fluentBitConfigMap());

    for (Map<String, Object> record : List.of(criRecord(CONEA_LINE), dockerRecord(CONEA_LINE))) {
      FluentBitConfig.LokiEntry entry = config.ship(record);

      assertThat(entry.line()).isEqualTo(CONEA_LINE);
      assertThat(entry.labels())
          .containsEntry("app", "conea-api")
          .containsEntry("job", "fluent-bit")
          .containsEntry("namespace", "production");
    }
    // A pod without an app label still ships, in a stream without one.
    Map<String, Object> unlabelled = criRecord("plain text");
    podOf(unlabelled).put("labels", Map.of("tier", "db"));
    assertThat(config.ship(unlabelled).labels()).doesNotContainKey("app");
    assertThat(config.ship(unlabelled).line()).isEqualTo("plain text");
  }

  @Test
  void theShippedLineIsWhatTheGuidesQueriesAndGrafanaRead() {
    FluentBitConfig.LokiEntry entry = fluentBit(fluentBitConfigMap()).ship(criRecord(CONEA_LINE));

    // The guide's queries all select {app="conea-api"}: the label the output sets from the pod.
    Matcher selector =
        Pattern.compile("\\{(\\w+)=\"([^\"]*)\"\\}").matcher(Assets.guide("logql-queries.logql"));
    int selectors = 0;
    while (selector.find()) {
      assertThat(entry.labels()).containsEntry(selector.group(1), selector.group(2));
      selectors++;
    }
    assertThat(selectors).isEqualTo(4);
    // Loki's | json on the line gives the schema's fields, nested ones joined with _.
    Map<String, String> fields = LogQl.json(entry.line(), entry.labels().keySet());
    assertThat(fields)
        .containsEntry("level", "info")
        .containsEntry("status", "200")
        .containsEntry("duration_ms", "245")
        .containsEntry("metadata_model", "gpt-4")
        .containsEntry("metadata_tokens", "1250")
        .containsEntry("message", "AI チャット completed")
        .doesNotContainKey(LogQl.ERROR_LABEL);
    // Grafana: the Loki data source's trace link finds the trace id in the line, and the Jaeger
    // data source looks for a trace's logs with service.name as the label the output sets.
    Map<String, JsonNode> datasources = datasources();
    JsonNode derived = datasources.get("loki").at("/jsonData/derivedFields/0");
    Matcher traceId = Pattern.compile(derived.path("matcherRegex").asText()).matcher(entry.line());
    assertThat(traceId.find()).isTrue();
    assertThat(traceId.group(1)).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    JsonNode tag = datasources.get("jaeger").at("/jsonData/tracesToLogsV2/tags/0");
    assertThat(tag.path("key").asText()).isEqualTo("service.name");
    assertThat(entry.labels().get(tag.path("value").asText())).isEqualTo("conea-api");
  }

  @Test
  void fluentBitShipsToTheLokiOfGrafanasDataSource() {
    FluentBitConfig.Section loki = fluentBit(fluentBitConfigMap()).plugin("OUTPUT", "loki");
    URI dataSource = URI.create(datasources().get("loki").path("url").asText());

    assertThat(loki.require("Host")).isEqualTo(dataSource.getHost());
    assertThat(Integer.parseInt(loki.require("Port"))).isEqualTo(dataSource.getPort());
    JsonNode service = service(loki.require("Host"), NAMESPACE);
    assertThat(servicePort(service, dataSource.getPort())).isPresent();
  }

  @Test
  void fluentBitKeepsWhatTheGuidesConfigurationSet() {
    JsonNode guideMap = Assets.guideYaml("fluent-bit-config.yaml");
    JsonNode ourMap = fluentBitConfigMap();
    FluentBitConfig guide = fluentBit(guideMap);
    FluentBitConfig ours = fluentBit(ourMap);

    assertThat(ourMap.at("/metadata/name").asText())
        .isEqualTo(guideMap.at("/metadata/name").asText());
    FluentBitConfig.Section guideService = guide.sections("SERVICE").get(0);
    FluentBitConfig.Section ourService = ours.sections("SERVICE").get(0);
    for (String key : List.of("Flush", "Log_Level", "Daemon")) {
      assertThat(ourService.get(key)).as(key).isEqualTo(guideService.get(key));
    }
    for (String key :
        List.of("Path", "Tag", "Refresh_Interval", "Mem_Buf_Limit", "Skip_Long_Lines")) {
      assertThat(ours.plugin("INPUT", "tail").get(key))
          .as("tail " + key)
          .isEqualTo(guide.plugin("INPUT", "tail").get(key));
    }
    for (String key : List.of("Match", "K8S-Logging.Exclude")) {
      assertThat(ours.plugin("FILTER", "kubernetes").get(key))
          .as("kubernetes " + key)
          .isEqualTo(guide.plugin("FILTER", "kubernetes").get(key));
    }
    FluentBitConfig.Section guideLoki = guide.plugin("OUTPUT", "loki");
    FluentBitConfig.Section ourLoki = ours.plugin("OUTPUT", "loki");
    for (String key : List.of("Host", "Port")) {
      assertThat(ourLoki.get(key)).as("loki " + key).isEqualTo(guideLoki.get(key));
    }
    assertThat(ourLoki.list("Labels")).containsAll(guideLoki.list("Labels"));
    // What the guide had and is fixed: the Docker-only parser, a parsers.conf it did not ship, and
    // the log merged into the record, which re-encoded conea's line.
    assertThat(guide.plugin("INPUT", "tail").get("Parser")).contains("docker");
    assertThat(guideMap.path("data").has("parsers.conf")).isFalse();
    assertThat(guide.plugin("FILTER", "kubernetes").flag("Merge_Log", false)).isTrue();
  }

  // ---------------------------------------------------------------- Jaeger

  @Test
  void jaegerReceivesOtlpOnConeasDefaultPortAndTheGrpcOne() {
    JsonNode service = service("jaeger", NAMESPACE);
    JsonNode deployment = selectedWorkload(service);
    JsonNode container = deployment.at("/spec/template/spec/containers/0");
    Map<String, String> env = env(container);
    URI coneaDefault = URI.create(coneaTracingDefault("otel.exporter.otlp.endpoint"));

    assertThat(env).containsEntry("COLLECTOR_OTLP_ENABLED", "true");
    assertThat(coneaTracingDefault("otel.exporter.otlp.protocol")).isEqualTo("http/protobuf");
    assertThat(coneaDefault.getPort()).isEqualTo(4318);
    // OTLP over HTTP on conea's default port, over gRPC on 4317, both through the Service.
    assertThat(
            containerPort(
                deployment,
                servicePort(service, coneaDefault.getPort()).orElseThrow().path("targetPort")))
        .map(port -> port.path("containerPort").asInt())
        .contains(4318);
    assertThat(servicePort(service, coneaDefault.getPort()).orElseThrow().path("name").asText())
        .startsWith("http");
    assertThat(
            containerPort(deployment, servicePort(service, 4317).orElseThrow().path("targetPort")))
        .map(port -> port.path("containerPort").asInt())
        .contains(4317);
    assertThat(servicePort(service, 4317).orElseThrow().path("name").asText()).startsWith("grpc");
  }

  @Test
  void grafanasJaegerDataSourceReachesTheQueryService() {
    URI url = URI.create(datasources().get("jaeger").path("url").asText());
    // Grafana runs in the monitoring namespace, where "jaeger" resolves to this Service.
    JsonNode service = service(url.getHost(), NAMESPACE);
    JsonNode deployment = selectedWorkload(service);

    assertThat(url.getPort()).isEqualTo(16686);
    assertThat(
            containerPort(
                deployment, servicePort(service, url.getPort()).orElseThrow().path("targetPort")))
        .map(port -> port.path("containerPort").asInt())
        .contains(16686);
  }

  @Test
  void jaegerKeepsTheGuidesDeploymentAndDropsTheJaegerClientPorts() {
    JsonNode guide = Assets.guideYaml("jaeger-deployment.yaml");
    JsonNode ours = object("Deployment", guide.at("/metadata/name").asText()).orElseThrow();
    JsonNode guideContainer = guide.at("/spec/template/spec/containers/0");
    JsonNode ourContainer = ours.at("/spec/template/spec/containers/0");

    assertThat(ours.path("kind").asText()).isEqualTo(guide.path("kind").asText());
    assertThat(ourContainer.path("name").asText()).isEqualTo(guideContainer.path("name").asText());
    assertThat(repository(ourContainer.path("image").asText()))
        .isEqualTo(repository(guideContainer.path("image").asText()));
    // The guide's settings (Zipkin port, Elasticsearch storage) are kept as they were.
    assertThat(env(ourContainer)).containsAllEntriesOf(env(guideContainer));
    // The guide's Deployment had no selector, which apps/v1 requires.
    assertThat(guide.at("/spec/selector").isMissingNode()).isTrue();
    // Its TCP ports stay (but the jaeger-agent's sampling port 5778); its UDP ports, which only
    // jaeger-client's agent protocol used, go.
    List<Integer> ourPorts =
        ourContainer.path("ports").findValuesAsText("containerPort").stream()
            .map(Integer::parseInt)
            .toList();
    for (JsonNode port : guideContainer.path("ports")) {
      boolean udp = port.path("protocol").asText().equals("UDP");
      int number = port.path("containerPort").asInt();
      if (udp || number == 5778) {
        assertThat(ourPorts).as("jaeger-client port " + number).doesNotContain(number);
      } else {
        assertThat(ourPorts).as("guide port " + number).contains(number);
      }
    }
    assertThat(ourContainer.path("ports").findValuesAsText("protocol")).containsOnly("TCP");
  }

  // ---------------------------------------------------------------- Loki

  @Test
  void lokiListensWhereItsServiceAndItsConfigurationSay() throws IOException {
    JsonNode service = service("loki", NAMESPACE);
    JsonNode deployment = selectedWorkload(service);
    JsonNode container = deployment.at("/spec/template/spec/containers/0");
    JsonNode configMap = object("ConfigMap", "loki-config").orElseThrow();
    JsonNode mount = mountOfVolumeWithConfigMap(deployment, "loki-config");
    String configFile =
        container.path("args").path(0).asText().replaceFirst("^-config\\.file=", "");

    assertThat(configFile).startsWith(mount.path("mountPath").asText() + "/");
    String key = configFile.substring(mount.path("mountPath").asText().length() + 1);
    JsonNode config = Assets.YAML.readTree(configMap.path("data").path(key).asText());
    assertThat(config.isObject()).as("Loki configuration " + key).isTrue();
    int port = config.at("/server/http_listen_port").asInt();
    assertThat(port).isEqualTo(3100);
    assertThat(
            containerPort(deployment, servicePort(service, 3100).orElseThrow().path("targetPort")))
        .map(p -> p.path("containerPort").asInt())
        .contains(port);
    // Single tenant: Fluent Bit sends no tenant id and Grafana no X-Scope-OrgID.
    assertThat(config.path("auth_enabled").asBoolean(true)).isFalse();
    // Everything Loki writes is under a mounted volume.
    String prefix = config.at("/common/path_prefix").asText();
    assertThat(container.path("volumeMounts").findValuesAsText("mountPath")).contains(prefix);
    assertThat(config.at("/schema_config/configs/0/schema").asText()).isEqualTo("v13");
  }

  // ---------------------------------------------------------------- helpers

  /** A record as the tail input's cri multiline parser makes it, after the kubernetes filter. */
  static Map<String, Object> criRecord(String line) {
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("stream", "stdout");
    record.put("_p", "F");
    record.put("log", line);
    record.put("kubernetes", pod());
    return record;
  }

  /** The same with the docker multiline parser (Docker's json-file: log, stream, time). */
  static Map<String, Object> dockerRecord(String line) {
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("log", line);
    record.put("stream", "stdout");
    record.put("kubernetes", pod());
    return record;
  }

  /** The metadata the kubernetes filter adds for a pod of conea-api in namespace production. */
  private static Map<String, Object> pod() {
    Map<String, Object> pod = new LinkedHashMap<>();
    pod.put("pod_name", "conea-api-7d9f8b6c5d-x2x4z");
    pod.put("namespace_name", "production");
    pod.put("pod_id", "9b2c1c4e-8a44-4f55-9d1c-0a6e5f7b2c11");
    pod.put(
        "labels",
        new LinkedHashMap<>(Map.of("app", "conea-api", "pod-template-hash", "7d9f8b6c5d")));
    pod.put("host", "node-1");
    pod.put("container_name", "conea-api");
    pod.put("docker_id", "0123456789ab");
    pod.put("container_image", "registry.example/conea-api:1.0");
    return pod;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> podOf(Map<String, Object> record) {
    return (Map<String, Object>) record.get("kubernetes");
  }

  static Path kubernetesDir() {
    return Assets.root().resolve("kubernetes");
  }

  /** Every object of every manifest (multi-document YAML). */
  static List<JsonNode> objects() {
    List<JsonNode> objects = new ArrayList<>();
    try (Stream<Path> files = Files.list(kubernetesDir())) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        try (MappingIterator<JsonNode> documents =
            Assets.YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
          while (documents.hasNext()) {
            JsonNode document = documents.next();
            if (document != null && !document.isNull() && !document.isEmpty()) {
              objects.add(document);
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return objects;
  }

  static FluentBitConfig fluentBit(JsonNode configMap) {
    return FluentBitConfig.parse(configMap.path("data").path("fluent-bit.conf").asText());
  }

  static JsonNode fluentBitConfigMap() {
    return object("ConfigMap", "fluent-bit-config").orElseThrow();
  }

  private static List<JsonNode> objectsOfKind(String kind) {
    return objects().stream().filter(o -> o.path("kind").asText().equals(kind)).toList();
  }

  private static Optional<JsonNode> object(String kind, String name) {
    return objectsOfKind(kind).stream()
        .filter(o -> o.at("/metadata/name").asText().equals(name))
        .findFirst();
  }

  private static List<JsonNode> workloads() {
    return objects().stream()
        .filter(
            o -> Set.of("Deployment", "DaemonSet", "StatefulSet").contains(o.path("kind").asText()))
        .toList();
  }

  /**
   * The Service a host name reaches from {@code namespace}: name, name.ns,
   * name.ns.svc[.cluster.local].
   */
  private static JsonNode service(String host, String namespace) {
    String[] parts = host.split("\\.");
    String serviceNamespace = parts.length > 1 ? parts[1] : namespace;
    if (parts.length > 2) {
      assertThat(String.join(".", List.of(parts).subList(2, parts.length)))
          .isIn("svc", "svc.cluster.local");
    }
    return objectsOfKind("Service").stream()
        .filter(s -> s.at("/metadata/name").asText().equals(parts[0]))
        .filter(s -> s.at("/metadata/namespace").asText().equals(serviceNamespace))
        .findFirst()
        .orElseGet(() -> fail("no Service for host %s (from namespace %s)", host, namespace));
  }

  private static Optional<JsonNode> servicePort(JsonNode service, int port) {
    for (JsonNode candidate : service.at("/spec/ports")) {
      if (candidate.path("port").asInt() == port) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** The one workload whose pods the Service selects. */
  private static JsonNode selectedWorkload(JsonNode service) {
    JsonNode selector = service.at("/spec/selector");
    List<JsonNode> selected =
        workloads().stream()
            .filter(w -> w.at("/metadata/namespace").equals(service.at("/metadata/namespace")))
            .filter(
                w -> {
                  JsonNode labels = w.at("/spec/template/metadata/labels");
                  List<Map.Entry<String, JsonNode>> wanted = new ArrayList<>(selector.properties());
                  return !wanted.isEmpty()
                      && wanted.stream()
                          .allMatch(
                              e -> labels.path(e.getKey()).asText().equals(e.getValue().asText()));
                })
            .toList();
    assertThat(selected)
        .as("workloads selected by Service " + service.at("/metadata/name").asText())
        .hasSize(1);
    return selected.get(0);
  }

  /** The container port a Service's targetPort (a number or a port name) reaches. */
  private static Optional<JsonNode> containerPort(JsonNode workload, JsonNode targetPort) {
    for (JsonNode container : workload.at("/spec/template/spec/containers")) {
      for (JsonNode port : container.path("ports")) {
        boolean byName =
            targetPort.isTextual() && port.path("name").asText().equals(targetPort.asText());
        boolean byNumber =
            targetPort.isInt() && port.path("containerPort").asInt() == targetPort.asInt();
        if (byName || byNumber) {
          return Optional.of(port);
        }
      }
    }
    return Optional.empty();
  }

  private static JsonNode mountOfVolumeWithConfigMap(JsonNode workload, String configMap) {
    JsonNode podSpec = workload.at("/spec/template/spec");
    String volume = null;
    for (JsonNode candidate : podSpec.path("volumes")) {
      if (candidate.at("/configMap/name").asText().equals(configMap)) {
        volume = candidate.path("name").asText();
      }
    }
    for (JsonNode mount : podSpec.at("/containers/0/volumeMounts")) {
      if (mount.path("name").asText().equals(volume)) {
        return mount;
      }
    }
    return fail(
        "%s does not mount ConfigMap %s", workload.at("/metadata/name").asText(), configMap);
  }

  private static Map<String, String> env(JsonNode container) {
    Map<String, String> env = new LinkedHashMap<>();
    container.path("env").forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
    return env;
  }

  private static String repository(String image) {
    return image.replaceFirst(":[^:/]+$", "");
  }

  static Map<String, JsonNode> datasources() {
    JsonNode file =
        Assets.yaml(Assets.grafanaDir().resolve("provisioning/datasources/datasources.yml"));
    Map<String, JsonNode> byType = new HashMap<>();
    file.path("datasources").forEach(source -> byType.put(source.path("type").asText(), source));
    return byType;
  }

  /**
   * One of the defaults conea-tracing-sdk gives the OpenTelemetry SDK, read from its source, so
   * that the manifests follow the code.
   */
  private static String coneaTracingDefault(String property) {
    Path source =
        Assets.root()
            .resolve("../conea-tracing-sdk/src/main/java/io/conea/tracing/sdk/ConeaTracing.java")
            .normalize();
    try {
      Matcher matcher =
          Pattern.compile(
                  "defaults\\.put\\(\"" + Pattern.quote(property) + "\",\\s*\"([^\"]+)\"\\)")
              .matcher(Files.readString(source));
      return matcher.find() ? matcher.group(1) : fail("no default for %s in %s", property, source);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
