package io.conea.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conea.report.SloFile.Objective;
import io.conea.report.SloFile.Slo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SloFileTest {

  /** The guide's SLI/SLO blocks (SLI/SLO設定), verbatim. */
  static final String GUIDE =
      """
      slis:
        # 可用性
        availability:
          metric: |
            sum(rate(http_requests_total{status!~"5.."}[5m]))
            /
            sum(rate(http_requests_total[5m]))

        # レイテンシ
        latency:
          metric: |
            histogram_quantile(0.95,
              sum(rate(http_request_duration_seconds_bucket[5m])) by (le)
            )

        # エラー率
        error_rate:
          metric: |
            sum(rate(http_requests_total{status=~"5.."}[5m]))
            /
            sum(rate(http_requests_total[5m]))
      slos:
        - name: API Availability
          sli: availability
          target: 99.9
          window: 30d

        - name: API Latency
          sli: latency
          target_value: 0.5  # 500ms
          target_percentile: 95
          window: 30d

        - name: Error Budget
          sli: error_rate
          target: 0.1  # 0.1%
          window: 30d
      """;

  @TempDir Path dir;

  @Test
  void readsTheGuidesFormat() throws ReportException {
    SloFile file = SloFile.parse(GUIDE, "guide", Context.YAML);

    assertThat(file.slis()).containsOnlyKeys("availability", "latency", "error_rate");
    assertThat(file.slis().get("latency").metric())
        .isEqualTo(
            "histogram_quantile(0.95,\n  sum(rate(http_request_duration_seconds_bucket[5m])) by"
                + " (le)\n)");
    assertThat(file.slos())
        .containsExactly(
            new Slo(
                "API Availability", "availability", 99.9, null, null, "30d", Objective.AT_LEAST),
            new Slo("API Latency", "latency", null, 0.5, 95.0, "30d", Objective.AT_MOST),
            new Slo("Error Budget", "error_rate", 0.1, null, null, "30d", Objective.AT_MOST));
    assertThat(file.slos().get(0).percent()).isTrue();
    assertThat(file.slos().get(1).percent()).isFalse();
    assertThat(file.slos().get(1).threshold()).isEqualTo(0.5);
  }

  @Test
  void theShippedFileIsTheGuidesWithAnErrorRateThatReadsZeroWithoutErrors() throws Exception {
    SloFile guide = SloFile.parse(GUIDE, "guide", Context.YAML);
    SloFile shipped = SloFile.load(null, dir, Context.YAML);

    assertThat(shipped.source()).isEqualTo("built-in slos.yml");
    assertThat(shipped.slos()).isEqualTo(guide.slos());
    assertThat(shipped.slis().get("availability")).isEqualTo(guide.slis().get("availability"));
    assertThat(shipped.slis().get("latency")).isEqualTo(guide.slis().get("latency"));
    assertThat(shipped.slis().get("error_rate").metric())
        .contains("sum(rate(http_requests_total{status=~\"5..\"}[5m]))")
        .contains("or\n  sum(rate(http_requests_total[5m])) * 0");
  }

  @Test
  void theDefaultFileUnderTheWorkingDirectoryWinsOverTheBuiltInOne() throws Exception {
    Path file = dir.resolve("monitoring/slo/slos.yml");
    Files.createDirectories(file.getParent());
    Files.writeString(file, GUIDE.replace("target: 99.9", "target: 99.5"));

    SloFile loaded = SloFile.load(null, dir, Context.YAML);

    assertThat(loaded.source()).isEqualTo(Path.of("monitoring/slo/slos.yml").toString());
    assertThat(loaded.slos().get(0).target()).isEqualTo(99.5);
  }

  @Test
  void anExplicitFileIsResolvedAgainstTheWorkingDirectory() throws Exception {
    Files.writeString(dir.resolve("mine.yml"), GUIDE.replace("window: 30d", "window: 7d"));

    SloFile loaded = SloFile.load("mine.yml", dir, Context.YAML);

    assertThat(loaded.slos()).extracting(Slo::window).containsOnly("7d");
    assertThatThrownBy(() -> SloFile.load("missing.yml", dir, Context.YAML))
        .isInstanceOf(ReportException.class)
        .hasMessage("cannot read the SLO file missing.yml: no such file");
  }

  @Test
  void objectiveIsExplicitOrFollowsTheTargetAndTheSliName() throws ReportException {
    String text =
        """
        slis:
          ok: {metric: "sum(rate(good[5m])) / sum(rate(all[5m]))"}
          errors: {metric: "sum(rate(bad[5m])) / sum(rate(all[5m]))"}
          saturation: {metric: "avg(x)"}
        slos:
          - {name: a, sli: ok, target: 99}
          - {name: b, sli: errors, target: 1}
          - {name: c, sli: saturation, target_value: 0.8}
          - {name: d, sli: saturation, target: 20, objective: at_most}
          - {name: e, sli: saturation, target_value: 3, objective: at_least}
        """;

    SloFile file = SloFile.parse(text, "t.yml", Context.YAML);

    assertThat(file.slos())
        .extracting(Slo::objective)
        .containsExactly(
            Objective.AT_LEAST,
            Objective.AT_MOST,
            Objective.AT_MOST,
            Objective.AT_MOST,
            Objective.AT_LEAST);
    assertThat(file.slos()).extracting(Slo::window).containsOnly("30d");
  }

  @Test
  void mistakesAreReportedWithWhereTheyAre() {
    assertInvalid("slos: []", "t.yml: slis: must map each SLI's name to its metric");
    assertInvalid("slis: {a: {metric: up}}", "t.yml: slos: must be a list of SLOs");
    assertInvalid("- a\n- b", "t.yml: expected a mapping with slis: and slos:");
    assertInvalid("slis: [oops", "t.yml: not valid YAML:");
    assertInvalid(
        "slis: {a: {metric: up, query: up}}\nslos: [{name: x, sli: a, target: 1}]",
        "t.yml: slis.a: unknown key query (known: description, metric)");
    assertInvalid(
        "slis: {a: {description: nothing}}\nslos: [{name: x, sli: a, target: 1}]",
        "t.yml: slis.a: metric: is missing");
    assertInvalid(
        "slis: {a: {metric: up}}\nslos: [{name: x, sli: b, target: 1}]",
        "t.yml: slos[0] (x): sli: b is not in slis: (a)");
    assertInvalid(
        "slis: {a: {metric: up}}\nslos: [{name: x, sli: a, target: 1, target_value: 2}]",
        "t.yml: slos[0] (x): give either target: (a percentage) or target_value: (in the SLI's"
            + " unit)");
    assertInvalid(
        "slis: {a: {metric: up}}\nslos: [{name: x, sli: a}]",
        "t.yml: slos[0] (x): give either target:");
    assertInvalid(
        "slis: {a: {metric: up}}\nslos: [{name: x, sli: a, target: 150}]",
        "t.yml: slos[0] (x): target: is a percentage, from 0 to 100, not 150.0");
    assertInvalid(
        "slis: {a: {metric: up}}\nslos: [{name: x, sli: a, target: high}]",
        "t.yml: slos[0] (x): target: must be a number, not \"high\"");
    assertInvalid(
        "slis: {a: {metric: up}}\nslos: [{name: x, sli: a, target: 1, target_percentile: 95}]",
        "t.yml: slos[0] (x): target_percentile: goes with target_value:");
    assertInvalid(
        "slis: {a: {metric: up}}\nslos: [{name: x, sli: a, target_value: 1, target_percentile:"
            + " 100}]",
        "t.yml: slos[0] (x): target_percentile: is a percentile between 0 and 100");
    assertInvalid(
        "slis: {a: {metric: up}}\nslos: [{name: x, sli: a, target: 1, window: 30 days}]",
        "t.yml: slos[0] (x): window: 30 days is not a Prometheus duration such as 30d or 12h");
    assertInvalid(
        "slis: {a: {metric: up}}\nslos: [{name: x, sli: a, target: 1, objective: max}]",
        "t.yml: slos[0] (x): objective: is at_least or at_most, not max");
    assertInvalid(
        "slis: {a: {metric: up}}\nslos: [{name: x, sli: a, targt: 1}]",
        "t.yml: slos[0] (x): unknown key targt (known: description, name, objective, sli, target,"
            + " target_percentile, target_value, window)");
    assertInvalid(
        "slis: {a: {metric: up}}\nslos: [{sli: a, target: 1}]", "t.yml: slos[0]: name: is missing");
    assertInvalid(
        "slis: {a: {metric: up}}\nslos: [{name: x, sli: a, target: 1}, {name: x, sli: a, target:"
            + " 2}]",
        "t.yml: slos[1] (x): a second SLO named x");
  }

  private static void assertInvalid(String yaml, String message) {
    assertThatThrownBy(() -> SloFile.parse(yaml, "t.yml", Context.YAML))
        .isInstanceOf(ReportException.class)
        .hasMessageStartingWith(message)
        .satisfies(e -> assertThat(((ReportException) e).exitCode()).isEqualTo(2));
  }

  static Path write(Path dir, String name, String text) throws IOException {
    Path file = dir.resolve(name);
    Files.writeString(file, text);
    return file;
  }
}
