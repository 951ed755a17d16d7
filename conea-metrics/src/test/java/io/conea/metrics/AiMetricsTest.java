package io.conea.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
  void tenThousandCallsOverEveryModelProviderPairStayWithinTheCapOnCombinations() {
    AiMetrics ai = builder().build().ai();
    int cap = ConeaMetrics.DEFAULT_MAX_LABEL_COMBINATIONS;
    long inputTokens = 0;
    long outputTokens = 0;
    int failures = 0;
    try (LogCapture log = new LogCapture(ConeaMetrics.class)) {
      for (int m = 0; m < 100; m++) {
        for (int p = 0; p < 100; p++) {
          long in = 1 + (m * 100 + p) % 7;
          long out = 1 + (m * 100 + p) % 5;
          inputTokens += in;
          outputTokens += out;
          String provider = "provider-" + p;
          String model = "model-" + m;
          if ((m + p) % 10 == 0) {
            failures++;
            ai.record(AiCallOutcome.failure(provider, model, "E" + m % 3, SECOND, in, out, 0.001));
          } else {
            ai.record(AiCallOutcome.success(provider, model, SECOND, in, out, 0.001));
          }
        }
      }

      assertThat(log.warnings())
          .hasSize(4)
          .allSatisfy(w -> assertThat(w).contains("reached its cap of 500 label combinations"));
      for (String family :
          List.of(
              "ai_model_requests_total",
              "ai_tokens_total",
              "ai_cost_usd_total",
              "ai_processing_duration_seconds")) {
        assertThat(log.warnings()).filteredOn(w -> w.startsWith(family + " ")).hasSize(1);
      }
    }

    Samples samples = Samples.scrape(prometheus);
    for (String name :
        List.of(
            "ai_model_requests_total",
            "ai_tokens_total",
            "ai_cost_usd_total",
            "ai_processing_duration_seconds_bucket",
            "ai_processing_duration_seconds_count",
            "ai_processing_duration_seconds_sum")) {
      assertThat(pairs(samples, name)).as(name).hasSize(cap).contains("_OTHER/_OTHER");
    }
    assertThat(samples.named("ai_model_requests_total")).hasSizeLessThanOrEqualTo(2 * cap);
    assertThat(samples.named("ai_tokens_total")).hasSize(2 * cap);
    assertThat(samples.named("ai_cost_usd_total")).hasSize(cap);
    assertThat(samples.named("ai_model_errors_total")).hasSizeLessThanOrEqualTo(cap);
    // Per pair: 2 requests, 2 tokens, 1 cost, 12 buckets, count and sum; 200,000 uncapped.
    assertThat(samples.all()).filteredOn(x -> x.name().startsWith("ai_")).hasSize(19 * cap + 53);

    assertThat(samples.sum("ai_model_requests_total")).isEqualTo(10_000);
    assertThat(samples.sum("ai_processing_duration_seconds_count")).isEqualTo(10_000);
    assertThat(samples.sum("ai_model_errors_total")).isEqualTo(failures);
    assertThat(sumWhere(samples, "ai_tokens_total", "type", "input")).isEqualTo(inputTokens);
    assertThat(sumWhere(samples, "ai_tokens_total", "type", "output")).isEqualTo(outputTokens);
    assertThat(samples.sum("ai_cost_usd_total")).isCloseTo(10, within(1e-9));

    int collapsed = 10_000 - (cap - 1);
    assertThat(
            sumWhere(samples, "ai_model_requests_total", "model", "_OTHER", "provider", "_OTHER"))
        .isEqualTo(collapsed);
    for (String family :
        List.of(
            "ai_model_requests_total",
            "ai_tokens_total",
            "ai_cost_usd_total",
            "ai_processing_duration_seconds")) {
      assertThat(samples.value("conea_label_overflow_total", "meter", family))
          .as(family)
          .isEqualTo(collapsed);
    }
    assertThat(samples.labelValues("conea_label_overflow_total", "meter"))
        .doesNotContain("ai_model_errors_total");
  }

  @Test
  void pastTheCapNewCombinationsShareOneOverflowSeriesKeepingStatusAndType() {
    AiMetrics ai = builder().maxLabelCombinations(3).build().ai();
    try (LogCapture log = new LogCapture(ConeaMetrics.class)) {
      ai.record(AiCallOutcome.success("p1", "m1", SECOND, 10, 1, 0));
      ai.record(AiCallOutcome.success("p1", "m2", SECOND, 10, 1, 0));
      ai.record(AiCallOutcome.success("p2", "m1", SECOND, 20, 2, 0)); // collapsed
      ai.record(AiCallOutcome.failure("p3", "m3", "Timeout", SECOND, 40, 4, 0)); // collapsed
      ai.record(AiCallOutcome.success(null, null, SECOND, 100, 10, 0)); // _OTHER: not counted
      ai.record(AiCallOutcome.success("p1", "m1", SECOND, 10, 1, 0));
      ai.record(AiCallOutcome.failure("p1", "m1", "A", SECOND, 0, 0, 0));
      ai.record(AiCallOutcome.failure("p1", "m1", "B", SECOND, 0, 0, 0));
      ai.record(AiCallOutcome.failure("p1", "m2", "A", SECOND, 0, 0, 0)); // error collapsed
      ai.record(AiCallOutcome.failure("p1", "m1", "A", SECOND, 0, 0, 0));

      // Besides one each for the null provider and model:
      assertThat(log.warnings()).filteredOn(w -> w.contains("reached its cap")).hasSize(5);
      assertThat(log.warnings())
          .filteredOn(w -> w.startsWith("ai_model_requests_total "))
          .singleElement()
          .satisfies(
              w ->
                  assertThat(w)
                      .contains(
                          "reached its cap of 3 label combinations of model, provider",
                          "model=\"m1\", provider=\"p2\"",
                          "recorded as model=\"_OTHER\", provider=\"_OTHER\"",
                          "conea_label_overflow_total{meter=\"ai_model_requests_total\"}",
                          "Raise maxLabelCombinations"));
      assertThat(log.warnings())
          .filteredOn(w -> w.startsWith("ai_model_errors_total "))
          .singleElement()
          .satisfies(
              w ->
                  assertThat(w)
                      .contains(
                          "of model, provider, error_type",
                          "model=\"m1\", provider=\"p1\", error_type=\"B\""));
    }

    Samples samples = Samples.scrape(prometheus);
    assertThat(pairs(samples, "ai_model_requests_total"))
        .containsExactlyInAnyOrder("m1/p1", "m2/p1", "_OTHER/_OTHER");
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
    assertThat(
            samples.value(
                "ai_model_requests_total",
                "model",
                "_OTHER",
                "provider",
                "_OTHER",
                "status",
                "error"))
        .isEqualTo(1);
    assertThat(
            samples.value(
                "ai_tokens_total", "model", "_OTHER", "provider", "_OTHER", "type", "input"))
        .isEqualTo(160);
    assertThat(
            samples.value(
                "ai_tokens_total", "model", "_OTHER", "provider", "_OTHER", "type", "output"))
        .isEqualTo(16);
    assertThat(samples.sum("ai_model_requests_total")).isEqualTo(10);
    assertThat(samples.sum("ai_tokens_total")).isEqualTo(209);
    assertThat(samples.value("conea_label_overflow_total", "meter", "ai_tokens_total"))
        .isEqualTo(2);

    // (_OTHER, _OTHER, Timeout) and (m1, p1, A) took the two slots; B and (m2, p1, A) came past.
    assertThat(samples.named("ai_model_errors_total"))
        .extracting(
            s ->
                s.labels().get("model")
                    + "/"
                    + s.labels().get("provider")
                    + "/"
                    + s.labels().get("error_type")
                    + "="
                    + (long) s.value())
        .containsExactlyInAnyOrder(
            "_OTHER/_OTHER/Timeout=1", "m1/p1/A=2", "_OTHER/_OTHER/_OTHER=2");
    assertThat(samples.value("conea_label_overflow_total", "meter", "ai_model_errors_total"))
        .isEqualTo(2);
  }

  @Test
  void theCapOnCombinationsHoldsAndSumsStayExactUnderConcurrentRecording() throws Exception {
    AiMetrics ai = builder().maxLabelCombinations(50).build().ai();
    int threads = 4;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try (LogCapture log = new LogCapture(ConeaMetrics.class)) {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int offset = t * 37;
        done.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < 10_000; i++) {
                    int n = (i + offset) % 10_000;
                    ai.record(
                        AiCallOutcome.success(
                            "provider-" + n % 100, "model-" + n / 100, SECOND, 2, 1, 0));
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get(1, TimeUnit.MINUTES);
      }
      assertThat(log.warnings()).hasSize(4);
    } finally {
      pool.shutdownNow();
    }

    Samples samples = Samples.scrape(prometheus);
    assertThat(pairs(samples, "ai_model_requests_total")).hasSize(50);
    assertThat(samples.sum("ai_model_requests_total")).isEqualTo(40_000);
    assertThat(samples.sum("ai_tokens_total")).isEqualTo(120_000);
    assertThat(samples.value("conea_label_overflow_total", "meter", "ai_model_requests_total"))
        .isEqualTo(
            samples.value(
                "ai_model_requests_total",
                "model",
                "_OTHER",
                "provider",
                "_OTHER",
                "status",
                "success"));
  }

  /** The distinct {@code model/provider} pairs among the samples of {@code name}. */
  private static Set<String> pairs(Samples samples, String name) {
    Set<String> pairs = new HashSet<>();
    for (Samples.Sample sample : samples.named(name)) {
      pairs.add(sample.labels().get("model") + "/" + sample.labels().get("provider"));
    }
    return pairs;
  }

  /** The sum over the samples of {@code name} that have these labels, and maybe others. */
  private static double sumWhere(Samples samples, String name, String... keysAndValues) {
    double sum = 0;
    for (Samples.Sample sample : samples.named(name)) {
      if (sample.labels().entrySet().containsAll(Samples.labels(keysAndValues).entrySet())) {
        sum += sample.value();
      }
    }
    return sum;
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
