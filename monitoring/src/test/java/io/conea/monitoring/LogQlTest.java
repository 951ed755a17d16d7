package io.conea.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The Loki semantics of {@link LogQl} that LogQueriesIT relies on, and {@link FluentBitConfig}'s
 * strict reading of the classic format, without Node.js or the demo.
 */
class LogQlTest {

  @Test
  void jsonFlattensNestedObjectsWithUnderscoresAndKeepsNumbersAsWritten() {
    Map<String, String> labels =
        LogQl.json(
            "{\"level\":\"info\",\"status\":500,\"cost\":1.50,\"big\":1e3,\"ok\":true,"
                + "\"metadata\":{\"model\":\"gpt-4\",\"usage\":{\"tokens\":1250}},"
                + "\"tags\":[\"a\",\"b\"],\"none\":null,\"http.method\":\"GET\",\"1st\":\"x\","
                + "\"message\":\"line\\nbreak \\u00e9\"}",
            Set.of());

    assertThat(labels)
        .containsExactly(
            entry("level", "info"),
            entry("status", "500"),
            entry("cost", "1.50"),
            entry("big", "1e3"),
            entry("ok", "true"),
            entry("metadata_model", "gpt-4"),
            entry("metadata_usage_tokens", "1250"),
            entry("http_method", "GET"),
            entry("_1st", "x"),
            entry("message", "line\nbreak é"));
  }

  @Test
  void jsonRenamesAKeyThatIsAlreadyAStreamLabel() {
    assertThat(LogQl.json("{\"app\":\"inner\",\"level\":\"info\"}", Set.of("app", "job")))
        .containsExactly(entry("app_extracted", "inner"), entry("level", "info"));
  }

  @Test
  void aLineThatIsNotOneJsonObjectGetsTheParserError() {
    for (String line : List.of("plain text", "\"a string\"", "{\"level\":\"info\"")) {
      assertThat(LogQl.json(line, Set.of()))
          .as(line)
          .containsEntry(LogQl.ERROR_LABEL, "JSONParserErr");
    }
  }

  @Test
  void numericFiltersDropMissingLabelsAndKeepUnparsableOnesWithAnError() {
    Map<String, String> missing = new HashMap<>(Map.of("level", "info"));
    Map<String, String> text = new HashMap<>(Map.of("status", "OK"));
    Map<String, String> errored = new HashMap<>(Map.of(LogQl.ERROR_LABEL, "JSONParserErr"));

    assertThat(LogQl.numeric(missing, "status", "Gte", 500)).isFalse();
    assertThat(LogQl.numeric(text, "status", "Gte", 500)).isTrue();
    assertThat(text).containsEntry(LogQl.ERROR_LABEL, "LabelFilterErr");
    assertThat(LogQl.numeric(errored, "status", "Gte", 500)).isTrue();
    assertThat(LogQl.numeric(Map.of("d", "1000"), "d", "Gtr", 1000)).isFalse();
    assertThat(LogQl.numeric(Map.of("d", "1000.5"), "d", "Gtr", 1000)).isTrue();
    assertThat(LogQl.numeric(Map.of("s", "500"), "s", "Gte", 500)).isTrue();
  }

