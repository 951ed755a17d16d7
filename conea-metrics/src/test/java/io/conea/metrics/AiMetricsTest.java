package io.conea.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AiMetricsTest {

  private static final long SECOND = 1_000_000_000L;

  private final PrometheusMetrics prometheus =
      PrometheusMetrics.builder().jvmMetrics(false).build();

  @AfterEach
  void close() {
    prometheus.close();
  }

  private ConeaMetrics.Builder builder() {
    return ConeaMetrics.builder(prometheus.registry());
  }

  @Test
  void recordsRequestsTokensDurationAndCostWithTheGuideLabels() {
    AiMetrics ai = builder().build().ai();
    ai.record(AiCallOutcome.success("openai", "gpt-4", 3 * SECOND, 1000, 250, 0.0375));
    ai.record(AiCallOutcome.failure("openai", "gpt-4", null, SECOND / 2, 800, 0, 0.024));

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelKeys("ai_model_requests_total"))
        .containsExactly(Set.of("model", "provider", "status"));
    assertThat(
            samples.value(
                "ai_model_requests_total",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "status",
                "success"))
        .isEqualTo(1);
    assertThat(
            samples.value(
                "ai_model_requests_total",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "status",
                "error"))
        .isEqualTo(1);
    assertThat(
            samples.value(
                "ai_tokens_total", "model", "gpt-4", "provider", "openai", "type", "input"))
        .isEqualTo(1800);
    assertThat(
            samples.value(
                "ai_tokens_total", "model", "gpt-4", "provider", "openai", "type", "output"))
        .isEqualTo(250);
    assertThat(samples.value("ai_cost_usd_total", "model", "gpt-4", "provider", "openai"))
        .isCloseTo(0.0615, within(1e-12));
    assertThat(
            samples.value(
                "ai_processing_duration_seconds_count", "model", "gpt-4", "provider", "openai"))
        .isEqualTo(2);
    assertThat(
            samples.value(
                "ai_processing_duration_seconds_sum", "model", "gpt-4", "provider", "openai"))
        .isEqualTo(3.5);
    assertThat(samples.comments())
        .contains(
            "# HELP ai_model_requests_total Total AI model requests",
            "# TYPE ai_model_requests_total counter",
            "# TYPE ai_tokens_total counter",
            "# TYPE ai_cost_usd_total counter",
            "# TYPE ai_processing_duration_seconds histogram");
  }

  @Test
  void summingTokensByModelGivesTheRealTotal() {
    AiMetrics ai = builder().build().ai();
    ai.record(AiCallOutcome.success("openai", "gpt-4", SECOND, 1000, 250, 0));
    ai.record(AiCallOutcome.success("azure", "gpt-4", SECOND, 10, 5, 0));
    ai.record(AiCallOutcome.success("meta", "llama-3", SECOND, 7, 3, 0));

    Samples samples = Samples.scrape(prometheus);
    double gpt4 =
        samples.named("ai_tokens_total").stream()
            .filter(s -> s.labels().get("model").equals("gpt-4"))
            .mapToDouble(Samples.Sample::value)
            .sum();
    assertThat(gpt4).isEqualTo(1265);
    assertThat(samples.sum("ai_tokens_total")).isEqualTo(1275);
  }

  @Test
  void durationHistogramHasBucketsForModelLatency() {
    AiMetrics ai = builder().build().ai();
    ai.record(AiCallOutcome.success("openai", "gpt-4", 45 * SECOND, 1, 1, 0));

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.named("ai_processing_duration_seconds_bucket"))
        .extracting(s -> s.labels().get("le"))
        .containsExactly(
            "0.1", "0.25", "0.5", "1.0", "2.0", "5.0", "10.0", "20.0", "30.0", "60.0", "120.0",
            "+Inf");
    assertThat(
            samples.value(
                "ai_processing_duration_seconds_bucket",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "le",
                "30.0"))
        .isEqualTo(0);
    assertThat(
            samples.value(
                "ai_processing_duration_seconds_bucket",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "le",
                "60.0"))
        .isEqualTo(1);
  }

  @Test
  void customAiBucketsAreUsed() {
    AiMetrics ai = builder().aiDurationBuckets(1, 10).build().ai();
    ai.record(AiCallOutcome.success("p", "m", SECOND, 0, 0, 0));

    assertThat(Samples.scrape(prometheus).named("ai_processing_duration_seconds_bucket"))
        .extracting(s -> s.labels().get("le"))
        .containsExactly("1.0", "10.0", "+Inf");
  }

  @Test
  void modelsAndProvidersPastTheCapAreRecordedAsOther() {
    AiMetrics ai = builder().maxLabelValues(2).build().ai();
    try (LogCapture log = new LogCapture(ConeaMetrics.class)) {
      for (String provider : List.of("p1", "p2", "p3", "p4")) {
        for (String model : List.of("m1", "m2", "m3")) {
          ai.record(AiCallOutcome.success(provider, model, SECOND, 1, 1, 0.5));
        }
      }

      assertThat(log.warnings())
          .hasSize(2)
          .anySatisfy(w -> assertThat(w).contains("More than 2 distinct provider values"))
          .anySatisfy(w -> assertThat(w).contains("More than 2 distinct model values"));
    }
    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelValues("ai_model_requests_total", "provider"))
        .containsExactlyInAnyOrder("p1", "p2", "_OTHER");
    assertThat(samples.labelValues("ai_model_requests_total", "model"))
        .containsExactlyInAnyOrder("m1", "m2", "_OTHER");
    assertThat(samples.sum("ai_model_requests_total")).isEqualTo(12);
    assertThat(samples.sum("ai_tokens_total")).isEqualTo(24);
    assertThat(samples.sum("ai_cost_usd_total")).isEqualTo(6);
    assertThat(
            samples.value(
                "ai_model_requests_total",
                "model",
                "_OTHER",
                "provider",
                "_OTHER",
                "status",
                "success"))
        .isEqualTo(2);
  }

  @Test
  void invalidNumbersAreSkippedWithOneWarningEachAndTheCallIsStillCounted() {
    AiMetrics ai = builder().build().ai();
    try (LogCapture log = new LogCapture(AiMetrics.class)) {
      ai.record(AiCallOutcome.success("openai", "gpt-4", -SECOND, -5, -6, Double.NaN));
      ai.record(AiCallOutcome.success("openai", "gpt-4", -SECOND, -5, -6, -1));
      ai.record(AiCallOutcome.success("openai", "gpt-4", SECOND, 0, 0, Double.POSITIVE_INFINITY));

      assertThat(log.warnings())
          .hasSize(4)
          .anySatisfy(w -> assertThat(w).contains("duration"))
          .anySatisfy(w -> assertThat(w).contains("input token count"))
          .anySatisfy(w -> assertThat(w).contains("output token count"))
          .anySatisfy(w -> assertThat(w).contains("cost (NaN)"));
    }
    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.sum("ai_model_requests_total")).isEqualTo(3);
    assertThat(samples.sum("ai_processing_duration_seconds_count")).isEqualTo(3);
    assertThat(samples.sum("ai_processing_duration_seconds_sum")).isEqualTo(1);
    assertThat(samples.sum("ai_tokens_total")).isEqualTo(0);
    assertThat(samples.sum("ai_cost_usd_total")).isEqualTo(0);
  }

  @Test
  void nullAndBlankNamesAreRecordedAsOther() {
    AiMetrics ai = builder().build().ai();
    ai.record(AiCallOutcome.success(null, null, SECOND, 1, 1, 0));
    ai.record(AiCallOutcome.failure(" ", "", null, SECOND, 1, 1, 0));
    ai.record(AiCallOutcome.success("x".repeat(10_000), "gpt-4", SECOND, 1, 1, 0));

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelValues("ai_model_requests_total", "provider"))
        .containsExactly("_OTHER");
    assertThat(samples.labelValues("ai_model_requests_total", "model"))
        .containsExactlyInAnyOrder("_OTHER", "gpt-4");
    assertThat(samples.sum("ai_model_requests_total")).isEqualTo(3);
  }

  @Test
  void failuresAreCountedByKindBesideTheGuidesStatusLabel() {
    AiMetrics ai = builder().build().ai();
    ai.record(AiCallOutcome.failure("openai", "gpt-4", "SocketTimeoutException", SECOND, 10, 0, 0));
    ai.record(AiCallOutcome.failure("openai", "gpt-4", "SocketTimeoutException", SECOND, 10, 0, 0));
    ai.record(AiCallOutcome.failure("openai", "gpt-4", null, SECOND, 0, 0, 0));
    ai.record(AiCallOutcome.success("openai", "gpt-4", SECOND, 0, 0, 0));

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelKeys("ai_model_requests_total"))
        .containsExactly(Set.of("model", "provider", "status"));
    assertThat(samples.labelKeys("ai_model_errors_total"))
        .containsExactly(Set.of("model", "provider", "error_type"));
    assertThat(
            samples.value(
                "ai_model_requests_total",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "status",
                "error"))
        .isEqualTo(3);
    assertThat(
            samples.value(
                "ai_model_errors_total",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "error_type",
                "SocketTimeoutException"))
        .isEqualTo(2);
    assertThat(
            samples.value(
                "ai_model_errors_total",
                "model",
                "gpt-4",
                "provider",
                "openai",
                "error_type",
                AiMetrics.UNKNOWN_ERROR))
        .isEqualTo(1);
    assertThat(samples.sum("ai_model_errors_total")).isEqualTo(3);
    assertThat(samples.comments()).contains("# TYPE ai_model_errors_total counter");
  }

  @Test
  void errorTypesPastTheCapAreRecordedAsOther() {
    AiMetrics ai = builder().maxLabelValues(2).build().ai();
    try (LogCapture log = new LogCapture(ConeaMetrics.class)) {
      for (String type : List.of("A", "B", "C", "D")) {
        ai.record(AiCallOutcome.failure("p", "m", type, SECOND, 0, 0, 0));
      }
      ai.record(AiCallOutcome.failure("p", "m", "E", SECOND, 0, 0, 0));
      ai.record(AiCallOutcome.failure("p", "m", null, SECOND, 0, 0, 0));

      assertThat(log.warnings())
          .singleElement()
          .satisfies(w -> assertThat(w).contains("More than 2 distinct error_type values"));
    }
    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelValues("ai_model_errors_total", "error_type"))
        .containsExactlyInAnyOrder("A", "B", "_OTHER", AiMetrics.UNKNOWN_ERROR);
    assertThat(samples.sum("ai_model_errors_total")).isEqualTo(6);
  }

  @Test
  void anOutcomeWithoutErrorTypeIsASuccessAndAFailureAlwaysHasOne() {
    AiCallOutcome success = AiCallOutcome.success("openai", "gpt-4", SECOND, 1000, 250, 0.045);
    AiCallOutcome failure = AiCallOutcome.failure("openai", "gpt-4", null, SECOND, 0, 0, 0);

    assertThat(success.succeeded()).isTrue();
    assertThat(success.errorType()).isNull();
    assertThat(success)
        .isEqualTo(new AiCallOutcome("openai", "gpt-4", null, SECOND, 1000, 250, 0.045));
    assertThat(failure.succeeded()).isFalse();
    assertThat(failure.errorType()).isEqualTo(AiMetrics.UNKNOWN_ERROR);
    assertThat(AiCallOutcome.failure("p", "m", "Timeout", 0, 0, 0, 0).errorType())
        .isEqualTo("Timeout");
  }
}
