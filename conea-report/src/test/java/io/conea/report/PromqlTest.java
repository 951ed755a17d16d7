package io.conea.report;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PromqlTest {

  private static final String LATENCY =
      "histogram_quantile(0.95,\n  sum(rate(http_request_duration_seconds_bucket[5m])) by (le)\n)";

  @Test
  void everyRangeSelectorTakesTheWindowButSubqueriesStay() {
    String sli =
        "sum(rate(http_requests_total{status!~\"5..\"}[5m]))\n/\nsum(rate(http_requests_total[5m]))";

    assertThat(Promql.withRange(sli, "30d"))
        .isEqualTo(
            "sum(rate(http_requests_total{status!~\"5..\"}[30d]))\n/\n"
                + "sum(rate(http_requests_total[30d]))");
    assertThat(Promql.withRange("max_over_time(rate(x[1h30m])[30m:1m])", "7d"))
        .isEqualTo("max_over_time(rate(x[7d])[30m:1m])");
    assertThat(Promql.hasRange("up")).isFalse();
    assertThat(Promql.hasRange(sli)).isTrue();
  }

  @Test
  void quantileFollowsTheTargetPercentile() {
    assertThat(Promql.withQuantile(LATENCY, 0.99)).startsWith("histogram_quantile(0.99,");
    assertThat(Promql.withQuantile(LATENCY, 0.95)).isEqualTo(LATENCY);
    assertThat(Promql.withQuantile("sum(up)", 0.5)).isEqualTo("sum(up)");
  }

  @Test
  void slowShareReadsTheBucketOfTheTargetOverTheCount() {
    assertThat(Promql.slowShare(LATENCY, 0.5, "30d"))
        .isEqualTo(
            "1 - (sum(rate(http_request_duration_seconds_bucket{le=~\"0\\\\.50*\"}[30d]))"
                + " / sum(rate(http_request_duration_seconds_count[30d])))");
    assertThat(
            Promql.slowShare(
                "histogram_quantile(0.9, sum by (le) (rate(h_bucket{job=\"api\"}[5m])))", 1, "1h"))
        .isEqualTo(
            "1 - (sum(rate(h_bucket{job=\"api\", le=~\"1(\\\\.0+)?\"}[1h]))"
                + " / sum(rate(h_count{job=\"api\"}[1h])))");
    assertThat(Promql.slowShare("avg(x_bucket)", 0.5, "1h")).isNull();
    assertThat(Promql.slowShare("histogram_quantile(0.9, a_bucket + b_bucket)", 0.5, "1h"))
        .isNull();
  }

  @Test
  void durationsAreFullPrometheusDurationsAndNotZero() {
    assertThat(Promql.isDuration("30d")).isTrue();
    assertThat(Promql.isDuration("1h30m")).isTrue();
    assertThat(Promql.isDuration("500ms")).isTrue();
    assertThat(Promql.isDuration("30")).isFalse();
    assertThat(Promql.isDuration("0d")).isFalse();
    assertThat(Promql.isDuration("30 d")).isFalse();
    assertThat(Promql.isDuration("1.5h")).isFalse();
    assertThat(Promql.isDuration("5m]) or vector(1")).isFalse();
  }

  @Test
  void numbersArePlainWithoutTrailingZeros() {
    assertThat(Promql.number(0.95)).isEqualTo("0.95");
    assertThat(Promql.number(1.0)).isEqualTo("1");
    assertThat(Promql.number(99.9)).isEqualTo("99.9");
    assertThat(Promql.number(1e-7)).isEqualTo("0.0000001");
  }
}