  @Test
  void stringsAndDurationsReadAsLogQlWritesThem() {
    assertThat(LogQl.unquote("\"error\"")).isEqualTo("error");
    assertThat(LogQl.unquote("\"say \\\"hi\\\"\\t\\u00e9\"")).isEqualTo("say \"hi\"\té");
    assertThat(LogQl.unquote("`C:\\raw`")).isEqualTo("C:\\raw");
    assertThat(LogQl.duration("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(LogQl.duration("250ms")).isEqualTo(Duration.ofMillis(250));
  }

  @Test
  void aQueryIsEvaluatedFromItsSyntaxTree() {
    // {app="conea-api"} |= "error" | json | level="error", as @grafana/lezer-logql parses it.
    LogQl.Node tree =
        node(
            "LogQL",
            node(
                "Expr",
                node(
                    "LogExpr",
                    node(
                        "Selector",
                        node(
                            "Matchers",
                            node(
                                "Matcher",
                                leaf("Identifier", "app"),
                                leaf("Eq", "="),
                                leaf("String", "\"conea-api\"")))),
                    node(
                        "PipelineExpr",
                        node(
                            "PipelineExpr",
                            node(
                                "PipelineExpr",
                                node(
                                    "PipelineStage",
                                    node(
                                        "LineFilters",
                                        node(
                                            "LineFilter",
                                            node("Filter", leaf("PipeExact", "|=")),
                                            leaf("String", "\"error\""))))),
                            node(
                                "PipelineStage",
                                leaf("Pipe", "|"),
                                node("LabelParser", leaf("Json", "json")))),
                        node(
                            "PipelineStage",
                            leaf("Pipe", "|"),
                            node(
                                "LabelFilter",
                                node(
                                    "Matcher",
                                    leaf("Identifier", "level"),
                                    leaf("Eq", "="),
                                    leaf("String", "\"error\""))))))));
    LogQl.LogQuery query = (LogQl.LogQuery) LogQl.Query.of(tree);
    Map<String, String> api = Map.of("app", "conea-api");
    List<LogQl.Entry> entries =
        List.of(
            new LogQl.Entry(api, "{\"level\":\"error\",\"message\":\"boom\"}"),
            new LogQl.Entry(api, "{\"level\":\"info\",\"path\":\"/error\"}"),
            new LogQl.Entry(Map.of("app", "other"), "{\"level\":\"error\"}"),
            new LogQl.Entry(api, "error: not json"));

    assertThat(query.select(entries))
        .extracting(selected -> selected.entry().line())
        .containsExactly("{\"level\":\"error\",\"message\":\"boom\"}");
  }

  @Test
  void unsupportedLanguageIsRefusedNotGuessed() {
    LogQl.Node logfmt =
        node(
            "LogQL",
            node(
                "Expr",
                node(
                    "LogExpr",
                    node(
                        "Selector",
                        node(
                            "Matchers",
                            node(
                                "Matcher",
                                leaf("Identifier", "app"),
                                leaf("Eq", "="),
                                leaf("String", "\"x\"")))),
                    node(
                        "PipelineExpr",
                        node(
                            "PipelineStage",
                            leaf("Pipe", "|"),
                            node("LabelParser", leaf("Logfmt", "logfmt")))))));

    assertThatThrownBy(() -> LogQl.Query.of(logfmt))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("json");
  }

  @Test
  void fluentBitConfigIsReadStrictly() {
    FluentBitConfig config =
        FluentBitConfig.parse(
            "# comment\n[SERVICE]\n    Flush  1\n\n[OUTPUT]\n    Name  loki\n    Match kube.*\n"
                + "    Labels job=a, app=$kubernetes['labels']['app']\n");

    assertThat(config.plugin("OUTPUT", "loki").list("Labels"))
        .containsExactly("job=a", "app=$kubernetes['labels']['app']");
    assertThat(FluentBitConfig.accessor("$kubernetes['labels']['app']"))
        .containsExactly("kubernetes", "labels", "app");
    assertThat(FluentBitConfig.matches("kube.*", "kube.var.log.containers.a.log")).isTrue();
    assertThat(FluentBitConfig.matches("kube.*", "host.var.log")).isFalse();
    assertThatThrownBy(() -> FluentBitConfig.parse("Flush 1\n"))
        .hasMessageContaining("neither a section");
    assertThatThrownBy(() -> FluentBitConfig.parse("[SERVICE]\n\tFlush 1\n"))
        .hasMessageContaining("tab");
    assertThatThrownBy(() -> FluentBitConfig.parse("[SERVICE]\n    Flush 1\n  Daemon off\n"))
        .hasMessageContaining("indented differently");
    assertThatThrownBy(() -> FluentBitConfig.parse("[SERVICE]\n    Flush\n"))
        .hasMessageContaining("Key value");
    assertThatThrownBy(
            () ->
                FluentBitConfig.parse("[SERVICE]\n    Flush 1\n    flush 2\n")
                    .sections
                    .get(0)
                    .get("Flush"))
        .hasMessageContaining("2 times");
  }

  @Test
  void withoutDropSingleKeyTheLokiLineIsTheRecordAsJson() {
    FluentBitConfig config =
        FluentBitConfig.parse(
            "[OUTPUT]\n    Name loki\n    Labels job=x, app=$kubernetes['labels']['app']\n"
                + "    Remove_Keys kubernetes\n");

    FluentBitConfig.LokiEntry shipped = config.ship(KubernetesAssetsTest.criRecord("{\"a\":1}"));

    assertThat(shipped.labels()).containsExactly(entry("job", "x"), entry("app", "conea-api"));
    assertThat(shipped.line())
        .isEqualTo("{\"stream\":\"stdout\",\"_p\":\"F\",\"log\":\"{\\\"a\\\":1}\"}");
  }

  private static LogQl.Node node(String type, LogQl.Node... children) {
    return new LogQl.Node(type, "", List.of(children));
  }

  private static LogQl.Node leaf(String type, String text) {
    return new LogQl.Node(type, text, List.of());
  }
}
